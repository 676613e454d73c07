/**
 * The text of an approval prompt: server, tool and arguments, the arguments redacted of
 * obvious secrets and cut short. The sandbox chose every byte of the tool name and the
 * arguments: nothing of them may pass as the bridge's own words (no control or
 * direction-changing characters), and no size of them may make the prompt long.
 */

/** The arguments' part of the prompt is cut to this many characters. */
export const MAX_SHOWN_ARGUMENT_CHARS = 500;
/** A tool or server name is cut to this many characters in the prompt. */
const MAX_SHOWN_NAME_CHARS = 100;
/** Values walked before the rest is left out (the prompt shows 500 characters anyway). */
const MAX_WALKED_VALUES = 500;
const MAX_DEPTH = 8;
/** Strings longer than this are cut before they are searched for secrets. */
const MAX_SCANNED_STRING = 600;

export const REDACTED = '[redacted]';

/** Keys whose values are secrets whatever they look like. */
const SECRET_KEY =
  /token|secret|passw|pwd|api[-_]?key|apikey|private[-_]?key|^key$|[-_]key$|authori[sz]ation|credential|cookie|session[-_]?id|^auth$/i;

/** Values that look like credentials wherever they are. */
const SECRET_VALUES: readonly RegExp[] = [
  /\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{16,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,})/g,
  /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, // a JWT
  /\b[A-Fa-f0-9]{32,}\b/g, // long hex keys
  /[A-Za-z0-9+/_-]{40,}={0,2}/g, // long base64 runs
];

/** Characters that could change how the prompt reads: controls, bidi, zero-width. */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Escapes characters that could make the sandbox's text look like the bridge's. */
export function visible(text: string): string {
  return text.replace(
    UNSAFE_CHARS,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A string with credential-looking parts replaced. */
export function redactString(value: string): string {
  let text = value.length > MAX_SCANNED_STRING ? `${value.slice(0, MAX_SCANNED_STRING)}…` : value;
  for (const pattern of SECRET_VALUES) text = text.replace(pattern, REDACTED);
  return text;
}

/**
 * A copy of `value` safe to show: values under secret-named keys and credential-looking
 * strings replaced, long strings and deep or wide structures cut.
 */
export function redactArguments(value: unknown): unknown {
  let budget = MAX_WALKED_VALUES;
  const walk = (item: unknown, depth: number): unknown => {
    budget -= 1;
    if (budget < 0) return '…';
    if (typeof item === 'string') return redactString(item);
    if (item === null || typeof item !== 'object') return item;
    if (depth >= MAX_DEPTH) return '…';
    if (Array.isArray(item)) {
      const shown: unknown[] = [];
      for (const element of item) {
        if (budget <= 0) {
          shown.push(`… ${item.length - shown.length} more`);
          break;
        }
        shown.push(walk(element, depth + 1));
      }
      return shown;
    }
    const shown: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(item)) {
      if (budget <= 0) {
        shown['…'] = 'more keys';
        break;
      }
      const safeKey = cut(key, MAX_SHOWN_NAME_CHARS);
      shown[safeKey] = SECRET_KEY.test(key) ? (budget--, REDACTED) : walk(inner, depth + 1);
    }
    return shown;
  };
  return walk(value, 0);
}

/** The arguments as the prompt shows them: redacted JSON, at most 500 characters. */
export function shownArguments(args: Record<string, unknown>, totalBytes: number): string {
  const json = visible(JSON.stringify(redactArguments(args)) ?? '{}');
  if (json.length <= MAX_SHOWN_ARGUMENT_CHARS) return json;
  return `${json.slice(0, MAX_SHOWN_ARGUMENT_CHARS)}… (cut; ${totalBytes} bytes of JSON in all)`;
}

/** The prompt's text. */
export function approvalMessage(call: {
  server: string;
  tool: string;
  args: Record<string, unknown>;
  argumentBytes: number;
  reason: string;
}): string {
  const name = (text: string) => visible(cut(text, MAX_SHOWN_NAME_CHARS));
  return [
    `Code running in run_python wants to call the tool "${name(call.tool)}" of the MCP server "${name(call.server)}".`,
    `Arguments (secrets hidden): ${shownArguments(call.args, call.argumentBytes)}`,
    `Asked because ${call.reason}.`,
    'Allow it once, allow this tool for the rest of this session, or deny it.',
  ].join('\n');
}
