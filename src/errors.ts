/**
 * One error base for every operational failure the bridge can explain to a user.
 * `code` is stable and machine-readable; `message` says what happened and how to fix it.
 */
export class BridgeError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value (env var, config file) is invalid: startup must stop. */
export class ConfigError extends BridgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config_invalid', message, options);
  }
}

/** No container engine could be reached, or it refused what we asked. */
export class RuntimeUnavailableError extends BridgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('runtime_unavailable', message, options);
  }
}

/**
 * The engine address the user set (DOCKER_HOST, else CONTAINER_HOST) did not answer, or
 * answered as another engine than MCP_BRIDGE_RUNTIME asks for. That address is the only
 * one used, as with the Docker CLI: no other engine is tried.
 */
export class EngineAddressError extends BridgeError {
  readonly variable: string;
  readonly address: string;

  constructor(
    code: 'engine_address_unreachable' | 'engine_address_wrong_engine',
    where: { variable: string; address: string },
    message: string,
  ) {
    super(code, message);
    this.variable = where.variable;
    this.address = where.address;
  }
}

/** The sandbox container could not be prepared (image, create, start, hardening check). */
export class SandboxStartError extends BridgeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('sandbox_start_failed', message, options);
  }
}

/** Too many calls are already waiting for the session. */
export class QueueFullError extends BridgeError {
  constructor(message: string) {
    super('queue_full', message);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
