import type Dockerode from 'dockerode';
import type { SandboxFacts } from '../channel/frames.js';

/** What a sandbox needs from the hardening layer, without knowing it. */
export interface SandboxBlueprint {
  /** `laneDir`: the socket lane's host folder, to mount (src/channel/socket-lane.ts). */
  createOptions(command: string[], laneDir?: string): Dockerode.ContainerCreateOptions;
  /** Whether to offer the sandbox the socket lane (it falls back to stdin/stdout). */
  socketLane: boolean;
  /** One message per hardening setting the sandbox reports as not applied. */
  verify(facts: SandboxFacts): string[];
  memoryLimitBytes: number;
  /** The sandbox runs under gVisor, whose out-of-memory death looks different. */
  gvisor?: boolean;
}
