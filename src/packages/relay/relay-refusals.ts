import type { Logger } from '../../logger.js';
import { printable } from './relay-helpers.js';

/** A request the relay did not pass on, and why. */
export interface RelayRefusal {
  request: string;
  reason: string;
}

const MAX_REFUSALS_KEPT = 20;
const MAX_REFUSALS_LOGGED = 50;

/**
 * The requests one relay refused: the first few kept for the install's message, and
 * logged, but boundedly: code in the installer (an sdist's build) could loop.
 */
export class RelayRefusals {
  readonly #kept: RelayRefusal[] = [];
  readonly #logger: Logger;
  #count = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Records a refusal; returns the body of the answer that says so. */
  add(method: string | undefined, url: string | undefined, reason: string): string {
    const request = printable(`${method ?? '?'} ${url ?? ''}`);
    this.#count += 1;
    if (this.#kept.length < MAX_REFUSALS_KEPT) this.#kept.push({ request, reason });
    if (this.#count <= MAX_REFUSALS_LOGGED) {
      this.#logger.warn({ request, reason }, 'package relay refused a request');
    } else if (this.#count === MAX_REFUSALS_LOGGED + 1) {
      this.#logger.warn('package relay: further refusals of this install are not logged');
    }
    return `The bridge's package relay refused ${request}: ${reason}\n`;
  }

  /** The refusals kept so far (the first few). */
  list(): RelayRefusal[] {
    return [...this.#kept];
  }
}
