import { BridgeError } from '../errors.js';

/** Stable, machine-readable reasons an upstream MCP server could not serve a request. */
export type UpstreamErrorCode =
  | 'upstream_unknown_server'
  | 'upstream_start_failed'
  | 'upstream_crashed'
  | 'upstream_backoff'
  | 'upstream_timeout'
  | 'upstream_cancelled'
  | 'upstream_call_failed'
  | 'upstream_closed';

/** A configured MCP server failed to start, crashed, timed out or refused a request. */
export class UpstreamError extends BridgeError {
  declare readonly code: UpstreamErrorCode;
  /** The configured name of the server concerned. */
  readonly server: string;

  constructor(
    code: UpstreamErrorCode,
    server: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.server = server;
  }
}
