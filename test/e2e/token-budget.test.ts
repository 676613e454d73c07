import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBridge } from '../support/bridge-client.js';

/**
 * The point of the product: the agent's context holds one small tool whatever is
 * configured. tools/list must not grow with the catalog.
 */

/** ~4 characters per token for JSON-ish English; 250 tokens ≈ 1000 characters. */
const MAX_TOOLS_LIST_CHARS = 1000;

function writeServers(stateDir: string, count: number): void {
  const servers = Object.fromEntries(
    Array.from({ length: count }, (_, index) => [
      `server-${index}`,
      { command: 'node', args: [`/opt/server-${index}.js`], description: `Server number ${index}` },
    ]),
  );
  writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify({ mcpServers: servers }));
}

describe('tools/list token budget', () => {
  it('stays under ~250 tokens and identical with 0, 7 and 100 configured servers', async () => {
    const answers: string[] = [];
    for (const count of [0, 7, 100]) {
      const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-budget-'));
      writeServers(stateDir, count);
      // No container is needed to list tools: the engine is looked up lazily.
      const bridge = await startBridge({ dockerHost: 'unix:///nonexistent.sock', stateDir });
      try {
        const list = await bridge.client.listTools();
        expect(list.tools.map((tool) => tool.name)).toEqual(['run_python']);
        answers.push(JSON.stringify(list));
      } finally {
        await bridge.close();
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
    for (const answer of answers) expect(answer.length).toBeLessThanOrEqual(MAX_TOOLS_LIST_CHARS);
    expect(new Set(answers).size).toBe(1);
  });
});
