/** The longest line a progress notification shows, in characters. */
export const SHOWN_LINE_CHARS = 200;

/**
 * What a call has printed so far, as a progress notification shows it: how many lines,
 * and the last line of stdout (the text after a carriage return, as a terminal shows a
 * progress bar), cut to SHOWN_LINE_CHARS. Holds at most two short strings, whatever the
 * output's size.
 */
export class OutputTail {
  #lines = 0;
  #lastLine = '';
  #partial = '';

  get lines(): number {
    return this.#lines;
  }

  /** The line being written if it shows anything, else the last complete one. */
  get lastLine(): string {
    return visible(this.#partial) || this.#lastLine;
  }

  add(stream: 'stdout' | 'stderr', text: string): void {
    const parts = text.replace(/\r\n/g, '\n').split('\n');
    this.#lines += parts.length - 1;
    if (stream !== 'stdout') return;
    const last = parts.pop() ?? '';
    for (const part of parts) {
      const line = visible(shown(this.#partial + part));
      if (line) this.#lastLine = line;
      this.#partial = '';
    }
    // Bounded: only the start of the partial line is ever shown.
    this.#partial = cut(shown(this.#partial + last), SHOWN_LINE_CHARS * 2);
  }
}

/**
 * What a terminal would show of a line written with carriage returns (a progress bar):
 * the last stretch after a `\r` that is not blank.
 */
function shown(line: string): string {
  if (!line.includes('\r')) return line;
  return line.split('\r').findLast((stretch) => stretch.trim() !== '') ?? '';
}

/** A line as shown: trailing blanks dropped, at most SHOWN_LINE_CHARS characters. */
function visible(line: string): string {
  return cut(line.trimEnd(), SHOWN_LINE_CHARS).trimEnd();
}

/** The first `max` characters, never ending on half a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
