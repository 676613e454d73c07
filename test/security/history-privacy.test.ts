import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import {
  describeResult,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * Several MCP clients may start bridges on one state dir, and so share one history file.
 * The code of one client's executions must not be readable from another client's sandbox:
 * `runtime.history()` answers only with the records of the bridge it runs under.
 */

const READ_HISTORY = [
  'import json',
  'from mcp import runtime',
  'print("JSON " + json.dumps([entry["code"] for entry in runtime.history(1000)]))',
].join('\n');

describeEachEngine('history privacy between bridges on one state dir', (engine) => {
  it("a sandbox's history() holds only its own bridge's executions", async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-history-privacy-'));
    const bridges: BridgeHandle[] = [];
    try {
      const first = await startBridge({ dockerHost: engine.dockerHost, stateDir });
      bridges.push(first);
      const second = await startBridge({ dockerHost: engine.dockerHost, stateDir });
      bridges.push(second);
      const secret = `SECRET_${randomBytes(8).toString('hex')}`;
      const own = `OWN_${randomBytes(8).toString('hex')}`;

      const written = await first.run({ code: `token = "${secret}"\nprint(len(token))` });
      expect(statusOf(written), describeResult(written)).toBe('success');
      const mine = await second.run({ code: `note = "${own}"` });
      expect(statusOf(mine), describeResult(mine)).toBe('success');

      const seen = await second.run({ code: READ_HISTORY });
      expect(statusOf(seen), describeResult(seen)).toBe('success');
      const secondCodes = printedJson<string[]>(seen).join('\n');
      expect(secondCodes).not.toContain(secret);
      expect(secondCodes).toContain(own);

      // The first bridge's sandbox still reads its own records, and only those.
      const firstCodes = printedJson<string[]>(await first.run({ code: READ_HISTORY })).join('\n');
      expect(firstCodes).toContain(secret);
      expect(firstCodes).not.toContain(own);
    } finally {
      for (const bridge of bridges) await bridge.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
