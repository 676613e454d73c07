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

/**
 * The sandbox writes the image frames, and user code can write any frame the runner can
 * (it reaches the runner's channel object): the host must bound what it keeps of them per
 * call, in count and bytes, before decoding anything, keep only PNG and JPEG whose bytes
 * say so, keep the result under 8 MiB, and ignore frames of any other cell.
 */

const MiB = 1024 * 1024;
const MAX_RESULT_BYTES = 8 * MiB;

/** `forge(frame_or_line)`: sends straight on the runner's channel, as the runner would. */
const FORGE = String.raw`
import base64, gc, json, sys
cell = int(sys._getframe().f_code.co_filename[len("<cell-"):-1])
channel = next(o for o in gc.get_objects() if type(o).__name__ == "Channel" and hasattr(o, "send_line"))
def forge(frame):
    line = frame if isinstance(frame, bytes) else json.dumps(frame).encode()
    channel.send_line(line + b"\n")
PNG_HEAD = b"\x89PNG\r\n\x1a\n"
def png_b64(size):
    return base64.b64encode(PNG_HEAD + b"\0" * (size - len(PNG_HEAD))).decode()
def image(data, mime="image/png", id=None):
    return {"type": "image", "id": cell if id is None else id, "mimeType": mime, "data": data}
`;

function imagesOf(result: CallToolResult): ImageContent[] {
  return result.content.filter((block): block is ImageContent => block.type === 'image');
}

describeEachEngine('image frames from user code', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost, env: engine.bridgeEnv });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  /** The session survives: the marker set before the attack is still there. */
  async function expectSessionIntact(): Promise<void> {
    const next = await bridge.run({ code: 'print(marker)' });
    expect(resultText(next), describeResult(next)).toBe('still here');
    expect(imagesOf(next)).toEqual([]);
  }

  it('5000 image frames: at most 8 kept, the rest counted and said; the next call works', async () => {
    const result = await bridge.run({
      code: `${FORGE}
marker = "still here"
small = png_b64(64)
for _ in range(5000):
    forge(image(small))
print("sent")`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(imagesOf(result)).toHaveLength(8);
    expect(resultText(result)).toContain('4992 more images dropped: at most 8 per call');
    await expectSessionIntact();
  });

  it('huge, invalid and mislabelled images are refused before decoding; the next call works', async () => {
    const result = await bridge.run({
      code: `${FORGE}
marker = "still here"
forge(image(png_b64(2_500_000)))  # 3.3 MB of base64, over the 1 MiB cap
forge(image("!!!!" * 1000))  # not base64
forge(image(png_b64(64)[:-1]))  # cut: not a multiple of 4
forge(image(png_b64(64), mime="image/svg+xml"))  # a kind clients may run
forge(image(base64.b64encode(b"<html><script>x</script>").decode()))  # no PNG magic
forge(image(base64.b64encode(b"\\xff\\xd8\\xff" + b"\\0" * 64).decode()))  # JPEG bytes as PNG
forge({"type": "image", "id": cell, "mimeType": "image/png", "data": 5})  # wrong type
forge(b'{"type":"image","id":%d,"mimeType":"image/png","data":"' % cell + b"A" * (5 * 1024 * 1024) + b'"}')  # over the 4 MiB line limit
print("sent")`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    expect(imagesOf(result)).toEqual([]);
    const text = resultText(result);
    expect(text).toContain('1 image dropped: over 1,048,576 bytes (MCP_BRIDGE_IMAGE_MAX_BYTES)');
    expect(text).toContain('5 images dropped: not valid base64 PNG or JPEG data');
    await expectSessionIntact();
  });

  it("images of other cells, and between cells, never reach a call's result", async () => {
    const result = await bridge.run({
      code: `${FORGE}
marker = "still here"
import threading
small = png_b64(64)
forge(image(small, id=cell + 1))
forge(image(small, id=cell - 1))
def between():
    for _ in range(200):
        forge(image(small, id=cell))
        forge(image(small, id=cell + 1))
threading.Thread(target=between).start()
print("sent")`,
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    // Only the thread's frames for this cell sent before done may count; none of id ± 1.
    expect(imagesOf(result).length).toBeLessThanOrEqual(8);
    const next = await bridge.run({ code: 'import time\ntime.sleep(0.2)\nprint(marker)' });
    expect(resultText(next)).toBe('still here');
    expect(imagesOf(next)).toEqual([]);
  });

  it('a result with the most images and much output stays under 8 MiB, text first', async () => {
    const result = await bridge.run({
      code: `${FORGE}
marker = "still here"
big = png_b64(1024 * 1024)
for _ in range(8):
    forge(image(big))
for _ in range(1000):
    forge({"type": "notice", "id": cell, "message": "n" * 400})
print("\\x01" * 1_000_000)
print("last line")`,
      timeout: 60,
    });
    const bytes = Buffer.byteLength(JSON.stringify(result));
    expect(bytes).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    // 4.5 MiB of images per call: four of 1 MiB.
    expect(imagesOf(result)).toHaveLength(4);
    const text = resultText(result);
    expect(text).toContain('4 images dropped: over 1,048,576 bytes');
    expect(text).toContain('more notices dropped');
    expect(text).toContain('[output truncated');
    await expectSessionIntact();
  });
});
