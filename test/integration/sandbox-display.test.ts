import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxFrameSchema } from '../../src/channel/frames.js';
import { SandboxProcess, type Frame } from '../support/sandbox-process.js';

// display() and the end-of-cell figure check in the runner on the host's python3, which
// has neither matplotlib nor Pillow: as under the default python:3.14-slim image,
// everything must work without them (the container e2e tests use the real libraries).

const LIMITS = { maxImages: 2, maxImageBytes: 64 * 1024, maxTotalBytes: 100 * 1024 };

/** A class whose _repr_png_ returns a real PNG of `size` bytes (padded after IEND). */
const PNG_OBJECT = String.raw`
import base64, zlib, struct
def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
def tiny_png(pad=0):
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"\x00\x00")) + _chunk(b"IEND", b"") + b"\0" * pad)
class Picture:
    def __init__(self, pad=0):
        self.pad = pad
    def _repr_png_(self):
        return tiny_png(self.pad)
`;

function imagesOf(output: Frame[]): Frame[] {
  return output.filter((frame) => frame.type === 'image');
}

function noticesOf(output: Frame[]): string[] {
  return output.filter((frame) => frame.type === 'notice').map((frame) => String(frame.message));
}

describe('display() in the runner without matplotlib or Pillow', () => {
  let sandbox: SandboxProcess;

  beforeAll(async () => {
    sandbox = new SandboxProcess();
    await sandbox.takeType('ready');
    await sandbox.execute(PNG_OBJECT);
  });
  afterAll(async () => {
    await sandbox.close();
  });

  async function run(code: string, display: object | null = LIMITS) {
    const result = await sandbox.finish(sandbox.start(code, 1 << 20, display ? { display } : {}));
    for (const frame of result.output)
      expect(sandboxFrameSchema.safeParse(frame).success).toBe(true);
    return result;
  }

  it('imports neither matplotlib nor PIL at start or in a cell that draws nothing', async () => {
    const result = await run(
      'import sys\nprint(sorted(m for m in sys.modules if m.split(".")[0] in ("matplotlib", "PIL")))',
    );
    expect(result.stdout).toBe('[]\n');
    expect(imagesOf(result.output)).toEqual([]);
    expect(noticesOf(result.output)).toEqual([]);
  });

  it('a cell that imports matplotlib and fails still ends normally', async () => {
    const result = await run('import matplotlib.pyplot');
    expect(result.done).toMatchObject({ outcome: 'exception' });
    expect(result.stderr).toContain('ModuleNotFoundError');
    expect(imagesOf(result.output)).toEqual([]);
  });

  it('display() of an object with _repr_png_ sends one image frame with its bytes', async () => {
    const result = await run('display(Picture())');
    const [image, ...others] = imagesOf(result.output);
    expect(others).toEqual([]);
    expect(image).toMatchObject({ mimeType: 'image/png' });
    const data = Buffer.from(String(image?.data), 'base64');
    expect(data.subarray(1, 4).toString()).toBe('PNG');
    expect(result.done).toMatchObject({ outcome: 'completed' });
  });

  it('an image over the cap without Pillow is dropped with a notice saying why', async () => {
    const result = await run('display(Picture(pad=200_000))\nprint("went on")');
    expect(result.stdout).toBe('went on\n');
    expect(imagesOf(result.output)).toEqual([]);
    expect(noticesOf(result.output).join('\n')).toMatch(
      /too large and could not be downscaled \(Pillow is not installed\)/,
    );
  });

  it('past the count: the rest are only counted, and said', async () => {
    const result = await run('for _ in range(50):\n    display(Picture())');
    expect(imagesOf(result.output)).toHaveLength(2);
    expect(noticesOf(result.output)).toEqual([
      '48 more images not shown: at most 2 per call (MCP_BRIDGE_IMAGES_PER_CALL)',
    ]);
  });

  it('objects without an image repr print their markdown or repr', async () => {
    const result = await run(
      'class Md:\n    def _repr_markdown_(self):\n        return "**bold**"\n' +
        'class Html:\n    def _repr_html_(self):\n        return "<b>x</b>"\n' +
        'display(Md(), Html(), {"a": 1})',
    );
    expect(result.stdout).toBe("**bold**\n<b>x</b>\n{'a': 1}\n");
  });

  it("a call without display limits (the bridge's own cells) sends no image", async () => {
    const result = await run('display(Picture())', null);
    expect(imagesOf(result.output)).toEqual([]);
  });

  it('display() from a thread after its cell ended sends nothing', async () => {
    await run(
      'import threading\nlate = threading.Event()\n' +
        'def later():\n    late.wait()\n    display(Picture())\n    late.clear()\n' +
        'threading.Thread(target=later).start()',
    );
    // Between cells: the thread displays, then says so by clearing the event.
    const between = await run('late.set()\nwhile late.is_set():\n    pass\nprint("ok")');
    expect(between.stdout).toBe('ok\n');
  });
});
