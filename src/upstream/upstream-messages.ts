import type { ServerDefinition } from '../config/servers-config.js';

const SECRET_FLAG = /(token|secret|password|passwd|api[-_]?key|auth|credential|private[-_]?key)/i;
const SECRET_VALUE = /^(gh[pousr]_|github_pat_|sk-|xox[abpr]-|glpat-|AKIA)[A-Za-z0-9_-]{6,}/;
const REDACTED = '***';

/**
 * The server's command line for error messages, quoted like a shell would need it.
 *
 * Security: these messages reach the model. Values passed after a secret-looking flag
 * (`--api-key x`, `--token=x`) and strings shaped like well-known tokens are masked.
 */
export function commandLine(definition: Pick<ServerDefinition, 'command' | 'args'>): string {
  const parts = [quote(definition.command)];
  let maskNext = false;
  for (const arg of definition.args) {
    const flag = /^(--?[\w.-]+)=(.*)$/s.exec(arg);
    if (maskNext || SECRET_VALUE.test(arg)) {
      parts.push(REDACTED);
      maskNext = false;
    } else if (flag?.[1] && SECRET_FLAG.test(flag[1])) {
      parts.push(`${flag[1]}=${REDACTED}`);
    } else {
      maskNext = /^--?[\w.-]+$/.test(arg) && SECRET_FLAG.test(arg);
      parts.push(quote(arg));
    }
  }
  return parts.join(' ');
}

function quote(part: string): string {
  return /^[\w@%+=:,./-]+$/.test(part) ? part : `'${part.replaceAll("'", `'\\''`)}'`;
}

/** " Its last stderr lines:\n  …" or an explicit note that it wrote none. */
export function stderrExcerpt(lines: readonly string[]): string {
  if (lines.length === 0) return ' It wrote nothing to stderr.';
  return ` Its last stderr lines:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

/** "2.5 s", "30 s", "500 ms". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1_000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
