import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BRIDGE_BIN, REPO_ROOT } from './bridge-client.js';

const run = promisify(execFile);

/** A scratch folder whose state dir configures server-everything (and one never named). */
export function auditScratch(): { scratch: string; stateDir: string } {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'audit-trail-'));
  const stateDir = path.join(scratch, 'state');
  mkdirSync(stateDir);
  const node = process.execPath;
  const config = {
    mcpServers: {
      everything: {
        command: node,
        args: [
          path.join(
            REPO_ROOT,
            'node_modules/@modelcontextprotocol/server-everything/dist/index.js',
          ),
        ],
      },
      spare: {
        command: node,
        args: [path.join(REPO_ROOT, 'test/fixtures/misbehaving-server.mjs')],
      },
    },
  };
  writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify(config));
  return { scratch, stateDir };
}

/** Runs `mcp-server-code-execution-mode audit …` on `stateDir`; never throws on exit status. */
export async function auditCli(
  stateDir: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BRIDGE_BIN, 'audit', ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        MCP_BRIDGE_STATE_DIR: stateDir,
        MCP_BRIDGE_LOG_LEVEL: 'warn',
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error: unknown) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
