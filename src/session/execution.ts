import type { ExecuteServer } from '../channel/frames.js';
import type { RpcHandler } from './rpc-gate.js';

/** One cell to run, as LiveSandbox.execute takes it. */
export interface ExecutionRequest {
  code: string;
  timeoutMs: number;
  maxOutputChars: number;
  /** Servers loaded for this call, and the handler for the cell's requests to them. */
  servers?: ExecuteServer[];
  rpc?: RpcHandler;
}

export interface ExecutionResult {
  outcome: 'completed' | 'exception' | 'timeout' | 'died';
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Set when the sandbox, and with it the session state, was lost during this call. */
  lostReason: string | undefined;
  outOfMemory: boolean;
}
