import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { byteSize, integer } from './env-values.js';

/**
 * Settings of rich results (README, Configuration): images per call, their size, and when
 * results carry `structuredContent`. Parsed with the rest of the environment.
 */

/** An image is at most this large: its base64 (4/3 of it) must fit a 4 MiB channel line. */
const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
const MIN_IMAGE_BYTES = 16 * 1024;

/**
 * All images of one call together, decoded: 4.5 MiB is 6 MiB of base64, which leaves at
 * least 2 MiB of the 8 MiB result (src/server/result-size.ts) to the text.
 */
export const MAX_IMAGES_TOTAL_BYTES = 4.5 * 1024 * 1024;

export const STRUCTURED_MODES = ['auto', 'always', 'never'] as const;
export type StructuredMode = (typeof STRUCTURED_MODES)[number];

export const displayEnvShape = {
  MCP_BRIDGE_IMAGES_PER_CALL: integer(0, 64).default(8),
  MCP_BRIDGE_IMAGE_MAX_BYTES: byteSize(
    String(1024 * 1024),
    MIN_IMAGE_BYTES,
    MAX_IMAGE_BYTES,
    'must be a size from 16k to 2m, e.g. 1048576 or 1m',
  ),
  MCP_BRIDGE_ARTIFACTS_MB: integer(16, 1_048_576).default(256),
  MCP_BRIDGE_ARTIFACTS_DIR: z.string().trim().min(1).optional(),
  MCP_BRIDGE_STRUCTURED: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(STRUCTURED_MODES))
    .default('auto')
    .describe('When run_python results carry structuredContent: auto, always or never'),
};

type DisplayEnv = z.infer<z.ZodObject<typeof displayEnvShape>>;

export interface DisplayConfig {
  /** MCP_BRIDGE_IMAGES_PER_CALL; 0: no images at all. */
  imagesPerCall: number;
  /** MCP_BRIDGE_IMAGE_MAX_BYTES: larger images are downscaled in the sandbox, or dropped. */
  imageMaxBytes: number;
  /** MCP_BRIDGE_STRUCTURED (docs/clients.md). */
  structured: StructuredMode;
  /** MCP_BRIDGE_ARTIFACTS_MB: the host copies of returned files, oldest evicted past it. */
  artifactsQuotaBytes: number;
  /** MCP_BRIDGE_ARTIFACTS_DIR: a folder where each returned file is also written. */
  artifactsDir: string | undefined;
}

export function displayConfig(e: DisplayEnv): DisplayConfig {
  return {
    imagesPerCall: e.MCP_BRIDGE_IMAGES_PER_CALL,
    imageMaxBytes: e.MCP_BRIDGE_IMAGE_MAX_BYTES,
    structured: e.MCP_BRIDGE_STRUCTURED,
    artifactsQuotaBytes: e.MCP_BRIDGE_ARTIFACTS_MB * 1024 * 1024,
    artifactsDir: e.MCP_BRIDGE_ARTIFACTS_DIR ? resolveHome(e.MCP_BRIDGE_ARTIFACTS_DIR) : undefined,
  };
}

function resolveHome(value: string): string {
  if (value === '~') return os.homedir();
  if (value.startsWith('~/')) return path.join(os.homedir(), value.slice(2));
  return path.resolve(value);
}
