import { encode } from '@toon-format/toon';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { outputLines, trimPayload, type RunPayload } from './payload.js';
import { MAX_RESULT_BYTES, renderWithinLimit } from './result-size.js';

export type OutputMode = 'compact' | 'toon';

/**
 * Renders a payload as an MCP tool result; `isError` for every status but success.
 * Security: the sandbox decides what its output is made of; the output is cut further
 * when the result would not fit in one message a client accepts (result-size.ts).
 */
export function renderResult(
  payload: RunPayload,
  mode: OutputMode,
  maxBytes = MAX_RESULT_BYTES,
): CallToolResult {
  const texts = {
    stdout: (payload.stdout ?? []).join('\n'),
    stderr: (payload.stderr ?? []).join('\n'),
  };
  return renderWithinLimit(
    texts,
    (kept) =>
      renderPayload(
        {
          ...payload,
          stdout: kept.stdout === texts.stdout ? payload.stdout : outputLines(kept.stdout),
          stderr: kept.stderr === texts.stderr ? payload.stderr : outputLines(kept.stderr),
        },
        mode,
      ),
    maxBytes,
  );
}

function renderPayload(payload: RunPayload, mode: OutputMode): CallToolResult {
  const trimmed = trimPayload(payload);
  const isError = payload.status !== 'success';
  if (mode === 'toon') {
    return {
      content: [{ type: 'text', text: toonBlock(trimmed) }],
      structuredContent: { ...trimmed },
      isError,
    };
  }
  return {
    content: [{ type: 'text', text: compactText(trimmed) }],
    structuredContent: compactStructured(trimmed),
    isError,
  };
}

/** Plain text the model reads first: output, then what went wrong, with no ceremony. */
export function compactText(payload: RunPayload): string {
  const parts: string[] = [];
  if (payload.status !== 'success') parts.push(`status: ${payload.status}`);
  if (payload.exitCode !== undefined && payload.exitCode !== 0)
    parts.push(`exit: ${payload.exitCode}`);
  if (payload.notices?.length) parts.push(...payload.notices.map((notice) => `notice: ${notice}`));
  if (payload.stdout?.length) parts.push(payload.stdout.join('\n'));
  if (payload.stderr?.length) parts.push(`stderr:\n${payload.stderr.join('\n')}`);
  if (payload.error) parts.push(`error: ${payload.error}`);
  const hasBody = Boolean(payload.stdout?.length || payload.stderr?.length || payload.error);
  if (!hasBody) parts.push(payload.summary);
  return parts.join('\n');
}

/** structuredContent for compact mode: status and summary only when they say something. */
function compactStructured(payload: RunPayload): Record<string, unknown> {
  const { status, summary, exitCode, ...rest } = payload;
  const structured: Record<string, unknown> = {};
  if (status !== 'success') structured.status = status;
  const hasOutput = Boolean(payload.stdout?.length || payload.stderr?.length);
  if (status !== 'success' || !hasOutput) structured.summary = summary;
  if (exitCode !== undefined && exitCode !== 0) structured.exitCode = exitCode;
  return { ...structured, ...rest };
}

function toonBlock(payload: RunPayload): string {
  try {
    return `\`\`\`toon\n${encode(payload)}\n\`\`\``;
  } catch {
    return `\`\`\`json\n${JSON.stringify(sortKeys(payload), null, 2)}\n\`\`\``;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, item]) => [key, sortKeys(item)]),
    );
  }
  return value;
}
