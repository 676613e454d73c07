import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * A tool's advertised `inputSchema`, generated from the zod schema that validates its
 * arguments, so the two cannot drift apart.
 *
 * - `io: 'input'`: what a client may send. Optional fields stay optional, and no
 *   `additionalProperties: false` is added: `z.object` ignores unknown keys rather than
 *   refusing them, so advertising otherwise would be wrong.
 * - No `$schema`: zod writes JSON Schema 2020-12, MCP's default dialect; naming it would
 *   cost every `tools/list` answer about 14 tokens for nothing.
 */
export function toolInputSchema(schema: z.ZodObject): Tool['inputSchema'] {
  const { type, ...jsonSchema } = z.toJSONSchema(schema, { io: 'input' });
  delete jsonSchema.$schema;
  if (type !== 'object') throw new Error('a tool takes its arguments as an object');
  // zod's type allows boolean sub-schemas (`true`), which it writes only for z.any().
  return { type, ...jsonSchema } as Tool['inputSchema'];
}
