import { PYTHON_KEYWORDS, readDefLine } from './python-def-line.js';

/**
 * The rule a saved tool must follow, checked by the host before it stores anything (the
 * same rule as sandbox/mcp/_tool_rule.py, which explains it; keep the two in step).
 *
 * Why the host can check it without Python: loading a tool runs only its `def` line
 * (decorators, defaults, annotations) and binds its name. The host reads that line itself
 * (python-def-line.ts, which refuses whatever it does not fully understand), and finds
 * the end of the function by indentation alone: every line after the def line must be
 * indented, blank or a comment. Python starts a module-level statement only on a line
 * that begins at column 0 (a form feed would reset the column, so control characters are
 * refused), hence nothing after the def line can be at module level. The body is never
 * parsed: it runs only when the agent calls the tool.
 */

/** Python identifiers, ASCII only: the name is also a file name on the host. */
export const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** Globals every cell finds in `__main__` (sandbox/mcp/_install.py); `mcp_<alias>` are proxies. */
const PROVIDED = new Set(['runtime', 'save_tool', 'mcp', 'mcp_servers', 'LOADED_MCP_SERVERS']);
const PROVIDED_PREFIX = 'mcp_';

/** `dir(builtins)` of CPython 3.8 to 3.14, less dunders; the sandbox adds its own interpreter's. */
export const PYTHON_BUILTINS: ReadonlySet<string> = new Set(
  (
    'ArithmeticError AssertionError AttributeError BaseException BaseExceptionGroup ' +
    'BlockingIOError BrokenPipeError BufferError BytesWarning ChildProcessError ' +
    'ConnectionAbortedError ConnectionError ConnectionRefusedError ConnectionResetError ' +
    'DeprecationWarning EOFError Ellipsis EncodingWarning EnvironmentError Exception ' +
    'ExceptionGroup False FileExistsError FileNotFoundError FloatingPointError FutureWarning ' +
    'GeneratorExit IOError ImportError ImportWarning IndentationError IndexError ' +
    'InterruptedError IsADirectoryError KeyError KeyboardInterrupt LookupError MemoryError ' +
    'ModuleNotFoundError NameError None NotADirectoryError NotImplemented ' +
    'NotImplementedError OSError OverflowError PendingDeprecationWarning PermissionError ' +
    'ProcessLookupError PythonFinalizationError RecursionError ReferenceError ' +
    'ResourceWarning RuntimeError RuntimeWarning StopAsyncIteration StopIteration ' +
    'SyntaxError SyntaxWarning SystemError SystemExit TabError TimeoutError True TypeError ' +
    'UnboundLocalError UnicodeDecodeError UnicodeEncodeError UnicodeError ' +
    'UnicodeTranslateError UnicodeWarning UserWarning ValueError Warning ZeroDivisionError ' +
    '_IncompleteInputError abs aiter all anext any ascii bin bool breakpoint bytearray bytes ' +
    'callable chr classmethod compile complex copyright credits delattr dict dir divmod ' +
    'enumerate eval exec exit filter float format frozenset getattr globals hasattr hash ' +
    'help hex id input int isinstance issubclass iter len license list locals map max ' +
    'memoryview min next object oct open ord pow print property quit range repr reversed ' +
    'round set setattr slice sorted staticmethod str sum super tuple type vars zip'
  ).split(' '),
);

/** What `def` must start with (at the first character: nothing before it). */
const START = /^(?:async[ \t]+)?def[ \t]/;
/** Control characters but tab and newline: a form feed resets a line's indentation. */
function firstControlCharacter(source: string): string | undefined {
  for (const char of source) {
    const code = char.charCodeAt(0);
    if ((code < 0x20 && char !== '\t' && char !== '\n') || code === 0x7f) return char;
  }
  return undefined;
}
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const SINGLE_DEF =
  'a saved tool must be a single function definition: `def name(...):` at the very start and its indented body, with nothing before or after it at module level';

const DECORATORS =
  'a saved tool cannot have decorators: they would run whenever the tool is loaded';

/** Why `name` cannot name a saved tool, or undefined. */
export function toolNameProblem(name: string): string | undefined {
  if (!TOOL_NAME.test(name)) {
    return `${JSON.stringify(name)} is not a valid tool name (an ASCII Python identifier, at most 100 characters)`;
  }
  if (PYTHON_KEYWORDS.has(name)) return `'${name}' is a Python keyword`;
  if (name.startsWith('__') && name.endsWith('__')) {
    return `'${name}' is a dunder name, reserved for Python itself`;
  }
  if (PYTHON_BUILTINS.has(name)) {
    return `'${name}' is a Python builtin: a saved tool of that name would replace it in every later session`;
  }
  if (PROVIDED.has(name) || name.startsWith(PROVIDED_PREFIX)) {
    return `'${name}' is provided by the sandbox: a saved tool of that name would hide it in every later session`;
  }
  return undefined;
}

/** Why `source` cannot be kept as the saved tool `name`, or undefined if it follows the rule. */
export function toolSourceProblem(name: string, source: string): string | undefined {
  const nameProblem = toolNameProblem(name);
  if (nameProblem) return nameProblem;
  if (source.trim() === '') return 'its source is empty or not text';
  const control = firstControlCharacter(source);
  if (control !== undefined) {
    return `its source contains the control character ${JSON.stringify(control)}: only tabs and newlines (\\n) may appear as such (write others as escapes)`;
  }
  if (LONE_SURROGATE.test(source)) return 'its source is not valid Unicode text';
  if (source.trimStart().startsWith('@')) return DECORATORS;
  if (!START.test(source)) return SINGLE_DEF;
  const header = readDefLine(source);
  if (!header.ok) return header.problem;
  if (header.line.name !== name) {
    return `its source defines '${header.line.name}', not '${name}'`;
  }
  return layoutProblem(source, header.line.end);
}

/** Every line after the one holding the header's `:` is indented, blank or a comment. */
function layoutProblem(source: string, headerEnd: number): string | undefined {
  if (!/\S/.test(source.slice(headerEnd).replace(/#[^\n]*/g, ''))) {
    return 'the function has no body';
  }
  const lines = source.split('\n');
  const headerLine = source.slice(0, headerEnd).split('\n').length;
  for (let number = headerLine + 1; number <= lines.length; number += 1) {
    const first = lines[number - 1]?.[0];
    if (first !== undefined && !' \t#'.includes(first)) {
      return `line ${number} is not indented: after the def line, every line must be indented, blank or a comment (so the function's end is found without parsing it); indent multi-line strings or build them with \\n`;
    }
  }
  return undefined;
}
