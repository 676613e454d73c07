import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CallToolResult, ImageContent } from '@modelcontextprotocol/sdk/types.js';
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
 * Figures come back as images (real matplotlib, Pillow and pandas from the test image),
 * within the per-call bounds, and structuredContent follows MCP_BRIDGE_STRUCTURED.
 */

const MiB = 1024 * 1024;

function imagesOf(result: CallToolResult): ImageContent[] {
  return result.content.filter((block): block is ImageContent => block.type === 'image');
}

function pngSizes(result: CallToolResult): { width: number; height: number; bytes: number }[] {
  return imagesOf(result).map((image) => {
    expect(image.mimeType).toBe('image/png');
    const data = Buffer.from(image.data, 'base64');
    const { width, height } = decodePng(data);
    return { width, height, bytes: data.length };
  });
}

const LINE_CHART = `
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(8, 6), dpi=100)
ax.plot([1, 2, 3, 4], [1, 4, 2, 3])
ax.set_title("a line chart")
print("drawn")
`;

describeEachEngine('rich results', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    // 1 GiB: the 6000×6000 figure alone takes two 144 MB buffers while it renders.
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { ...engine.bridgeEnv, MCP_BRIDGE_MEMORY: '1g' },
    });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('a matplotlib line chart comes back after the text as an 800×600 PNG; no structuredContent', async () => {
    const result = await bridge.run({ code: LINE_CHART });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(result.content[0]?.type).toBe('text');
    expect(resultText(result)).toContain('drawn');
    expect(pngSizes(result).map(({ width, height }) => [width, height])).toEqual([[800, 600]]);
    // auto: a result with images leaves structuredContent out (clients that prefer it drop images).
    expect(result.structuredContent).toBeUndefined();
    // The figure was closed: the next call returns nothing of it.
    const next = await bridge.run({
      code: 'import matplotlib.pyplot as plt\nprint(plt.get_fignums())',
    });
    expect(resultText(next)).toBe('[]');
    expect(imagesOf(next)).toEqual([]);
    expect(next.structuredContent).toBeDefined();
  });

  it('plt.show() returns the figures drawn so far, in order, and closes them', async () => {
    const result = await bridge.run({
      code: `
import matplotlib.pyplot as plt
for width in (4, 5, 6):
    plt.figure(figsize=(width, 2), dpi=50)
    plt.plot([0, 1], [1, 0])
    plt.show()
print(plt.get_fignums())
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(resultText(result)).toBe('[]');
    expect(pngSizes(result).map(({ width }) => width)).toEqual([200, 250, 300]);
  });

  it('20 figures in one call: 8 images and a notice naming the limit', async () => {
    const result = await bridge.run({
      code: `
import matplotlib.pyplot as plt
for i in range(20):
    plt.figure(figsize=(2, 2), dpi=50)
    plt.plot([0, i], [0, 1])
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(pngSizes(result)).toHaveLength(8);
    expect(resultText(result)).toMatch(
      /12 more images not shown: at most 8 per call \(MCP_BRIDGE_IMAGES_PER_CALL\)/,
    );
    const next = await bridge.run({ code: 'print(plt.get_fignums())' });
    expect(resultText(next)).toBe('[]');
  });

  it('a 6000×6000 figure arrives downscaled under the byte cap, with a notice', async () => {
    const result = await bridge.run({
      code: `
import numpy as np
import matplotlib.pyplot as plt
noise = np.random.default_rng(1).integers(0, 256, size=(1000, 1000, 3), dtype=np.uint8)
fig = plt.figure(figsize=(60, 60), dpi=100)
fig.add_axes([0, 0, 1, 1]).imshow(noise, interpolation="nearest")
`,
      timeout: 110,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const [image, ...others] = pngSizes(result);
    expect(others).toEqual([]);
    expect(image?.bytes).toBeLessThanOrEqual(MiB);
    expect(image?.width).toBeLessThan(6000);
    expect(image?.width).toBe(image?.height);
    expect(resultText(result)).toMatch(/notice: figure 1: downscaled to \d+% of its size/);
  });

  it('display() of a PIL image returns it; Image.show() too; display() of a DataFrame prints its table', async () => {
    const result = await bridge.run({
      code: `
from PIL import Image
import pandas as pd
display(Image.new("RGB", (123, 45), "red"))
Image.new("L", (10, 20)).show()
display(pd.DataFrame({"city": ["Oslo", "Lima"], "rain_mm": [763, 16]}))
`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(pngSizes(result).map(({ width, height }) => [width, height])).toEqual([
      [123, 45],
      [10, 20],
    ]);
    const text = resultText(result);
    expect(text).toMatch(/city\s+rain_mm/);
    expect(text).toMatch(/Oslo\s+763/);
  });

  it('a call that draws nothing keeps structuredContent and says nothing of images', async () => {
    const result = await bridge.run({ code: 'print(6 * 7)' });
    expect(resultText(result)).toBe('42');
    expect(imagesOf(result)).toEqual([]);
    expect(result.structuredContent).toEqual({ stdout: ['42'] });
  });
});

describeEachEngine('structuredContent per MCP_BRIDGE_STRUCTURED', (engine) => {
  const bridges: BridgeHandle[] = [];
  afterAll(async () => {
    await Promise.all(bridges.map((bridge) => bridge.close()));
  });
  const start = async (env: Record<string, string>, clientName?: string) => {
    const bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { ...engine.bridgeEnv, ...env },
      ...(clientName ? { clientName } : {}),
    });
    bridges.push(bridge);
    return bridge;
  };

  it('auto: a client that replaces content by structuredContent (Claude Code) gets none', async () => {
    const bridge = await start({}, 'claude-code');
    const result = await bridge.run({ code: 'print("hi")' });
    expect(resultText(result)).toBe('hi');
    expect(result.structuredContent).toBeUndefined();
  });

  it('never: no structuredContent, even on errors; always: kept even with images', async () => {
    const never = await start({ MCP_BRIDGE_STRUCTURED: 'never' });
    const failed = await never.run({ code: '1/0' });
    expect(failed.isError).toBe(true);
    expect(resultText(failed)).toContain('ZeroDivisionError');
    expect(failed.structuredContent).toBeUndefined();
    const always = await start({ MCP_BRIDGE_STRUCTURED: 'always' }, 'claude-code');
    const drawn = await always.run({ code: LINE_CHART });
    expect(pngSizes(drawn)).toHaveLength(1);
    expect(drawn.structuredContent).toEqual({ stdout: ['drawn'] });
  });
});
