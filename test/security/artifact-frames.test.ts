import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CallToolResult, ResourceLink } from '@modelcontextprotocol/sdk/types.js';
import {
  describeResult,
  resultText,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * The sandbox names the files it returns, and the host writes them under its state dir:
 * forged `artifact` frames must never write outside `<state dir>/artifacts/<session>/`,
 * and what a call may return is bounded in count and size.
 */

const FORGE = String.raw`
import base64, gc, json, sys
cell = int(sys._getframe().f_code.co_filename[len("<cell-"):-1])
channel = next(o for o in gc.get_objects() if type(o).__name__ == "Channel" and hasattr(o, "send_line"))
def artifact(path, data=b"pwned", mime="text/plain"):
    frame = {"type": "artifact", "id": cell, "path": path, "mimeType": mime,
             "data": base64.b64encode(data).decode()}
    channel.send_line(json.dumps(frame).encode() + b"\n")
`;

function linksOf(result: CallToolResult): ResourceLink[] {
  return result.content.filter((block): block is ResourceLink => block.type === 'resource_link');
}

/** Every file under `root`, relative. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

describeEachEngine('artifact frames from user code', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('names that leave the folder are refused; nothing is written outside it; the next call works', async () => {
    await bridge.run({ code: 'pass' }); // the sandbox is up: its start writes no more files
    const before = filesUnder(bridge.stateDir);
    const result = await bridge.run({
      code: `${FORGE}
marker = "still here"
for name in ["../../../mcp-artifact-escape.txt", "../../escape.txt", "/etc/escape.txt", "a/../../escape.txt", "..", ".", "",
             "a//b", "a\\\\..\\\\..\\\\escape.txt", "C:escape.txt", "nul\\x00.txt", "tab\\t.txt",
             "/".join(["d"] * 20), "x" * 300]:
    artifact(name)
artifact("ok.txt", mime="text/html; <script>")
artifact("fine.txt")
print("sent")`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(linksOf(result).map((link) => link.name)).toEqual(['fine.txt']);
    expect(resultText(result)).toContain('15 files dropped: an unusable name, type or encoding');
    const added = filesUnder(bridge.stateDir).filter((file) => !before.includes(file));
    const session = linksOf(result)[0]?.uri.split('/')[2] ?? '?';
    expect(added).toEqual([path.join('artifacts', session, 'fine.txt')]);
    expect(existsSync(path.join(path.dirname(bridge.stateDir), 'mcp-artifact-escape.txt'))).toBe(
      false,
    );
    const next = await bridge.run({ code: 'print(marker)' });
    expect(resultText(next)).toBe('still here');
  });

  it('1000 files in one call: at most 32 kept, the rest counted; oversize refused by length', async () => {
    const result = await bridge.run({
      code: `${FORGE}
for i in range(1000):
    artifact(f"many/{i}.txt")
print("sent")`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(linksOf(result)).toHaveLength(32);
    expect(resultText(result)).toContain('968 more files dropped: at most 32 per call');
    const big = await bridge.run({
      code: `${FORGE}
artifact("big.bin", b"\\0" * (3 * 1024 * 1024 - 100))
print("sent")`,
    });
    expect(linksOf(big)).toEqual([]);
    expect(resultText(big)).toContain('1 files dropped: over 2,097,152 bytes');
  });
});
