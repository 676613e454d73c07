import type { DisplayLimits, ExecuteServer } from '../channel/frames.js';
import type { DisplayOutput } from './display-collector.js';
import type { RpcHandler } from './rpc-gate.js';

/** One cell to run, as LiveSandbox.execute takes it. */
export interface ExecutionRequest {
  code: string;
  timeoutMs: number;
  maxOutputChars: number;
  /** Servers loaded for this call, and the handler for the cell's requests to them. */
  servers?: ExecuteServer[];
  rpc?: RpcHandler;
  /** The cell's image limits; absent: its images are dropped (the bridge's own cells). */
  display?: DisplayLimits;
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
  /** The images the cell returned and what was said about them; absent: none. */
  display?: DisplayOutput;
}
