import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { BridgeConfig } from '../config/env.js';
import { BridgeError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CallControl, CallServers, SandboxSession } from '../session/sandbox-session.js';
import type { SessionPool } from '../session/session-pool.js';
import { markStage } from '../util/call-timing.js';
import { closestFirst } from '../util/closest.js';
import { installMissingImports, type DependencyInstaller } from './dependencies.js';
import { recordExecution, type HistoryWriter } from './history-recorder.js';
import { renderResult } from './render.js';
import { reportToPayload, sandboxErrorPayload } from './report-payload.js';
import { renderRichResult } from './rich-result.js';
import type { ArtifactStore } from '../state/artifact-store.js';
import { parseRunPythonArgs } from './run-python-args.js';

/** The configured MCP servers, as run_python needs them. */
export interface ServerAccess {
  names(): string[];
  /**
   * Starts and lists the named servers for a call in `session` (its requests, audit rows,
   * `runtime.reset()` and approvals belong to that session); rejects naming the server
   * that failed. `notices`: what the call's result must say (e.g. calls run unapproved).
   */
  prepare(names: string[], session: string): Promise<CallServers & { notices?(): string[] }>;
}

export interface RunPythonDependencies {
  config: BridgeConfig;
  /** The `default` session (the executor toolset's). */
  session: SandboxSession;
  /** Every named session; run_python takes its call's from here. */
  sessions: SessionPool;
  sessionId: string;
  servers: ServerAccess;
  history: HistoryWriter | undefined;
  packages: DependencyInstaller | undefined;
  /** Where returned files are kept (resources); absent: files are not returned. */
  artifacts?: ArtifactStore | undefined;
  logger: Logger;
}

/**
 * run_python: validate, load the named servers, install missing imports when policy
 * allows, run, record. Every failure is a result the agent can read (isError), never a
 * protocol error.
 */
export async function handleRunPython(
  rawArgs: unknown,
  deps: RunPythonDependencies,
  control: CallControl = {},
): Promise<CallToolResult> {
  markStage('handler');
  const { config, logger } = deps;
  const parsed = parseRunPythonArgs(rawArgs, config);
  if (!parsed.ok) {
    return renderResult(
      { status: 'validation_error', summary: parsed.message, error: parsed.message },
      config.outputMode,
    );
  }
  const { code, servers, timeoutSeconds, session: sessionName } = parsed.args;
  const configured = deps.servers.names();
  const unknown = servers.filter((name) => !configured.includes(name));
  if (unknown.length > 0) {
    const message = unknownServersMessage(unknown, configured, config.stateDir);
    return renderResult(
      { status: 'validation_error', summary: message, error: message },
      config.outputMode,
    );
  }
  const id = deps.history?.newId() ?? '';
  const startedAt = new Date();
  const record = {
    id,
    session: deps.sessionId,
    sessionName,
    tool: 'run_python',
    code,
    startedAt,
    servers,
  };
  let lease;
  try {
    // Past MCP_BRIDGE_MAX_SESSIONS a new session is refused here (SessionLimitError).
    lease = deps.sessions.acquire(sessionName);
  } catch (error: unknown) {
    const message = errorMessage(error);
    return renderResult({ status: 'error', summary: message, error: message }, config.outputMode);
  }
  const { session } = lease;
  control.observer?.inSession?.(sessionName);
  try {
    const reach = await deps.servers.prepare(servers, sessionName);
    const dependencies = await installMissingImports(session, code, deps.packages, control.signal);
    markStage('prepared');
    const report = await session.run(code, timeoutSeconds, reach, control);
    markStage('settled');
    if (dependencies.info) report.notices.push(`dependencies: ${dependencies.info}`);
    // Calls that ran without approval because the client cannot be asked (approvals).
    report.notices.push(...(reach.notices?.() ?? []));
    const payload = reportToPayload(report, { timeoutSeconds, servers });
    markStage('payload');
    const unrecorded = recordExecution(deps.history, { ...record, status: payload.status, report });
    markStage('history');
    if (unrecorded) payload.notices = [...(payload.notices ?? []), unrecorded];
    const files = report.display?.artifacts ?? [];
    const kept =
      files.length > 0 && deps.artifacts ? deps.artifacts.save(files, sessionName) : undefined;
    const rendered = renderRichResult(
      payload,
      report.display,
      config.outputMode,
      kept?.stored,
      kept?.notices,
    );
    markStage('rendered');
    return rendered;
  } catch (error: unknown) {
    if (!(error instanceof BridgeError)) {
      logger.error({ err: error }, 'run_python failed unexpectedly');
    }
    const payload = sandboxErrorPayload(errorMessage(error), servers);
    const unrecorded = recordExecution(deps.history, {
      ...record,
      status: 'error',
      error: errorMessage(error),
    });
    if (unrecorded) payload.notices = [unrecorded];
    return renderResult(payload, config.outputMode);
  } finally {
    lease.release();
  }
}

function unknownServersMessage(unknown: string[], configured: string[], stateDir: string): string {
  const first = unknown[0] ?? '';
  const listing =
    configured.length > 0
      ? `Configured servers: ${closestFirst(first, configured).join(', ')}.`
      : `No MCP servers are configured: add them to a *.json file in ${stateDir} (see docs/servers.md).`;
  return `Unknown server${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. ${listing}`;
}
