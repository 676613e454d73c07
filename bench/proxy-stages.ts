import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBenchBridge } from './bridge-process.js';
import { EVERYTHING_BIN } from './proxy-bench.js';

/**
 * Where a proxied call's time goes on the bridge: a bridge with MCP_BRIDGE_TIMING=1 and
 * server-everything configured runs one cell of `calls` sequential `echo` calls; the
 * bridge logs, at the cell's end, the median of each step (rpc frame in → validated →
 * sent → request written → response in → answered → audited → frame out) over the first
 * and the last 100 calls (src/util/rpc-timing.ts). bench/README.md, "Start, warm call,
 * memory".
 */

export interface ProxyStageFigures {
  calls: number;
  first100: Record<string, number>;
  last100: Record<string, number>;
}

export async function measureProxyStages(
  dockerHost: string,
  image: string,
  options: { calls: number; bin?: string },
): Promise<ProxyStageFigures | undefined> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-bench-proxy-stages-'));
  try {
    const servers = {
      mcpServers: { everything: { command: process.execPath, args: [EVERYTHING_BIN] } },
    };
    writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify(servers));
    const bridge = await startBenchBridge(dockerHost, image, {
      stateDir,
      logLevel: 'info',
      env: { MCP_BRIDGE_TIMING: '1' },
      ...(options.bin ? { bin: options.bin } : {}),
    });
    try {
      const code = `for _ in range(${options.calls}):\n    await mcp_everything.echo(message="x")`;
      await bridge.client.callTool(
        { name: 'run_python', arguments: { code, servers: ['everything'], timeout: 120 } },
        undefined,
        { timeout: 180_000 },
      );
      const line = bridge.logEvents().find((event) => event.msg === 'proxied call timing');
      return line as unknown as ProxyStageFigures | undefined;
    } finally {
      await bridge.close();
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
