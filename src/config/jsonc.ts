/** Parsers for the JSON-with-comments some MCP clients write. */
/** JSON with `//` and `/* *\/` comments and trailing commas, as VS Code and Gemini write it. */
export function parseJsonc(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    // Not plain JSON: strip comments and trailing commas below, then parse again.
  }
  let out = '';
  let i = 0;
  while (i < body.length) {
    const c = body[i] ?? '';
    if (c === '"') {
      let end = i + 1;
      while (end < body.length && body[end] !== '"') end += body[end] === '\\' ? 2 : 1;
      out += body.slice(i, end + 1);
      i = end + 1;
    } else if (c === '/' && body[i + 1] === '/') {
      while (i < body.length && body[i] !== '\n') i++;
    } else if (c === '/' && body[i + 1] === '*') {
      const end = body.indexOf('*/', i + 2);
      i = end < 0 ? body.length : end + 2;
      out += ' ';
    } else {
      if (c === '}' || c === ']') out = withoutTrailingComma(out);
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
}

function withoutTrailingComma(text: string): string {
  let end = text.length - 1;
  while (end >= 0 && /\s/.test(text[end] ?? '')) end--;
  return text[end] === ',' ? text.slice(0, end) + text.slice(end + 1) : text;
}
