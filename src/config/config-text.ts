import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { parse as parseTomlDocument, TomlError } from 'smol-toml';
import { BridgeError } from '../errors.js';

/**
 * The text of a server config file, parsed whole or not at all: any syntax error throws
 * ConfigSyntaxError with its line and column, and nothing of the file is used. The bridge's
 * own files are strict JSON; other clients' files are JSON with comments and trailing
 * commas (VS Code, Gemini) or TOML (Codex).
 */

/** A config file's text does not parse; `line` and `column` count from 1. */
export class ConfigSyntaxError extends BridgeError {
  readonly line: number;
  readonly column: number;

  constructor(format: string, where: { line: number; column: number }, reason: string) {
    super(
      'config_file_syntax',
      `not valid ${format} at line ${where.line}, column ${where.column} (${where.line}:${where.column}): ${reason}`,
    );
    this.line = where.line;
    this.column = where.column;
  }
}

/** Strict JSON, as JSON.parse reads it. */
export function parseJson(text: string): unknown {
  return parseJsonLike(text, 'JSON', { disallowComments: true, allowTrailingComma: false });
}

/** JSON with `//` and `/* *\/` comments and trailing commas, as VS Code and Gemini write it. */
export function parseJsonc(text: string): unknown {
  return parseJsonLike(text, 'JSON with comments', {
    disallowComments: false,
    allowTrailingComma: true,
  });
}

/** TOML 1.0 (Codex's config.toml). */
export function parseToml(text: string): Record<string, unknown> {
  try {
    return parseTomlDocument(text, {
      // A key that could reach Object.prototype refuses the file rather than being dropped.
      unsafeKeyBehaviour: 'throw',
      // Large integers elsewhere in the file must not make it unreadable.
      integersAsBigInt: 'asNeeded',
    });
  } catch (error: unknown) {
    if (!(error instanceof TomlError)) throw error;
    // The message repeats the position and quotes the lines around it: its first line only.
    const reason = (error.message.split('\n', 1)[0] ?? '').replace(/^Invalid TOML document: /, '');
    throw new ConfigSyntaxError('TOML', error, reason);
  }
}

function parseJsonLike(
  text: string,
  format: string,
  options: { disallowComments: boolean; allowTrailingComma: boolean },
): unknown {
  // Editors do not count a byte order mark as a column: positions are those of the rest.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const errors: ParseError[] = [];
  const root = parseTree(body, errors, { ...options, allowEmptyContent: false });
  // The parser recovers from errors and would return what it could read: that is refused.
  const first = errors[0];
  if (first) throw new ConfigSyntaxError(format, position(body, first.offset), describe(first));
  if (!root) throw new ConfigSyntaxError(format, { line: 1, column: 1 }, 'the file is empty');
  return valueOf(root);
}

/**
 * The value of a parsed node. Objects are built as JSON.parse builds them: a `__proto__`
 * key becomes an own property, never the object's prototype.
 */
function valueOf(node: Node): unknown {
  if (node.type === 'object') {
    return Object.fromEntries(
      (node.children ?? []).map((property) => {
        const [key, value] = property.children ?? [];
        return [String(key?.value), value ? valueOf(value) : undefined];
      }),
    );
  }
  if (node.type === 'array') return (node.children ?? []).map(valueOf);
  return node.value;
}

/** `CloseBraceExpected` → "close brace expected". */
function describe(error: ParseError): string {
  return printParseErrorCode(error.error)
    .replace(/(?<=[a-z])(?=[A-Z])/g, ' ')
    .toLowerCase();
}

function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}
