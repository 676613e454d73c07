/**
 * Collects one stream of a call's output up to a character cap. Security: the runner
 * caps too, but it is untrusted; this bound holds whatever it sends.
 */
export class OutputCollector {
  readonly #limit: number;
  #parts: string[] = [];
  #kept = 0;
  #dropped = 0;

  constructor(limitChars: number) {
    this.#limit = limitChars;
  }

  append(text: string): void {
    const room = this.#limit - this.#kept;
    if (text.length <= room) {
      this.#parts.push(text);
      this.#kept += text.length;
      return;
    }
    let keep = Math.max(room, 0);
    // Never end on half a surrogate pair: a lone surrogate is not valid text.
    if (keep > 0 && isHighSurrogate(text.charCodeAt(keep - 1))) keep -= 1;
    if (keep > 0) this.#parts.push(text.slice(0, keep));
    // Full from now on, so no later text appears after the gap.
    this.#kept = this.#limit;
    this.#dropped += text.length - keep;
  }

  /** The text, with a marker saying how much was dropped (here or in the sandbox). */
  text(droppedInSandbox = 0): string {
    const dropped = this.#dropped + droppedInSandbox;
    const text = this.#parts.join('');
    if (dropped === 0) return text;
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    return `${text}${separator}[output truncated: ${dropped.toLocaleString('en-US')} more characters dropped; the limit is ${this.#limit.toLocaleString('en-US')} per stream per call (MCP_BRIDGE_OUTPUT_LIMIT)]\n`;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
