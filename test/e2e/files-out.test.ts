import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type {
  CallToolResult,
  EmbeddedResource,
  ResourceLink,
} from '@modelcontextprotocol/sdk/types.js';
import {
  describeResult,
  resultText,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { decodePng } from '../support/png.js';

/**
 * Files out: what a call writes under /workspace/out (or hands to runtime.save_artifact)
 * comes back as resource links (small text embedded too), images as images; the bytes are
 * kept on the host and read back with resources/read.
 */

function linksOf(result: CallToolResult): ResourceLink[] {
  return result.content.filter((block): block is ResourceLink => block.type === 'resource_link');
}

function embeddedOf(result: CallToolResult): EmbeddedResource[] {
  return result.content.filter((block): block is EmbeddedResource => block.type === 'resource');
}

describeEachEngine('files out', (engine) => {
  let bridge: BridgeHandle;
  let copies: string;

  beforeAll(async () => {
    copies = mkdtempSync(path.join(os.tmpdir(), 'mcp-artifacts-copy-'));
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      // `all`: the executor's tools too, whose JSON answers carry no files.
      env: { ...engine.bridgeEnv, MCP_BRIDGE_ARTIFACTS_DIR: copies, MCP_BRIDGE_TOOLS: 'all' },
    });
  });
  afterAll(async () => {
    await bridge?.close();
    rmSync(copies, { recursive: true, force: true });
  });

  it('a CSV written with pandas comes back as a link and embedded text; resources/read gives its bytes', async () => {
    const result = await bridge.run({
      code: `
import base64, json, pandas as pd
pd.DataFrame({"city": ["Oslo", "Lima"], "rain_mm": [763, 16]}).to_csv("/workspace/out/rain.csv", index=False)
print("JSON " + json.dumps(base64.b64encode(open("/workspace/out/rain.csv", "rb").read()).decode()))
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const printed = /^JSON (.*)$/m.exec(resultText(result))?.[1] ?? '""';
    const written = Buffer.from(JSON.parse(printed) as string, 'base64');
    const [link, ...others] = linksOf(result);
    expect(others).toEqual([]);
    expect(link).toMatchObject({ name: 'rain.csv', mimeType: 'text/csv', size: written.length });
    expect(link?.uri).toMatch(/^artifact:\/\/[0-9a-f-]{36}\/rain\.csv$/);
    expect(embeddedOf(result)[0]?.resource).toMatchObject({
      uri: link?.uri,
      text: written.toString('utf8'),
    });
    // structuredContent is left out when a result carries links (auto).
    expect(result.structuredContent).toBeUndefined();

    const read = await bridge.client.readResource({ uri: link?.uri ?? '' });
    const content = read.contents[0];
    expect(content && 'text' in content ? content.text : undefined).toBe(written.toString('utf8'));
    const listed = await bridge.client.listResources();
    expect(listed.resources.map((resource) => resource.uri)).toContain(link?.uri);

    // Kept on the host (the state dir), and copied to MCP_BRIDGE_ARTIFACTS_DIR.
    const session = link?.uri.split('/')[2] ?? '';
    const kept = path.join(bridge.stateDir, 'artifacts', session, 'rain.csv');
    expect(readFileSync(kept)).toEqual(written);
    expect(readFileSync(path.join(copies, session, 'rain.csv'))).toEqual(written);

    // Unchanged files are not returned again.
    const next = await bridge.run({ code: 'print("again")' });
    expect(linksOf(next)).toEqual([]);
  });

  it('a file written by execute_python_code (JSON answer, no files) comes back with the next run_python', async () => {
    const executed = (await bridge.client.callTool({
      name: 'execute_python_code',
      arguments: {
        code: 'open("/workspace/out/from-executor.txt", "w").write("kept for later")',
        allow_unsafe: true,
      },
    })) as CallToolResult;
    expect(JSON.parse(resultText(executed)), resultText(executed)).toMatchObject({ success: true });
    expect(linksOf(executed)).toEqual([]);

    const next = await bridge.run({ code: 'print("next")' });
    expect(linksOf(next).map((link) => link.name)).toEqual(['from-executor.txt']);
    expect(embeddedOf(next)[0]?.resource).toMatchObject({ text: 'kept for later' });
  });

  it('save_artifact: bytes come back as a blob, a PNG file as an image', async () => {
    const result = await bridge.run({
      code: `
from mcp import runtime
from PIL import Image
runtime.save_artifact("data/blob.bin", bytes(range(256)) * 4)
Image.new("RGB", (30, 20), "blue").save("/workspace/out/blue.png")
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const [link] = linksOf(result);
    expect(link).toMatchObject({ name: 'data/blob.bin', size: 1024 });
    expect(embeddedOf(result)).toEqual([]);
    const read = await bridge.client.readResource({ uri: link?.uri ?? '' });
    const content = read.contents[0];
    const blob = content && 'blob' in content ? content.blob : '';
    expect(Buffer.from(blob, 'base64')).toEqual(
      Buffer.concat(
        Array.from({ length: 4 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i))),
      ),
    );
    const images = result.content.filter((block) => block.type === 'image');
    expect(images).toHaveLength(1);
    const image = images[0];
    const png = decodePng(Buffer.from(image?.type === 'image' ? image.data : '', 'base64'));
    expect([png.width, png.height]).toEqual([30, 20]);
  });

  it('a symlink to /etc/passwd, a FIFO and a path escape are refused with a notice; the next call works', async () => {
    const result = await bridge.run({
      code: `
import os
from mcp import runtime
os.symlink("/etc/passwd", "/workspace/out/passwd")
os.symlink("/etc", "/workspace/out/etc")
os.mkfifo("/workspace/out/pipe")
try:
    runtime.save_artifact("../escape.txt", "x")
except ValueError as error:
    print("refused:", error)
marker = "still here"
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(linksOf(result)).toEqual([]);
    const text = resultText(result);
    expect(text).toMatch(
      /not returned \(links, FIFOs, sockets and devices are refused\): etc, passwd, pipe/,
    );
    expect(text).toContain('refused: artifact name must be a relative path');
    const next = await bridge.run({ code: 'print(marker)' });
    expect(resultText(next)).toBe('still here');
    expect(existsSync(path.join(bridge.stateDir, 'artifacts', 'escape.txt'))).toBe(false);
  });
});
