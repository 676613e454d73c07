import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CallToolResultSchema,
  type CallToolResult,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';

/** One progress notification as the SDK client hands it over, with its `_meta`. */
export type ProgressEvent = Progress & {
  _meta?: { elapsedSeconds?: number; outputLines?: number; session?: string };
};

/** A tools/call in flight that asked for progress, and can be cancelled. */
export interface WatchedCall {
  /** The notifications received so far, in order. */
  events: ProgressEvent[];
  /** Resolves with the result; rejects once the call is cancelled (MCP drops its result). */
  result: Promise<CallToolResult>;
  /** Cancels the call: the SDK sends notifications/cancelled. */
  cancel(reason?: string): void;
  /** Resolves when `count` notifications arrived (or the call ended first: false). */
  progressed(count?: number): Promise<boolean>;
}

/**
 * Calls a tool with a progress token (the SDK adds `_meta.progressToken` when
 * `onprogress` is given) and an AbortSignal, the way a client that shows progress and a
 * stop button does.
 */
export function watchedCall(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  timeoutMs = 120_000,
): WatchedCall {
  const events: ProgressEvent[] = [];
  const waiters: { count: number; resolve: (arrived: boolean) => void }[] = [];
  const controller = new AbortController();
  let over = false;
  const wake = (ended: boolean) => {
    over ||= ended;
    for (const waiter of [...waiters]) {
      if (ended || events.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(events.length >= waiter.count);
      }
    }
  };
  const result = client
    .callTool({ name, arguments: args }, undefined, {
      timeout: timeoutMs,
      signal: controller.signal,
      onprogress: (progress) => {
        events.push(progress);
        wake(false);
      },
    })
    .then((raw) => CallToolResultSchema.parse(raw))
    .finally(() => wake(true));
  result.catch(() => undefined); // a cancelled call rejects; callers await it when they care
  return {
    events,
    result,
    cancel: (reason = 'cancelled by the test') => controller.abort(reason),
    progressed: (count = 1) =>
      events.length >= count || over
        ? Promise.resolve(events.length >= count)
        : new Promise<boolean>((resolve) => waiters.push({ count, resolve })),
  };
}
