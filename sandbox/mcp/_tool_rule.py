"""What a saved tool may be: one plain function definition, nothing that runs when it is
loaded, and a name that hides nothing (docs/servers.md, "Saved tools").

Every new session loads the saved tools into `__main__` before the agent's first cell.
Loading a `def` evaluates its decorators, default values and (before Python 3.14) its
annotations, and binds its name: so a saved tool could run code at every session start,
or replace `print` or `runtime` for every later session, without running anything. The
rule leaves only what is inert to define:

- the source is exactly one `def` or `async def` at its very start, nothing before or
  after it at module level, and every line after the first line of the body is indented,
  blank or a comment (so its end can be found by its indentation alone);
- no decorators, no type parameters;
- default values are literals: numbers (with a sign), strings, bytes, True, False, None,
  `...`, or tuples of these;
- annotations are a name, a dotted name, None or a string (others can be quoted), and
  are not evaluated at load anyway (the loader compiles with postponed annotations);
- the name is an ASCII identifier, not a keyword, not a dunder, not a builtin, not a
  name the sandbox provides (`runtime`, `save_tool`, `mcp`, `mcp_*`, ...).

`save_tool` checks this in the session; the host checks it again in TypeScript
(src/state/tool-rule.ts: a sandbox may lie about its own check), and the loader checks
it once more, in a fresh sandbox, before it runs anything: tools stored by older
versions that fail it are quarantined there, never run.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import warnings

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}\Z")
START = re.compile(r"(?:async[ \t]+)?def[ \t]")
# Control characters other than tab and newline: a form feed resets Python's idea of a
# line's indentation, a carriage return ends a line. Neither is needed in source.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Globals every cell finds in __main__ (mcp/_install.py); `mcp_<alias>` are server proxies.
PROVIDED = frozenset({"runtime", "save_tool", "mcp", "mcp_servers", "LOADED_MCP_SERVERS"})
PROVIDED_PREFIX = "mcp_"
MAX_LITERAL_DEPTH = 10

LITERAL_HELP = "a number, string, bytes, True, False, None, ... or a tuple of these"
ANNOTATION_HELP = "a name, a dotted name, None or a string: put others in quotes, e.g. 'list[int]'"


def name_problem(name: object) -> str | None:
    """Why `name` cannot name a saved tool, or None."""
    if not isinstance(name, str) or not NAME.match(name):
        return (
            f"{name!r} is not a valid tool name "
            "(an ASCII Python identifier, at most 100 characters)"
        )
    if keyword.iskeyword(name):
        return f"'{name}' is a Python keyword"
    if name.startswith("__") and name.endswith("__"):
        return f"'{name}' is a dunder name, reserved for Python itself"
    if hasattr(builtins, name):
        return (
            f"'{name}' is a Python builtin: a saved tool of that name would replace it "
            "in every later session"
        )
    if name in PROVIDED or name.startswith(PROVIDED_PREFIX):
        return (
            f"'{name}' is provided by the sandbox: a saved tool of that name would hide it "
            "in every later session"
        )
    return None


def tool_problem(name: object, source: object) -> str | None:
    """Why `source` cannot be kept as the saved tool `name`, or None if it follows the rule."""
    problem = name_problem(name)
    if problem is not None:
        return problem
    if not isinstance(source, str) or not source.strip():
        return "its source is empty or not text"
    control = CONTROL.search(source)
    if control:
        return (
            f"its source contains the control character {control.group()!r}: only tabs "
            "and newlines (\\n) may appear as such (write others as escapes)"
        )
    if source.lstrip().startswith("@"):
        return _DECORATORS
    if not START.match(source):
        return _SINGLE_DEF
    try:
        with warnings.catch_warnings():  # e.g. invalid escapes: not the rule's business
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except SyntaxError as error:
        return f"its source does not compile: {error.msg} (line {error.lineno})"
    except (ValueError, UnicodeError, RecursionError, MemoryError) as error:
        return f"its source does not compile: {type(error).__name__}: {error}"
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _SINGLE_DEF
    # Its layout check refuses any later module-level statement, as the host does; the
    # count below is the plain statement of the rule.
    problem = _definition_problem(tree.body[0], str(name), source)
    return problem or (_SINGLE_DEF if len(tree.body) != 1 else None)


_DECORATORS = "a saved tool cannot have decorators: they would run whenever the tool is loaded"
_SINGLE_DEF = (
    "a saved tool must be a single function definition: `def name(...):` at the very start "
    "and its indented body, with nothing before or after it at module level"
)


def _definition_problem(
    function: ast.FunctionDef | ast.AsyncFunctionDef, name: str, source: str
) -> str | None:
    if function.name != name:
        return f"its source defines '{function.name}', not '{name}'"
    if function.decorator_list:
        return _DECORATORS
    if getattr(function, "type_params", None):
        return "a saved tool cannot have type parameters"
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults = zip(positional[len(positional) - len(args.defaults) :], args.defaults)
    keyword_defaults = zip(args.kwonlyargs, args.kw_defaults)
    for arg, default in [*defaults, *keyword_defaults]:
        if default is not None and not _literal(default, 0):
            return (
                f"the default value of '{arg.arg}' must be a literal ({LITERAL_HELP}): "
                "defaults are evaluated whenever the tool is loaded"
            )
    every = [a for a in (*positional, args.vararg, *args.kwonlyargs, args.kwarg) if a is not None]
    if not all(a.arg.isascii() for a in every):
        return "the def line may only hold ASCII names, numbers and plain strings"
    for a in every:
        if a.annotation is not None and not _plain(a.annotation):
            return f"the annotation of '{a.arg}' may only be {ANNOTATION_HELP}"
    if function.returns is not None and not _plain(function.returns):
        return f"the return annotation may only be {ANNOTATION_HELP}"
    return _layout_problem(function.body[0].lineno, source)


def _layout_problem(first_body_line: int, source: str) -> str | None:
    """After the body's first line, every line is indented, blank or a comment: the
    host finds where the function ends by this alone (it does not parse the body)."""
    for number, line in enumerate(source.split("\n"), start=1):
        if number > first_body_line and line and line[0] not in " \t#":
            return (
                f"line {number} is not indented: after the def line, every line must be "
                "indented, blank or a comment (so the function's end is found without "
                "parsing it); indent multi-line strings or build them with \\n"
            )
    return None


def _literal(node: ast.expr, depth: int) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = node.operand
        return isinstance(operand, ast.Constant) and type(operand.value) in (int, float, complex)
    if isinstance(node, ast.Tuple) and depth < MAX_LITERAL_DEPTH:
        return all(_literal(item, depth + 1) for item in node.elts)
    return False


def _plain(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, str)
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)
