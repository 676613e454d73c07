import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDefinition } from '../config/servers-config.js';
import { serverDefinitionHash } from '../config/servers-config.js';
import type { Logger } from '../logger.js';
import { serverAliases } from '../upstream/aliases.js';
import { readCachedTools, writeCachedTools } from '../upstream/catalog-cache.js';
import { ToolSearchIndex } from '../upstream/tool-search.js';

/** What the catalog needs from the running MCP clients. */
export interface ToolLister {
  tools(server: string): Promise<Tool[]>;
}

export interface DiscoveredServer {
  name: string;
  description?: string;
  toolCount?: number;
}

/**
 * Every configured server and what is known of its tools: live from a loaded server, or
 * from the on-disk cache written the last time it was loaded, so search covers servers
 * that this call (or this bridge) did not start. Only `load` starts a server.
 */
export class ServerCatalog {
  readonly #definitions: Map<string, ServerDefinition>;
  readonly #aliases: Map<string, string>;
  readonly #lister: ToolLister;
  readonly #stateDir: string;
  readonly #logger: Logger;
  readonly #tools = new Map<string, Tool[]>();
  #index: ToolSearchIndex | undefined;

  constructor(options: {
    definitions: ServerDefinition[];
    lister: ToolLister;
    stateDir: string;
    logger: Logger;
  }) {
    this.#definitions = new Map(
      options.definitions.map((definition) => [definition.name, definition]),
    );
    this.#aliases = serverAliases(options.definitions.map((definition) => definition.name));
    this.#lister = options.lister;
    this.#stateDir = options.stateDir;
    this.#logger = options.logger;
    for (const definition of options.definitions) {
      const cached = readCachedTools(this.#stateDir, serverDefinitionHash(definition));
      if (cached) this.#tools.set(definition.name, [...cached]);
    }
  }

  names(): string[] {
    return [...this.#definitions.keys()];
  }

  definition(name: string): ServerDefinition | undefined {
    return this.#definitions.get(name);
  }

  alias(name: string): string {
    return this.#aliases.get(name) ?? name;
  }

  /** Tools known for a server (live or cached); undefined if it was never listed. */
  knownTools(name: string): Tool[] | undefined {
    return this.#tools.get(name);
  }

  /** Starts the server if needed, lists its tools, and refreshes the cache and index. */
  async load(name: string): Promise<Tool[]> {
    const tools = await this.#lister.tools(name);
    const definition = this.#definitions.get(name);
    if (this.#tools.get(name) !== tools) {
      this.#tools.set(name, tools);
      this.#index = undefined;
      if (definition) {
        try {
          writeCachedTools(this.#stateDir, serverDefinitionHash(definition), tools);
        } catch (error: unknown) {
          this.#logger.warn({ server: name, err: String(error) }, 'could not cache the tool list');
        }
      }
    }
    return tools;
  }

  /**
   * Configured servers whose tools are not known (never loaded, nothing cached): search
   * cannot cover them, and must not start them to find out (a server runs on the host
   * with the user's rights; only a call's `servers` decides which start).
   */
  unindexed(): string[] {
    return this.names().filter((name) => !this.#tools.has(name));
  }

  searchIndex(): ToolSearchIndex {
    this.#index ??= new ToolSearchIndex(
      [...this.#tools.entries()].map(([server, tools]) => ({
        server,
        serverAlias: this.alias(server),
        serverDescription: this.#definitions.get(server)?.description,
        tools,
      })),
    );
    return this.#index;
  }

  discovered(): DiscoveredServer[] {
    return this.names().map((name) => {
      const description = this.#definitions.get(name)?.description;
      const toolCount = this.#tools.get(name)?.length;
      return {
        name,
        ...(description ? { description } : {}),
        ...(toolCount !== undefined ? { toolCount } : {}),
      };
    });
  }
}
