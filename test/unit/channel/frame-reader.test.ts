import { describe, it, expect } from 'vitest';
import { FrameReader, encodeFrame } from '../../../src/channel/frame-reader.js';
import type { HostFrame, SandboxFrame } from '../../../src/channel/frames.js';

const facts = {
  uid: 65534,
  gid: 65534,
  groups: [],
  uids: [65534, 65534, 65534],
  gids: [65534, 65534, 65534],
  capEff: '0000000000000000',
  capPrm: '0000000000000000',
  capBnd: '0000000000000000',
  capAmb: '0000000000000000',
  capInh: '0000000000000000',
  noNewPrivs: 1,
  seccomp: 2,
  mounts: [{ target: '/tmp', fstype: 'tmpfs', options: ['rw', 'nosuid', 'nodev', 'noexec'] }],
  memoryLimitBytes: 536870912,
  memorySwapLimitBytes: null,
  pidsLimit: 128,
  memTotalBytes: 536870912,
  shmSizeBytes: 8388608,
  kernel: { release: '4.4.0', version: '#1 SMP Sun Jan 10 15:06:54 PST 2016' },
  netInterfaces: ['lo'],
  cwd: '/workspace',
  home: '/workspace',
  rlimitNproc: 8192,
  rlimitNofile: 1024,
  rlimitCore: [0, 0],
  rlimitMsgqueue: [0, 0],
  errors: [],
};

const validFrames: Record<string, Record<string, unknown>> = {
  ready: { type: 'ready', nonce: '9f00', python: '3.14.0', pid: 3, facts },
  stdout: { type: 'stdout', id: 7, data: '1\n' },
  stderr: { type: 'stderr', id: 7, data: 'oops\n' },
  done: {
    type: 'done',
    id: 7,
    token: '5e1f0c8a9b7d6e4f3a2b1c0d9e8f7a6b',
    exitCode: 0,
    outcome: 'completed',
    dropped: { stdout: 0, stderr: 12 },
    durationMs: 0.21,
  },
  exited: {
    type: 'exited',
    nonce: '9f00',
    exitCode: null,
    signal: 9,
    oomKilled: true,
    memoryLimitBytes: 536870912,
  },
  rpc_request: { type: 'rpc_request', id: 3, execId: 7, payload: { type: 'list_servers' } },
  log: { type: 'log', level: 'warn', message: 'saved tool failed to load' },
};

function reader(maxLineBytes?: number) {
  const frames: SandboxFrame[] = [];
  const invalid: { reason: string; sample: string }[] = [];
  const frameReader = new FrameReader({
    onFrame: (frame) => frames.push(frame),
    onInvalid: (reason, sample) => invalid.push({ reason, sample }),
    ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
  });
  return {
    frames,
    invalid,
    pushLine(line: string) {
      frameReader.push(Buffer.from(`${line}\n`, 'utf8'));
    },
    push(text: string) {
      frameReader.push(Buffer.from(text, 'utf8'));
    },
  };
}

function without(value: Record<string, unknown> | undefined, key: string): Record<string, unknown> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

function expectRejected(value: unknown) {
  const r = reader();
  r.pushLine(JSON.stringify(value));
  expect(r.frames).toEqual([]);
  expect(r.invalid).toHaveLength(1);
  expect(r.invalid[0]?.reason).toMatch(/^not a valid frame/);
}

describe('FrameReader: valid frames', () => {
  for (const [name, frame] of Object.entries(validFrames)) {
    it(`delivers a valid ${name} frame unchanged`, () => {
      const r = reader();
      r.pushLine(JSON.stringify(frame));
      expect(r.invalid).toEqual([]);
      expect(r.frames).toEqual([frame]);
    });
  }

  it('delivers an rpc_request payload without an own __proto__ key', () => {
    const r = reader();
    r.pushLine(
      '{"type":"rpc_request","id":3,"execId":7,"payload":{"__proto__":{"x":1},"type":"list_servers"}}',
    );
    expect(r.invalid).toEqual([]);
    const frame = r.frames[0];
    expect(frame?.type === 'rpc_request' && Object.keys(frame.payload)).toEqual(['type']);
  });

  it('delivers frames in order when several arrive in one chunk', () => {
    const r = reader();
    r.push(
      `${JSON.stringify(validFrames.stdout)}\n${JSON.stringify(validFrames.stderr)}\n${JSON.stringify(validFrames.done)}\n`,
    );
    expect(r.frames.map((frame) => frame.type)).toEqual(['stdout', 'stderr', 'done']);
  });

  it('accepts every done outcome and nullable exited fields', () => {
    for (const outcome of ['completed', 'exception', 'interrupted']) {
      const r = reader();
      r.pushLine(JSON.stringify({ ...validFrames.done, outcome, exitCode: 130 }));
      expect(r.frames).toHaveLength(1);
    }
    const r = reader();
    r.pushLine(
      JSON.stringify({
        ...validFrames.exited,
        exitCode: 1,
        signal: null,
        oomKilled: false,
        memoryLimitBytes: null,
      }),
    );
    expect(r.invalid).toEqual([]);
    expect(r.frames).toHaveLength(1);
  });
});

describe('FrameReader: invalid input', () => {
  it('reports a non-JSON line with a sample and delivers nothing', () => {
    const r = reader();
    r.pushLine('Traceback (most recent call last):');
    expect(r.frames).toEqual([]);
    expect(r.invalid).toEqual([
      { reason: 'not JSON', sample: 'Traceback (most recent call last):' },
    ]);
  });

  it('bounds the sample of a bad line', () => {
    const r = reader();
    r.pushLine('x'.repeat(5000));
    expect(r.invalid).toHaveLength(1);
    expect(r.invalid[0]?.sample.length).toBeLessThanOrEqual(200);
  });

  it('rejects JSON that is not an object frame', () => {
    for (const value of [42, 'stdout', null, [validFrames.stdout], true]) expectRejected(value);
  });

  it('rejects unknown and missing types', () => {
    expectRejected({ type: 'execute', id: 1, code: 'print(1)' });
    expectRejected({ type: 'shell', id: 1, data: 'x' });
    expectRejected({ id: 1, data: 'x' });
    expectRejected({ type: 7, id: 1, data: 'x' });
  });

  it('rejects frames with missing fields', () => {
    expectRejected({ type: 'stdout', id: 7 });
    expectRejected({ type: 'stdout', data: 'x' });
    expectRejected(without(validFrames.done, 'dropped'));
    expectRejected(without(validFrames.done, 'outcome'));
    expectRejected(without(validFrames.done, 'token'));
    expectRejected(without(validFrames.exited, 'oomKilled'));
    expectRejected(without(validFrames.ready, 'facts'));
    expectRejected({ ...validFrames.ready, facts: without(facts, 'mounts') });
    expectRejected({ type: 'rpc_request', id: 3, payload: { type: 'list_servers' } });
  });

  it('rejects fields of the wrong type', () => {
    expectRejected({ type: 'stdout', id: 7, data: 42 });
    expectRejected({ ...validFrames.done, exitCode: '0' });
    expectRejected({ ...validFrames.done, outcome: 'crashed' });
    expectRejected({ ...validFrames.done, dropped: { stdout: -1, stderr: 0 } });
    expectRejected({ ...validFrames.done, durationMs: -5 });
    expectRejected({ ...validFrames.exited, oomKilled: 'yes' });
    expectRejected({ ...validFrames.rpc_request, payload: 'list_servers' });
    expectRejected({ ...validFrames.log, level: 'shout' });
    expectRejected({ ...validFrames.ready, facts: { ...facts, uid: '65534' } });
  });

  it('rejects ids that are not positive integers', () => {
    for (const id of [0, -1, 1.5, '7', null, Number.MAX_SAFE_INTEGER + 2, 1e300]) {
      expectRejected({ ...validFrames.stdout, id });
      expectRejected({ ...validFrames.done, id });
      expectRejected({ ...validFrames.rpc_request, id });
      expectRejected({ ...validFrames.rpc_request, execId: id });
    }
  });

  it('drops an oversized line, reports its size, and keeps reading', () => {
    const r = reader(64);
    const big = JSON.stringify({ type: 'stdout', id: 1, data: 'x'.repeat(100) });
    r.pushLine(big);
    r.pushLine(JSON.stringify(validFrames.stdout));
    expect(r.invalid).toHaveLength(1);
    expect(r.invalid[0]?.reason).toContain(`${Buffer.byteLength(big)} bytes`);
    expect(r.frames).toEqual([validFrames.stdout]);
  });

  it('keeps delivering valid frames after invalid ones', () => {
    const r = reader();
    r.push(`garbage\n{"type":"nope"}\n${JSON.stringify(validFrames.stdout)}\n`);
    expect(r.invalid).toHaveLength(2);
    expect(r.frames).toEqual([validFrames.stdout]);
  });

  it('ignores blank lines silently', () => {
    const r = reader();
    r.push('\n   \n\t\r\n\n');
    expect(r.frames).toEqual([]);
    expect(r.invalid).toEqual([]);
  });
});

describe('encodeFrame', () => {
  it('encodes a host frame as exactly one newline-terminated JSON line', () => {
    const frame: HostFrame = {
      type: 'execute',
      id: 1,
      doneToken: '5e1f0c8a9b7d6e4f3a2b1c0d9e8f7a6b',
      code: 'print("a")\nprint("b")\r\n\u2028x = 1',
      maxOutputChars: 1024,
    };
    const encoded = encodeFrame(frame);
    expect(encoded.endsWith('\n')).toBe(true);
    expect(encoded.slice(0, -1)).not.toMatch(/[\n\r]/);
    expect(encoded.split('\n')).toHaveLength(2);
    expect(JSON.parse(encoded)).toEqual(frame);
  });

  it('round-trips an rpc_response', () => {
    const frame: HostFrame = { type: 'rpc_response', id: 4, success: false, error: 'no\nway' };
    expect(JSON.parse(encodeFrame(frame))).toEqual(frame);
  });
});
