import { isRecord } from '../util/is-record.js';

export type TomlValue = string | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

/**
 * The TOML subset Codex uses for `[mcp_servers.<name>]`: tables, dotted and quoted keys,
 * strings, booleans, arrays and inline tables of those. Any other line is skipped.
 */
export function parseTomlSubset(text: string): TomlTable {
  const root: TomlTable = {};
  const reader = new TomlReader(text);
  let table: TomlTable | undefined = root;
  while (reader.skipBlank()) {
    const start = reader.pos;
    const header = reader.peek() === '[';
    try {
      if (header) {
        // `[[array.of.tables]]` is outside the subset: its keys are skipped with it.
        table = undefined;
        if (reader.peek(1) === '[') throw new TomlUnsupported();
        reader.expect('[');
        const keys = reader.keyPath();
        reader.expect(']');
        reader.endOfLine();
        table = descend(root, keys);
      } else {
        const keys = reader.keyPath();
        reader.expect('=');
        const value = reader.value();
        reader.endOfLine();
        const last = keys.pop() ?? '';
        if (table) {
          const parent = descend(table, keys);
          if (!Object.hasOwn(parent, last)) parent[last] = value;
        }
      }
    } catch (error: unknown) {
      if (!(error instanceof TomlUnsupported)) throw error;
      reader.pos = start;
      reader.skipLine();
    }
  }
  return root;
}

class TomlUnsupported extends Error {}

function descend(table: TomlTable, keys: string[]): TomlTable {
  let current = table;
  for (const key of keys) {
    const next: TomlValue | undefined = Object.hasOwn(current, key) ? current[key] : {};
    if (!isRecord(next)) throw new TomlUnsupported();
    current[key] = next;
    current = next;
  }
  return current;
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r' };

class TomlReader {
  pos = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  peek(offset = 0): string {
    return this.#text[this.pos + offset] ?? '';
  }

  /** Skips spaces, newlines and comments; false at the end of the text. */
  skipBlank(newlines = true): boolean {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) this.pos++;
      else if (c === '#') while (this.pos < this.#text.length && this.peek() !== '\n') this.pos++;
      else return this.pos < this.#text.length;
    }
  }

  skipLine(): void {
    while (this.pos < this.#text.length && this.peek() !== '\n') this.pos++;
  }

  expect(token: string): void {
    this.skipBlank(false);
    if (this.peek() !== token) throw new TomlUnsupported();
    this.pos++;
  }

  endOfLine(): void {
    this.skipBlank(false);
    if (!['\n', '\r', ''].includes(this.peek())) throw new TomlUnsupported();
  }

  keyPath(): string[] {
    const keys: string[] = [];
    for (;;) {
      this.skipBlank(false);
      const c = this.peek();
      let key: string;
      if (c === '"' || c === "'") key = this.string();
      else {
        key = /^[A-Za-z0-9_-]*/.exec(this.#text.slice(this.pos, this.pos + 256))?.[0] ?? '';
        this.pos += key.length;
      }
      // Security: `__proto__` would reach Object.prototype through a plain object.
      if (key === '' || key === '__proto__') throw new TomlUnsupported();
      keys.push(key);
      this.skipBlank(false);
      if (this.peek() !== '.') return keys;
      this.pos++;
    }
  }

  value(): TomlValue {
    this.skipBlank(false);
    const c = this.peek();
    if (c === '"' || c === "'") return this.string();
    if (c === '[') return this.list();
    if (c === '{') return this.inlineTable();
    for (const literal of ['true', 'false']) {
      if (this.#text.startsWith(literal, this.pos) && !/[\w-]/.test(this.peek(literal.length))) {
        this.pos += literal.length;
        return literal === 'true';
      }
    }
    throw new TomlUnsupported();
  }

  string(): string {
    const quote = this.peek();
    const multiline = this.#text.startsWith(quote.repeat(3), this.pos);
    const delimiter = multiline ? quote.repeat(3) : quote;
    this.pos += delimiter.length;
    if (multiline && this.peek() === '\n') this.pos++;
    let out = '';
    while (!this.#text.startsWith(delimiter, this.pos)) {
      const c = this.peek();
      if (c === '' || (c === '\n' && !multiline)) throw new TomlUnsupported();
      this.pos++;
      if (c !== '\\' || quote === "'") {
        out += c;
        continue;
      }
      const escape = this.peek();
      const hex = escape === 'u' ? 4 : escape === 'U' ? 8 : 0;
      if (hex > 0) {
        const code = Number.parseInt(this.#text.slice(this.pos + 1, this.pos + 1 + hex), 16);
        if (!Number.isInteger(code) || code > 0x10ffff) throw new TomlUnsupported();
        out += String.fromCodePoint(code);
        this.pos += hex + 1;
      } else if (escape === '"' || escape === '\\' || escape in ESCAPES) {
        out += ESCAPES[escape] ?? escape;
        this.pos++;
      } else throw new TomlUnsupported();
    }
    this.pos += delimiter.length;
    return out;
  }

  list(): TomlValue[] {
    this.pos++;
    const items: TomlValue[] = [];
    while (this.skipBlank() && this.peek() !== ']') {
      items.push(this.value());
      this.skipBlank();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ']') throw new TomlUnsupported();
    }
    this.expect(']');
    return items;
  }

  inlineTable(): TomlTable {
    this.pos++;
    const table: TomlTable = {};
    while (this.skipBlank(false) && this.peek() !== '}') {
      const keys = this.keyPath();
      this.expect('=');
      const value = this.value();
      const last = keys.pop() ?? '';
      descend(table, keys)[last] = value;
      this.skipBlank(false);
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') throw new TomlUnsupported();
    }
    this.expect('}');
    return table;
  }
}
