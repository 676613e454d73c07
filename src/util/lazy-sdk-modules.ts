import { lazyFunction, resolveFrom, seedLazyModule } from './lazy-modules.js';

/**
 * Memory: the MCP SDK loads Ajv (about 70 modules, some 9 MiB resident) when it loads,
 * and builds an instance in every Server and Client, to check the answers of elicitation
 * requests (which the bridge never sends) and the structured output of upstream tools.
 * Stand-ins for `ajv` and `ajv-formats` (src/util/lazy-modules.ts) load the real modules
 * when the first instance is built: by an upstream client, or never. mcp-server.ts gives
 * its Server a validator that builds its instance on first use.
 *
 * The SDK is ESM and imports Ajv (CommonJS) statically: Node's ESM loader claims its own
 * cache entry for every module of a graph when it links the graph, before any of it runs.
 * So this module must run before the graph holding the SDK is even linked: main.ts
 * imports it first and loads the rest of the bridge with a dynamic import().
 */
const provider = resolveFrom('@modelcontextprotocol/sdk/validation/ajv');
if (provider) {
  seedLazyModule(provider, 'ajv', lazyFunction); // `new Ajv(options)`
  seedLazyModule(provider, 'ajv-formats', lazyFunction); // `addFormats(ajv)`
}
