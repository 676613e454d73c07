import { pino, type Logger } from 'pino';

export type { Logger };

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

/**
 * Logs go to stderr (fd 2) only: stdout is the MCP channel, and one stray byte there
 * breaks the client's JSON-RPC stream.
 */
export function createLogger(level: LogLevel, destinationFile?: string): Logger {
  const destination = destinationFile
    ? pino.destination({ dest: destinationFile, sync: false, mkdir: true })
    : pino.destination({ fd: 2, sync: true });
  return pino({ name: 'mcp-bridge', level, base: { pid: process.pid } }, destination);
}

export function parseLogLevel(value: string): LogLevel | undefined {
  const normalized = value.trim().toLowerCase();
  const aliased =
    normalized === 'warning' ? 'warn' : normalized === 'critical' ? 'fatal' : normalized;
  return (LEVELS as readonly string[]).includes(aliased) ? (aliased as LogLevel) : undefined;
}
