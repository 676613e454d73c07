#!/usr/bin/env node
// First: stand-ins for modules the MCP SDK loads but seldom uses (memory). The parts that
// load the SDK are imported dynamically below, after it (src/util/lazy-sdk-modules.ts).
import './util/lazy-sdk-modules.js';
import { loadConfig, type BridgeConfig } from './config/env.js';
import { ConfigError, errorMessage } from './errors.js';
import { createLogger } from './logger.js';
import { packageVersion } from './util/package-root.js';

const USAGE = `Usage: mcp-server-code-execution-mode <command>

Commands:
  run            serve MCP over stdio (what an MCP client starts; the default)
  doctor         check the container engine, the image and a hardened sandbox
  tools list     show the saved tools, quarantined ones included
  tools delete NAME
                 remove a saved or quarantined tool
  audit [--since WHEN] [--session NAME] [--limit N] [--json]
                 show the MCP tool calls the sandboxes made (the audit trail)
  --version      print the version

Configuration is by environment variables; see the README.`;

/** How long shutdown may take before we exit anyway: clients kill us after about 5 s. */
const SHUTDOWN_DEADLINE_MS = 4000;

async function main(argv: string[]): Promise<number | undefined> {
  const command = argv[0] ?? 'run';
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (command !== 'run' && command !== 'doctor' && command !== 'tools' && command !== 'audit') {
    process.stderr.write(`Unknown command '${command}'.\n\n${USAGE}\n`);
    return 2;
  }

  let config: BridgeConfig;
  try {
    config = loadConfig(process.env);
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`mcp-server-code-execution-mode: ${error.message}\n`);
    return 2;
  }
  const logger = createLogger(config.logLevel, config.logFile);

  if (command === 'doctor') {
    const { runDoctor } = await import('./doctor/doctor.js');
    return runDoctor(config, logger, (line) => process.stdout.write(`${line}\n`));
  }
  if (command === 'tools') {
    const { runToolsCommand } = await import('./state/tools-cli.js');
    return runToolsCommand(argv.slice(1), {
      stateDir: config.stateDir,
      logger,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    });
  }

  if (command === 'audit') {
    const { runAuditCommand } = await import('./state/audit-cli.js');
    return runAuditCommand(argv.slice(1), {
      stateDir: config.stateDir,
      logger,
      maxEntries: config.audit.maxEntries,
      maxHistory: config.executor.maxHistory,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    });
  }

  const [{ BridgeApp }, { StdioServerTransport }] = await Promise.all([
    import('./app.js'),
    import('@modelcontextprotocol/sdk/server/stdio.js'),
  ]);
  let app: InstanceType<typeof BridgeApp>;
  try {
    app = new BridgeApp(config, logger, packageVersion());
  } catch (error: unknown) {
    // A setting checked against the disk (MCP_BRIDGE_MOUNTS) stops startup as any other.
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`mcp-server-code-execution-mode: ${error.message}\n`);
    return 2;
  }
  let shuttingDown = false;
  const shutdown = (why: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ why }, 'shutting down');
    setTimeout(() => {
      logger.warn('shutdown took too long; exiting anyway');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: errorMessage(error) }, 'error during shutdown');
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
  // The client closing our stdin is the normal way an MCP session ends.
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  await app.start(new StdioServerTransport());
  logger.info(
    { image: config.image, runtime: config.runtime },
    'mcp-server-code-execution-mode ready',
  );
  return undefined;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mcp-server-code-execution-mode: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  },
);
