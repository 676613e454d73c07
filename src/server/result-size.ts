import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * The most bytes of JSON one tool result may take. MCP clients built on the TypeScript SDK
 * drop the whole connection on a stdio message over 10 MiB (the limit of its read buffer),
 * and the bridge ends with it. The output limits count characters, and one character can
 * cost up to 13 bytes of a result (a control character is a 6-byte `\u0000` escape in
 * structuredContent and a 7-byte one in a text that is itself JSON or TOON), so those
 * limits alone do not keep a result under 10 MiB: printing binary data would be enough.
 */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024;

/** A call's output as rendered into its result. */
export interface OutputTexts {
  stdout: string;
  stderr: string;
}

/** The size of a result as the MCP transport sends it. */
export function resultBytes(result: CallToolResult): number {
  return Buffer.byteLength(JSON.stringify(result));
}

/**
 * Renders `texts` with `render`; when the result would be over `maxBytes` of JSON, cuts
 * each text to its beginning, in proportion, with a marker saying how much was dropped.
 */
export function renderWithinLimit(
  texts: OutputTexts,
  render: (texts: OutputTexts) => CallToolResult,
  maxBytes = MAX_RESULT_BYTES,
): CallToolResult {
  let result = render(texts);
  let size = resultBytes(result);
  let keep = 1;
  // Sizes are close to proportional to the kept text, so this ends in one or two rounds.
  for (let round = 0; size > maxBytes && round < 8; round += 1) {
    keep *= (maxBytes / size) * 0.95;
    result = render(cutTexts(texts, keep, maxBytes));
    size = resultBytes(result);
  }
  return size > maxBytes ? render(cutTexts(texts, 0, maxBytes)) : result;
}

function cutTexts(texts: OutputTexts, keep: number, maxBytes: number): OutputTexts {
  return {
    stdout: cutText(texts.stdout, keep, maxBytes),
    stderr: cutText(texts.stderr, keep, maxBytes),
  };
}

function cutText(text: string, keep: number, maxBytes: number): string {
  let end = Math.floor(text.length * keep);
  if (end >= text.length) return text;
  // Never end on half a surrogate pair: a lone surrogate is not valid text.
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  const kept = text.slice(0, end);
  const separator = kept === '' || kept.endsWith('\n') ? '' : '\n';
  const dropped = (text.length - end).toLocaleString('en-US');
  const limit = maxBytes.toLocaleString('en-US');
  return `${kept}${separator}[output truncated: ${dropped} more characters dropped; a result is at most ${limit} bytes of JSON, and binary or control characters take up to 13 bytes each]\n`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
