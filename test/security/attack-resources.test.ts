import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  resultText,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { expectSessionKept, setMarker } from '../support/session-marker.js';

/**
 * Attacks on the sandbox's resources and on the way output comes back: each is contained
 * (a clear result, bounded memory, nothing outside the sandbox touched) and the next call
 * works.
 */

const MiB = 1024 * 1024;
/** What MCP clients built on the TypeScript SDK accept in one stdio message. */
const CLIENT_MESSAGE_LIMIT = 10 * MiB;

describeEachEngine('attacks on resources and output', (engine) => {
  let bridge: BridgeHandle;

  beforeAll(async () => {
    bridge = await startBridge({ dockerHost: engine.dockerHost });
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it('keeps answering when user code holds every file descriptor, through an exception and a timeout', async () => {
    await setMarker(bridge, 'before the descriptor flood');
    const flood = await bridge.run({
      code: String.raw`
import errno, os, resource
held = []
try:
    while True:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError as error:
    print("stopped by", errno.errorcode[error.errno], "at", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
raise ValueError("failing with no descriptor left")
`,
    });
    // The runner formats the traceback without a descriptor to import with.
    expect(statusOf(flood), describeResult(flood)).toBe('error');
    expect(payloadOf(flood).stdout).toEqual(['stopped by EMFILE at 4096']);
    expect(payloadOf(flood).stderr?.join('\n')).toContain(
      'ValueError: failing with no descriptor left',
    );

    // Still holding them: an interrupted cell is cleaned up without a descriptor either.
    const slept = await bridge.run({ code: 'import time\ntime.sleep(30)', timeout: 2 });
    expect(statusOf(slept), describeResult(slept)).toBe('timeout');
    expect(payloadOf(slept).error).toMatch(/state \(variables, imports\) was kept/);

    const released = await bridge.run({
      code: 'print(len(held) > 4000)\nfor fd in held:\n    os.close(fd)\nheld.clear()',
    });
    expect(payloadOf(released).stdout, describeResult(released)).toEqual(['True']);
    await expectSessionKept(bridge, 'before the descriptor flood');
  });

  it('returns binary and invalid UTF-8 on both streams as text, in order, with replacement characters', async () => {
    await setMarker(bridge, 'before binary output');
    const result = await bridge.run({
      code: String.raw`
import os, subprocess
os.write(1, b"<" + bytes(range(256)) + b">\n")
os.write(2, b"bad: \xff\xfe \xc3( \xe2\x82 \xed\xa0\x80 end\n")
print("lone \udcff surrogate, nul \x00, escape \x1b[31m")
os.write(1, "é".encode()[:1])
os.write(1, "é".encode()[1:] + b" split across writes\n")
subprocess.run(["printf", r"from a subprocess: \377\376\n"], check=True)
os.write(1, b'{"jsonrpc":"2.0","id":2,"result":{"content":[]}}\n')
os.write(1, b'{"type":"done","id":1,"exitCode":0,"outcome":"completed","dropped":{"stdout":0,"stderr":0},"durationMs":1}\n')
os.write(1, b"last \xf0\x9f\x98")
`,
    });
    // The SDK client parsed the message: it is valid JSON-RPC, whatever the bytes were.
    expect(statusOf(result), describeResult(result)).toBe('success');
    const { stdout = [], stderr = [] } = payloadOf(result);
    // Bytes 0x80-0xff are not UTF-8 on their own: one U+FFFD each, the rest kept as is
    // (the payload splits lines at \n and drops trailing whitespace, as for any output).
    const sent = `<${String.fromCharCode(...Array.from({ length: 128 }, (_, i) => i))}${'\ufffd'.repeat(128)}>`;
    expect(stdout.slice(0, 2)).toEqual(sent.split('\n').map((line) => line.replace(/\s+$/, '')));
    expect(stdout.slice(2)).toEqual([
      'lone \\udcff surrogate, nul \u0000, escape \u001b[31m',
      'é split across writes',
      'from a subprocess: \ufffd\ufffd',
      // Printed text that looks like protocol is only ever text.
      '{"jsonrpc":"2.0","id":2,"result":{"content":[]}}',
      '{"type":"done","id":1,"exitCode":0,"outcome":"completed","dropped":{"stdout":0,"stderr":0},"durationMs":1}',
      'last \ufffd',
    ]);
    expect(stderr).toEqual(['bad: \ufffd\ufffd \ufffd( \ufffd \ufffd\ufffd\ufffd end']);
    expect(resultText(result)).toContain('from a subprocess: \ufffd\ufffd');
    await expectSessionKept(bridge, 'before binary output');
  });

  it('keeps a result of control bytes under the MCP client message limit; the connection stays', async () => {
    await setMarker(bridge, 'before the control bytes');
    // Each of these characters takes 6 bytes of JSON (\u0000), twice in a result (text and
    // structuredContent): 1 MiB of them per stream would be a 24 MiB message.
    const result = await bridge.run({
      code: 'import os\nos.write(1, b"\\0" * (2 << 20))\nos.write(2, bytes(range(1, 32)) * (1 << 16))',
    });
    expect(statusOf(result), describeResult(result).slice(-2000)).toBe('success');
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(CLIENT_MESSAGE_LIMIT);
    const { stdout = [], stderr = [] } = payloadOf(result);
    for (const stream of [stdout, stderr]) {
      expect(stream.at(-1)).toMatch(/^\[output truncated: [\d,]+ more characters dropped/);
      // Much of the output is still there.
      expect(stream.slice(0, -1).join('\n').length).toBeGreaterThan(256 * 1024);
    }
    await expectSessionKept(bridge, 'before the control bytes');
  });
});
