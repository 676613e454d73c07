import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { BridgeConfig } from '../../config/env.js';
import { errorMessage } from '../../errors.js';
import type { CallControl, RunReport, SandboxSession } from '../../session/sandbox-session.js';
import { installMissingImports, type DependencyInstaller } from '../dependencies.js';
import type { HistoryStore } from '../../state/history-store.js';
import { recordExecution } from '../history-recorder.js';
import { pythonCall, runInternalCell } from '../internal-cell.js';
import { renderWithinLimit } from '../result-size.js';
import {
  executorArgumentSchemas,
  type ExecutorSchemas,
  type ExecutorToolName,
} from './definitions.js';

/** What the history tools read and write (src/state/history-store.ts). */
export type HistoryReader = Pick<HistoryStore, 'newId' | 'record' | 'recent' | 'count' | 'clear'>;

export interface ExecutorDependencies {
  config: BridgeConfig;
  session: SandboxSession;
  sessionId: string;
  history: HistoryReader | undefined;
  packages: DependencyInstaller | undefined;
}

interface SafetyReport {
  is_safe: boolean;
  warnings: string[];
}

/** The seed's JSON result as an MCP tool result: JSON text plus the same structured value. */
function jsonResult(value: Record<string, unknown>, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(value, null, 2) }],
    structuredContent: value,
    isError,
  };
}

function invalid(error: z.ZodError): CallToolResult {
  const message = error.issues[0]?.message ?? 'Invalid arguments';
  return jsonResult({ success: false, error: message }, true);
}

/** Runs one of the executor tools; every failure is a result, never a thrown error. */
export async function callExecutorTool(
  name: ExecutorToolName,
  rawArgs: unknown,
  deps: ExecutorDependencies,
  control: CallControl = {},
): Promise<CallToolResult> {
  const args = rawArgs ?? {};
  const schemas = executorArgumentSchemas(deps.config.executor.timeoutSeconds);
  try {
    switch (name) {
      case 'execute_python_code': {
        const parsed = schemas.execute_python_code.safeParse(args);
        return parsed.success
          ? await executeCode(parsed.data, deps, control)
          : invalid(parsed.error);
      }
      case 'install_python_package': {
        const parsed = schemas.install_python_package.safeParse(args);
        if (!parsed.success) return invalid(parsed.error);
        const outcome = deps.packages
          ? await deps.packages.install(parsed.data.package_name)
          : { success: false, message: 'Package installs are not available' };
        // The seed's fields only: what the package layer adds (its own names for the same
        // facts, versions, timings) stays out of this answer.
        return jsonResult(
          {
            package_name: parsed.data.package_name,
            success: outcome.success,
            message: outcome.message,
            installed_at: new Date().toISOString(),
          },
          !outcome.success,
        );
      }
      case 'list_installed_packages': {
        const packages = await runInternalCell(
          deps.session,
          pythonCall('mcp.runtime', 'list_packages', []),
        );
        const list = Array.isArray(packages) ? packages : [];
        return jsonResult({
          packages: list,
          total_count: list.length,
          retrieved_at: new Date().toISOString(),
        });
      }
      case 'get_execution_history': {
        const parsed = schemas.get_execution_history.safeParse(args);
        if (!parsed.success) return invalid(parsed.error);
        const entries = deps.history?.recent(parsed.data.limit ?? 20) ?? [];
        return jsonResult({
          history: entries.map((entry) => ({
            execution_id: entry.id,
            code: entry.code,
            success: entry.status === 'success',
            status: entry.status,
            execution_time: entry.durationMs / 1000,
            executed_at: entry.startedAt,
          })),
          total_count: deps.history?.count() ?? 0,
          retrieved_at: new Date().toISOString(),
        });
      }
      case 'clear_execution_history':
        return jsonResult({
          cleared_count: deps.history?.clear() ?? 0,
          cleared_at: new Date().toISOString(),
        });
      case 'check_code_safety': {
        const parsed = schemas.check_code_safety.safeParse(args);
        if (!parsed.success) return invalid(parsed.error);
        const report = await checkSafety(deps.session, parsed.data.code);
        return jsonResult({
          code: parsed.data.code,
          is_safe: report.is_safe,
          warnings: report.warnings,
          checked_at: new Date().toISOString(),
        });
      }
    }
  } catch (error: unknown) {
    return jsonResult({ success: false, error: errorMessage(error) }, true);
  }
}

async function checkSafety(session: SandboxSession, code: string): Promise<SafetyReport> {
  const report = (await runInternalCell(
    session,
    pythonCall('mcp.runtime', 'check_code_safety', [code]),
  )) as Partial<SafetyReport>;
  return {
    is_safe: report.is_safe === true,
    warnings: Array.isArray(report.warnings) ? report.warnings : [],
  };
}

async function executeCode(
  args: z.infer<ExecutorSchemas['execute_python_code']>,
  deps: ExecutorDependencies,
  control: CallControl,
): Promise<CallToolResult> {
  const { config, session } = deps;
  const executionId = deps.history?.newId() ?? `exec_${Date.now()}`;
  const executedAt = new Date();
  const base = { execution_id: executionId, executed_at: executedAt.toISOString() };
  const record = {
    id: executionId,
    session: deps.sessionId,
    tool: 'execute_python_code',
    code: args.code,
    startedAt: executedAt,
    servers: [],
  };
  if (!args.allow_unsafe && !config.executor.allowUnsafe) {
    const safety = await checkSafety(session, args.code);
    if (!safety.is_safe) {
      const stderr = `Code safety check failed (pass allow_unsafe to run it anyway):\n${safety.warnings.join('\n')}`;
      recordExecution(deps.history, { ...record, status: 'refused', error: 'unsafe code refused' });
      return jsonResult(
        {
          ...base,
          success: false,
          stdout: '',
          stderr,
          return_code: -1,
          execution_time: 0,
          dependencies_info: '',
          completed_at: new Date().toISOString(),
        },
        true,
      );
    }
  }
  const dependencies = await installMissingImports(
    session,
    args.code,
    deps.packages,
    control.signal,
  );
  const timeout = Math.min(
    args.timeout ?? config.executor.timeoutSeconds,
    config.maxTimeoutSeconds,
  );
  const report = await session.run(args.code, timeout, {}, { ...control, returnsMedia: false });
  const success = report.outcome === 'completed' && report.exitCode === 0;
  const status = success ? 'success' : executorStatus(report.outcome);
  recordExecution(deps.history, { ...record, status, report });
  const stderr = [report.stderr, report.lostReason ?? '', ...report.notices]
    .filter(Boolean)
    .join('\n');
  const completedAt = new Date().toISOString();
  return renderWithinLimit({ stdout: report.stdout, stderr }, (texts) =>
    jsonResult(
      {
        ...base,
        success,
        stdout: texts.stdout,
        stderr: texts.stderr,
        return_code: report.exitCode ?? -1,
        execution_time: report.durationMs / 1000,
        dependencies_info: dependencies.info,
        completed_at: completedAt,
      },
      !success,
    ),
  );
}

/** The history status of an execution that did not succeed. */
function executorStatus(outcome: RunReport['outcome']): string {
  return outcome === 'timeout' || outcome === 'cancelled' ? outcome : 'error';
}
