import type { DisplayLimits, ExecuteServer, ProgressFrame } from '../channel/frames.js';
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
  /**
   * Cancels the cell: one not yet started never starts; a running one is interrupted as
   * on timeout (KeyboardInterrupt, then a kill after the grace time if it is ignored).
   */
  signal?: AbortSignal;
  /** Told what the cell does while it runs (progress notifications, src/server/). */
  observer?: ExecutionObserver;
  /** The cell's image limits; absent: its images are dropped (the bridge's own cells). */
  display?: DisplayLimits;
}

/** Watches one cell while it runs; every method is optional and must not throw. */
export interface ExecutionObserver {
  /** The cell was sent to the sandbox. */
  started?(): void;
  /** Output of the cell as it arrives (also past the output cap). */
  output?(stream: 'stdout' | 'stderr', text: string): void;
  /** A validated `progress` frame of the cell (runtime.progress). */
  progress?(frame: ProgressFrame): void;
  /** The call's named session, known once its arguments are validated. */
  inSession?(name: string): void;
}

export interface ExecutionResult {
  /** `cancelled`: the client cancelled the call (ExecutionRequest.signal). */
  outcome: 'completed' | 'exception' | 'timeout' | 'cancelled' | 'died';
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
