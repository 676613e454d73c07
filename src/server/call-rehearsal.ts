import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { HistoryWriter } from './history-recorder.js';
import type { RunPythonDependencies } from './run-python-handler.js';
import { RUN_PYTHON } from './run-python-tool.js';

/**
 * The call rehearsal: once the pre-warmed sandbox is up, one synthetic `run_python` goes
 * through the path a real call takes (the SDK's tools/call handler and its schema checks,
 * our handler, the session's queue, the runner's compile, exec, output capture and figure
 * check, the done frame, payload, rendering, the history insert, the response's
 * serialization), so that the agent's first call finds that code compiled and warm
 * instead of paying about 6 ms for it (bench/README.md, "Start, warm call, memory").
 *
 * It leaves nothing anyone can see: its history insert is rolled back
 * (HistoryStore.rehearse), it keeps no files (no artifact store; the runner does not look
 * at /workspace/out), it reaches no server (no audit row), sends no progress and no
 * response, keeps the agent's pending notices, and its cell only prints (no variable, `_`
 * unchanged; its output ends with its own call). The session runs it only in a sandbox
 * that is up and idle, never starts one for it, and a call of the agent never waits for
 * a rehearsal that has not begun (SandboxSession, CallControl.rehearsal).
 */

/** The rehearsal's cell: a print, the commonest first cell, and no state. */
export const REHEARSAL_CODE = 'print(1)';

const REHEARSAL = Symbol('mcp-bridge call rehearsal');

type RequestHandler = (request: unknown, extra: unknown) => Promise<unknown>;

/** True for the `extra` of the rehearsal's request (the tools/call handler asks). */
export function isRehearsal(extra: object): boolean {
  return (extra as { [REHEARSAL]?: unknown })[REHEARSAL] === true;
}

/** What the handler uses instead of its own dependencies for the rehearsal: no traces. */
export function rehearsalDependencies(deps: RunPythonDependencies): RunPythonDependencies {
  return { ...deps, history: deps.history && rehearsalHistory(deps.history), artifacts: undefined };
}

function rehearsalHistory(history: HistoryWriter): HistoryWriter {
  return {
    newId: () => history.newId(),
    record: (entry) => history.rehearse?.(entry),
  };
}

/**
 * Runs the rehearsal on `server`'s own tools/call handler; never throws (a failure only
 * costs the warm-up, and is logged at debug). Resolves with its milliseconds, or undefined
 * when it could not run.
 */
export async function rehearseCall(server: Server, logger: Logger): Promise<number | undefined> {
  const started = performance.now();
  // The SDK keeps its handlers in a private map; if a version moves it, nothing is lost
  // but the warm-up.
  const handlers = (server as unknown as { _requestHandlers?: Map<string, RequestHandler> })
    ._requestHandlers;
  const handler = handlers?.get('tools/call');
  if (typeof handler !== 'function') {
    logger.debug('call rehearsal skipped: the SDK has no tools/call handler where expected');
    return undefined;
  }
  const id = 'mcp-bridge-rehearsal';
  const request = {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: RUN_PYTHON, arguments: { code: REHEARSAL_CODE } },
  } as const;
  try {
    // What the stdio transport does with a line: parse and check it as JSON-RPC.
    JSONRPCMessageSchema.parse(JSON.parse(JSON.stringify(request)));
    const extra = {
      signal: new AbortController().signal,
      requestId: id,
      sendNotification: () => Promise.resolve(),
      sendRequest: () => Promise.reject(new Error('the call rehearsal sends no requests')),
      [REHEARSAL]: true,
    };
    const result = await handler(request, extra);
    // What the transport would write; the rehearsal writes nothing.
    JSON.stringify({ result, jsonrpc: '2.0', id });
    const ms = performance.now() - started;
    logger.info({ ms: Math.round(ms * 10) / 10 }, 'first call rehearsed');
    return ms;
  } catch (error: unknown) {
    logger.debug({ err: errorMessage(error) }, 'call rehearsal failed');
    return undefined;
  }
}
