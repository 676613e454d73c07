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
 * the texts to their beginnings, each with a marker saying how much was dropped. The
 * allowance is shared by bytes of JSON, not characters: a small stream stays whole and
 * the costly one (binary output) is cut.
 */
export function renderWithinLimit(
  texts: OutputTexts,
  render: (texts: OutputTexts) => CallToolResult,
  maxBytes = MAX_RESULT_BYTES,
): CallToolResult {
  let result = render(texts);
  let size = resultBytes(result);
  const costs = { stdout: jsonBytes(texts.stdout), stderr: jsonBytes(texts.stderr) };
  let allowance = costs.stdout + costs.stderr;
  // The result is close to proportional to what it keeps: one or two rounds suffice.
  for (let round = 0; size > maxBytes && round < 8; round += 1) {
    allowance *= (maxBytes / size) * 0.95;
    const small = Math.min(costs.stdout, costs.stderr, allowance / 2);
    const share = (stream: keyof OutputTexts) =>
      costs[stream] <= small ? 1 : (allowance - small) / costs[stream];
    result = render({
      stdout: cutText(texts.stdout, share('stdout'), maxBytes),
      stderr: cutText(texts.stderr, share('stderr'), maxBytes),
    });
    size = resultBytes(result);
  }
  if (size <= maxBytes) return result;
  return render({
    stdout: cutText(texts.stdout, 0, maxBytes),
    stderr: cutText(texts.stderr, 0, maxBytes),
  });
}

function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

/** The marker the output limit already put at the end of a text (OutputCollector). */
const LIMIT_MARKER = /\[output truncated: [^\n]*\]\n?$/;

function cutText(text: string, keep: number, maxBytes: number): string {
  // The body is cut; a marker of the output limit stays last, since it says the most.
  const earlier = LIMIT_MARKER.exec(text);
  const body = earlier ? text.slice(0, earlier.index) : text;
  let end = Math.floor(body.length * keep);
  if (end >= body.length) return text;
  // Never end on half a surrogate pair: a lone surrogate is not valid text.
  if (end > 0 && isHighSurrogate(body.charCodeAt(end - 1))) end -= 1;
  const kept = body.slice(0, end);
  const separator = kept === '' || kept.endsWith('\n') ? '' : '\n';
  const dropped = (body.length - end).toLocaleString('en-US');
  const limit = maxBytes.toLocaleString('en-US');
  const marker = `[output truncated: ${dropped} more characters dropped; a result is at most ${limit} bytes of JSON, and binary or control characters take up to 13 bytes each]\n`;
  return `${kept}${separator}${marker}${earlier?.[0] ?? ''}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
