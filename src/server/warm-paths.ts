import {
  CallToolRequestSchema,
  CallToolResultSchema,
  JSONRPCMessageSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { BridgeConfig } from '../config/env.js';
import { renderResult } from './render.js';
import { reportToPayload } from './report-payload.js';
import { parseRunPythonArgs } from './run-python-args.js';

/** Rounds of the warm-up: the first compiles the code, later ones let V8 settle on it. */
const ROUNDS = 3;

/**
 * Runs a run_python call's host-side steps once on made-up data, with no effect anywhere:
 * the SDK's request and result schemas, our argument schema, payload and rendering. Their
 * first run compiles them (zod builds its parsers on first use) and costs milliseconds
 * (measured: about 15 ms in all on our machines), which the agent's first call would pay
 * otherwise. Called while the sandbox starts, when the bridge waits for the engine.
 */
export function warmServerPaths(config: BridgeConfig): void {
  for (let round = 0; round < ROUNDS; round += 1) {
    const request = {
      jsonrpc: '2.0',
      id: round,
      method: 'tools/call',
      params: { name: 'run_python', arguments: { code: 'print(1)' } },
    } as const;
    JSONRPCMessageSchema.safeParse(request);
    CallToolRequestSchema.safeParse(request);
    parseRunPythonArgs(request.params.arguments, config);
    for (const stdout of ['', '1\n']) {
      const payload = reportToPayload(
        {
          outcome: 'completed',
          exitCode: 0,
          stdout,
          stderr: '',
          durationMs: 0.1,
          lostReason: undefined,
          outOfMemory: false,
          notices: [],
        },
        { timeoutSeconds: config.defaultTimeoutSeconds, servers: [] },
      );
      const result = renderResult(payload, config.outputMode);
      CallToolResultSchema.safeParse(result);
      JSONRPCMessageSchema.safeParse({ jsonrpc: '2.0', id: round, result });
    }
  }
}
