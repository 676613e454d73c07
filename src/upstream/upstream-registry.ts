import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDefinition } from '../config/servers-config.js';
import type { Logger } from '../logger.js';
import { closestFirst } from '../util/closest.js';
import {
  UpstreamClient,
  type CallToolOptions,
  type UpstreamClientOptions,
} from './upstream-client.js';
import { UpstreamError } from './upstream-errors.js';

export interface UpstreamRegistryOptions extends Partial<UpstreamClientOptions> {
  /** The longest `close()` waits for every server to stop (ms). */
  closeTimeoutMs?: number;
}

export const DEFAULT_CLOSE_TIMEOUT_MS = 3_000;

/**
 * Every configured MCP server by name, each an `UpstreamClient` created on first use.
 * The first definition of a name wins.
 */
export class UpstreamRegistry {
  readonly #definitions = new Map<string, ServerDefinition>();
  readonly #clients = new Map<string, UpstreamClient>();
  readonly #logger: Logger;
  readonly #options: UpstreamRegistryOptions;
  #closed = false;

  constructor(
    definitions: readonly ServerDefinition[],
    logger: Logger,
    options: UpstreamRegistryOptions = {},
  ) {
    for (const definition of definitions) {
      if (!this.#definitions.has(definition.name)) {
        this.#definitions.set(definition.name, definition);
      }
    }
    this.#logger = logger;
    this.#options = options;
  }

  /** Configured server names, sorted. */
  names(): string[] {
    return [...this.#definitions.keys()].sort((a, b) => a.localeCompare(b));
  }

  has(name: string): boolean {
    return this.#definitions.has(name);
  }

  definition(name: string): ServerDefinition {
    const definition = this.#definitions.get(name);
    if (!definition) throw this.#unknown(name);
    return definition;
  }

  /** The server's client, created (not yet started) on first request. */
  client(name: string): UpstreamClient {
    if (this.#closed) {
      throw new UpstreamError(
        'upstream_closed',
        name,
        `MCP server '${name}' is not available: the bridge is stopping.`,
      );
    }
    let client = this.#clients.get(name);
    if (!client) {
      client = new UpstreamClient(this.definition(name), this.#logger, this.#options);
      this.#clients.set(name, client);
    }
    return client;
  }

  /** Whether the server's process is running now. */
  isRunning(name: string): boolean {
    return this.#clients.get(name)?.pid !== undefined;
  }

  async tools(name: string): Promise<Tool[]> {
    return await this.client(name).tools();
  }

  async callTool(
    name: string,
    tool: string,
    args: Record<string, unknown> = {},
    options: CallToolOptions = {},
  ): Promise<CallToolResult> {
    return await this.client(name).callTool(tool, args, options);
  }

  /** Stops every started server in parallel, waiting at most `closeTimeoutMs`. */
  async close(): Promise<void> {
    this.#closed = true;
    const clients = [...this.#clients.values()];
    const pending = new Set(clients.map((client) => client.name));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(
        () => resolve('timeout'),
        this.#options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
      );
      timer.unref();
    });
    const all = Promise.all(
      clients.map((client) =>
        client
          .close()
          .catch((error: unknown) =>
            this.#logger.warn(
              { err: error, server: client.name },
              'MCP server did not close cleanly',
            ),
          )
          .finally(() => pending.delete(client.name)),
      ),
    );
    const outcome = await Promise.race([all, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.#logger.warn(
        { servers: [...pending] },
        'MCP servers still stopping when the bridge closed',
      );
    }
  }

  #unknown(name: string): UpstreamError {
    const names = closestFirst(name, [...this.#definitions.keys()]);
    const known =
      names.length > 0
        ? `Configured servers: ${names.join(', ')}.`
        : 'No MCP servers are configured.';
    return new UpstreamError(
      'upstream_unknown_server',
      name,
      `Unknown MCP server '${name}'. ${known}`,
    );
  }
}
