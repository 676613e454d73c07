import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyFrameSchema, sandboxFrameSchema } from '../../src/channel/frames.js';
import { waitFor } from '../support/bridge-client.js';
import {
  killAllOf,
  liveProcessesOf,
  processGone,
  SandboxProcess,
  type ExecuteResult,
  type Frame,
} from '../support/sandbox-process.js';

// The runner (sandbox/) on the host's python3 over pipes, as the host drives it through
// the container's stdin/stdout (docs/protocol.md). Facts differ from a container here
// (root, no seccomp), so only their shape is checked; the container e2e tests check values.

/** Every frame must pass the host's own schema. */
function valid(frame: Frame): Frame {
  const parsed = sandboxFrameSchema.safeParse(frame);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  return frame;
}

describe('sandbox runner', () => {
  let sandbox: SandboxProcess;
  let ready: Frame;

  beforeAll(async () => {
    // What Podman 4.3 may write into stdin before us, a stale boot and a non-JSON line.
    const preamble =
      '{"stream":true,"stdin":true,"stdout":true}\n' +
      '{"type":"boot","nonce":"stale","modules":{},"entry":"nothing"}\n\u0000garbage\n';
    sandbox = new SandboxProcess({ preamble });
    ready = await sandbox.takeType('ready');
  });
  afterAll(async () => {
    await sandbox.close();
    expect(sandbox.badLines).toEqual([]);
  });

  it('skips garbage before the boot frame and reports ready with facts', () => {
    // The host's schema checks every documented field and its type.
    const { nonce, python, facts } = readyFrameSchema.parse(ready);
    expect(nonce).toBe(sandbox.nonce);
    expect(python).toMatch(/^3\.\d+\.\d+$/);
    for (const cap of [facts.capEff, facts.capPrm, facts.capBnd, facts.capAmb, facts.capInh])
      expect(cap).toMatch(/^[0-9a-f]{16}$/);
    expect(facts.uid).toBe(process.getuid?.());
    expect(facts.cwd).toBe('/tmp');
    expect(facts.netInterfaces).toContain('lo');
    expect(facts.mounts.map((mount) => mount.target)).toContain('/');
    expect(sandbox.unread).toEqual([]); // the garbage produced no frame at all
  });

  it('sends printed output and a done frame', async () => {
    const result = await sandbox.execute('print("hello")');
    expect(result.stdout).toBe('hello\n');
    expect(valid(result.done)).toMatchObject({
      exitCode: 0,
      outcome: 'completed',
      dropped: { stdout: 0, stderr: 0 },
    });
    result.output.forEach(valid);
  });

  it("echoes the execute frame's doneToken in its done frame", async () => {
    const token = 'c0ffee00112233445566778899aabbcc';
    const id = sandbox.start('print("hi")', 1 << 20, { doneToken: token });
    const result = await sandbox.finish(id);
    expect(result.stdout).toBe('hi\n');
    expect(valid(result.done)).toMatchObject({ token, outcome: 'completed' });
  });

  it('keeps variables, imports and functions between executions', async () => {
    await sandbox.execute('import math\nx = 41\ndef inc(v):\n    return v + 1');
    expect((await sandbox.execute('print(inc(x), math.floor(math.pi))')).stdout).toBe('42 3\n');
  });

  it('runs top-level await on a persistent loop', async () => {
    const code = 'import asyncio\nawait asyncio.sleep(0.01)\nprint("ok")';
    expect((await sandbox.execute(code)).stdout).toBe('ok\n');
    const again = await sandbox.execute(
      'loop = asyncio.get_running_loop()\nawait asyncio.sleep(0)\nprint("ok")',
    );
    expect(again.stdout).toBe('ok\n');
  });

  it('keeps the event loop usable after a KeyboardInterrupt left it mid-turn', async () => {
    // The cell's task is done and its done callback scheduled when the interrupt leaves
    // the loop; with loop.run_until_complete that stale callback would stop the next
    // run early ("Event loop stopped before Future completed").
    const code =
      'import asyncio\ndef boom():\n    raise KeyboardInterrupt\n\n' +
      'await asyncio.sleep(0)\nasyncio.get_running_loop().call_soon(boom)';
    const raised = await sandbox.execute(code);
    expect(raised.done).toMatchObject({ outcome: 'exception' });
    expect(raised.stderr).toMatch(/KeyboardInterrupt\n$/);
    expect((await sandbox.execute('await asyncio.sleep(0.01)\nprint("ok")')).stdout).toBe('ok\n');
  });

  it('reports an exception with the cell traceback and goes on', async () => {
    const id = sandbox.start('def boom():\n    raise ValueError("bad")\n\nboom()');
    const result = await sandbox.finish(id);
    expect(result.done).toMatchObject({ exitCode: 1, outcome: 'exception' });
    expect(result.stderr).toContain(`File "<cell-${id}>", line 2, in boom`);
    expect(result.stderr).toContain('raise ValueError("bad")');
    expect(result.stderr).toMatch(/ValueError: bad\n$/);
    expect(result.stderr).not.toContain('/sandbox/'); // runner frames removed
    expect((await sandbox.execute('print("still here")')).stdout).toBe('still here\n');
  });

  it('maps sys.exit to a completed outcome with its status', async () => {
    expect((await sandbox.execute('import sys\nsys.exit(3)')).done).toMatchObject({
      exitCode: 3,
      outcome: 'completed',
    });
    expect((await sandbox.execute('sys.exit()')).done).toMatchObject({
      exitCode: 0,
      outcome: 'completed',
    });
    expect((await sandbox.execute('sys.exit(-1)')).done).toMatchObject({ exitCode: 255 });
    const message = await sandbox.execute('sys.exit("bye")');
    expect(message.done).toMatchObject({ exitCode: 1, outcome: 'completed' });
    expect(message.stderr).toBe('bye\n');
  });

  it('treats a KeyboardInterrupt nobody asked for as an ordinary exception', async () => {
    const result = await sandbox.execute('raise KeyboardInterrupt');
    expect(result.done).toMatchObject({ exitCode: 1, outcome: 'exception' });
  });

  it('caps output per stream and counts the rest, cheaply', async () => {
    // How long this takes is a figure of bench/runner.bench.ts.
    const result = await sandbox.execute(
      'print("x" * 50_000_000)\nimport os\nos.write(2, b"e" * 3_000_000)',
      1000,
    );
    expect(result.stdout).toBe('x'.repeat(1000));
    expect(result.stderr).toBe('e'.repeat(1000));
    expect(result.done.dropped).toEqual({ stdout: 50_000_001 - 1000, stderr: 3_000_000 - 1000 });
    // Peak memory: the 50 MB string itself (about 62 MB in all here), but no copy of it.
    const rss = await sandbox.execute(
      'import resource\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)',
    );
    expect(Number(rss.stdout) * 1024).toBeLessThan(100 * 1024 * 1024);
  });

  it('splits long output into frames of at most 64 Ki characters', async () => {
    const result = await sandbox.execute('print("y" * 150_000)', 200_000);
    expect(result.stdout).toBe(`${'y'.repeat(150_000)}\n`);
    for (const frame of result.output)
      expect(String(frame.data).length).toBeLessThanOrEqual(65_536);
  });

  it('captures fd-level and subprocess output in order, before done', async () => {
    const code = [
      'import os, subprocess',
      'print("a")',
      'os.write(1, b"x\\n")',
      'subprocess.run(["echo", "hi"])',
      'subprocess.run(["sh", "-c", "echo err >&2"])',
      'print("b")',
    ].join('\n');
    const result = await sandbox.execute(code);
    expect(result.stdout).toBe('a\nx\nhi\nb\n');
    expect(result.stderr).toBe('err\n');
  });

  it('lets user code redirect sys.stdout, and restores it for the next cell', async () => {
    const code =
      'import contextlib, io\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    print("hidden")\nimport sys\nsys.stdout = io.StringIO()';
    expect((await sandbox.execute(code)).stdout).toBe('');
    expect((await sandbox.execute('print(buf.getvalue().strip())')).stdout).toBe('hidden\n');
  });

  it('discards output produced between executions', async () => {
    // A thread prints once the host says the cell has ended (the `go` file), then marks
    // that it has printed; the next cell starts only after that mark.
    const folder = mkdtempSync(path.join(os.tmpdir(), 'runner-late-'));
    const go = path.join(folder, 'go');
    const printed = path.join(folder, 'printed');
    try {
      await sandbox.execute(
        [
          'import pathlib, threading, time',
          'def late():',
          `    go, printed = pathlib.Path(${JSON.stringify(go)}), pathlib.Path(${JSON.stringify(printed)})`,
          '    deadline = time.monotonic() + 20',
          '    while not go.exists() and time.monotonic() < deadline:',
          '        time.sleep(0.01)',
          '    print("late")',
          '    printed.touch()',
          'threading.Thread(target=late, daemon=True).start()',
        ].join('\n'),
      );
      writeFileSync(go, '');
      expect(await waitFor(() => existsSync(printed), 20_000, 10)).toBe(true);
      expect((await sandbox.execute('print("next")')).stdout).toBe('next\n');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('shows the cell frames of an exception raised in a coroutine', async () => {
    const code =
      'async def fail():\n    await asyncio.sleep(0)\n    raise RuntimeError("async bad")\n\nawait fail()';
    const id = sandbox.start(code);
    const { stderr, done } = await sandbox.finish(id);
    expect(done).toMatchObject({ outcome: 'exception', exitCode: 1 });
    expect(stderr).toMatch(new RegExp(`^Traceback[^\\n]*\\n  File "<cell-${id}>", line 5`));
    expect(stderr).toContain(`File "<cell-${id}>", line 3, in fail`);
    expect(stderr).not.toContain('asyncio');
  });

  it('lets a process forked by user code end its copy of the cell quietly', async () => {
    // The child forks once more (the at-fork hooks run twice), then leaves the cell.
    const code = [
      'import os, sys',
      'pid = os.fork()',
      'if pid == 0:',
      '    if os.fork() == 0:',
      '        os._exit(0)',
      '    os.wait()',
      '    print("child")',
      '    sys.exit(5)',
      'print("parent", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
    ].join('\n');
    const id = sandbox.start(code);
    const result = await sandbox.finish(id);
    expect(result.stdout).toBe('child\nparent 5\n');
    expect(result.stderr).toBe('');
    expect(result.done).toMatchObject({ outcome: 'completed', exitCode: 0 });
    await sandbox.execute('pass');
    expect(sandbox.unread.filter((frame) => frame.id === id)).toEqual([]); // no second done
  });

  it('gives user code an empty stdin', async () => {
    const result = await sandbox.execute('input()');
    expect(result.done).toMatchObject({ outcome: 'exception' });
    expect(result.stderr).toContain('EOFError');
  });

  /** Starts `code` (after a first line of output), interrupts it, checks the outcome. */
  async function interrupt(code: string): Promise<ExecuteResult> {
    const id = sandbox.start(`print("started")\n${code}`);
    await sandbox.take((f) => f.id === id && f.type === 'stdout');
    // The code would run for 30 s, past finish()'s deadline: done in time means the
    // interrupt took. How soon is a figure of bench/runner.bench.ts.
    sandbox.send({ type: 'interrupt', id });
    const result = await sandbox.finish(id);
    expect(valid(result.done)).toMatchObject({ outcome: 'interrupted', exitCode: 130 });
    expect(result.stderr).toMatch(/KeyboardInterrupt\n$/);
    expect(result.stderr).not.toContain('/sandbox/'); // not even the SIGINT handler's frame
    return result;
  }

  it('interrupts a sleeping cell and keeps the session', async () => {
    await interrupt('kept = "yes"\nimport time\ntime.sleep(30)');
    expect((await sandbox.execute('print(kept)')).stdout).toBe('yes\n');
  });

  it('interrupts a pure-Python busy loop', async () => {
    await interrupt('while True:\n    pass');
  });

  it('interrupts a cell that prints without pause, frames intact', async () => {
    await interrupt('while True:\n    print("x" * 100)');
    expect((await sandbox.execute('print("after")')).stdout).toBe('after\n');
    expect(sandbox.badLines).toEqual([]);
  });

  it('interrupts an awaiting cell and cancels its task', async () => {
    await interrupt('import asyncio\nawait asyncio.sleep(30)');
    expect((await sandbox.execute('await asyncio.sleep(0)\nprint("loop ok")')).stdout).toBe(
      'loop ok\n',
    );
  });

  it('ignores an interrupt for an execution that is not running', async () => {
    sandbox.send({ type: 'interrupt', id: 999_999 });
    expect((await sandbox.execute('print(1)')).done).toMatchObject({ outcome: 'completed' });
  });

  it('kills the processes of an interrupted cell, not those of earlier cells', async () => {
    await sandbox.execute('import subprocess\nfirst = subprocess.Popen(["sleep", "100"])');
    const orphanCode =
      'subprocess.run(["sh", "-c", "sleep 100 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True)';
    const orphan = Number((await sandbox.execute(`print(${orphanCode}.stdout.strip())`)).stdout);
    await interrupt('second = subprocess.Popen(["sleep", "100"])\nimport time\ntime.sleep(30)');
    const polls = await sandbox.execute('print(first.poll(), second.poll())');
    expect(polls.stdout).toBe('None -9\n');
    expect(readFileSync(`/proc/${orphan}/stat`, 'utf8')).toMatch(/\) S /); // still sleeping
    process.kill(orphan, 'SIGKILL');
    await sandbox.execute('first.kill()\nfirst.wait()');
  });

  it('kills an orphan (double fork) started by an interrupted cell', async () => {
    const id = sandbox.start(
      'import subprocess, time\nprint(subprocess.run(["sh", "-c", "sleep 100 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True).stdout, end="")\ntime.sleep(30)',
    );
    const pid = Number((await sandbox.take((f) => f.id === id && f.type === 'stdout')).data);
    expect(pid).toBeGreaterThan(1);
    sandbox.send({ type: 'interrupt', id });
    expect((await sandbox.finish(id)).done).toMatchObject({ outcome: 'interrupted' });
    expect(await processGone(pid)).toBe(true);
  });

  it('ignores unknown and invalid frames, with a warning', async () => {
    const bad = [
      '{"type":"bogus"}',
      'not json',
      '[1,2]',
      '{"type":"execute","id":"x","code":"1"}',
      '{"type":"execute","id":99,"code":"1","doneToken":7}',
      '{"type":"interrupt"}',
      '{"type":"rpc_response","id":5,"success":true}',
    ];
    for (const line of bad) sandbox.writeRaw(`${line}\n`);
    expect((await sandbox.execute('print("fine")')).stdout).toBe('fine\n');
    const warnings = sandbox.unread.filter((f) => f.type === 'log');
    expect(warnings).toHaveLength(bad.length);
    for (const warning of warnings) expect(valid(warning)).toMatchObject({ level: 'warn' });
  });
});

describe('sandbox runner death', () => {
  it('reports a SIGKILLed runner through the watcher', async () => {
    const sandbox = new SandboxProcess();
    const ready = await sandbox.takeType('ready');
    process.kill(Number(ready.pid), 'SIGKILL');
    const exited = valid(await sandbox.takeType('exited'));
    expect(exited).toMatchObject({
      nonce: sandbox.nonce,
      exitCode: null,
      signal: 9,
      oomKilled: false,
    });
    expect(await sandbox.exit).toEqual({ code: 137, signal: null });
    expect(sandbox.badLines).toEqual([]);
  });

  it('forwards SIGTERM from the watcher to the runner', async () => {
    const sandbox = new SandboxProcess();
    await sandbox.takeType('ready');
    sandbox.child.kill('SIGTERM');
    expect(await sandbox.takeType('exited')).toMatchObject({ exitCode: null, signal: 15 });
    expect(await sandbox.exit).toEqual({ code: 143, signal: null });
  });

  it('exits when stdin closes, ending what the session started', async () => {
    const sandbox = new SandboxProcess();
    await sandbox.takeType('ready');
    const sleeper = Number(
      (
        await sandbox.execute(
          'import subprocess\np = subprocess.Popen(["sleep", "100"])\nprint(p.pid)',
        )
      ).stdout,
    );
    sandbox.child.stdin.end();
    expect(await sandbox.takeType('exited')).toMatchObject({ exitCode: 0, signal: null });
    expect(await sandbox.exit).toEqual({ code: 0, signal: null });
    expect(await processGone(sleeper)).toBe(true);
  });
});

// Safe on the host only with a process cap: a dedicated uid (unused by anything else)
// under RLIMIT_NPROC=64. Needs root for setpriv, and a python3 that uid can run (the
// system one, as in the image); the container e2e tests cover the real case (pids limit).
const BOMB_UID = 61_999;
const SYSTEM_PYTHON = '/usr/bin/python3';
const canBound =
  process.getuid?.() === 0 &&
  existsSync(SYSTEM_PYTHON) &&
  ['setpriv', 'prlimit'].every((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`]);
      return true;
    } catch {
      return false;
    }
  });

describe.skipIf(!canBound)('sandbox runner fork bomb (bounded: RLIMIT_NPROC 64, own uid)', () => {
  it('stops a fork bomb on interrupt and keeps working', async () => {
    killAllOf(BOMB_UID); // leftovers of an earlier, failed run
    const wrapper = [
      'prlimit',
      '--nproc=64',
      'setpriv',
      `--reuid=${BOMB_UID}`,
      `--regid=${BOMB_UID}`,
      '--clear-groups',
    ];
    const sandbox = new SandboxProcess({
      wrapper,
      python: SYSTEM_PYTHON,
      env: { ...process.env, HOME: '/tmp' },
    });
    try {
      const ready = await sandbox.takeType('ready');
      const id = sandbox.start(
        'import os\nprint("started", flush=True)\nwhile True:\n  try: os.fork()\n  except OSError: pass',
      );
      await sandbox.take((f) => f.id === id && f.type === 'stdout');
      // Interrupt once the bomb has spread.
      expect(await waitFor(() => liveProcessesOf(BOMB_UID).length > 10, 10_000, 10)).toBe(true);
      sandbox.send({ type: 'interrupt', id });
      expect((await sandbox.finish(id)).done).toMatchObject({ outcome: 'interrupted' });
      expect((await sandbox.execute('print("alive")')).stdout).toBe('alive\n');
      // Left: the watcher and the runner.
      expect(liveProcessesOf(BOMB_UID).sort()).toEqual([sandbox.child.pid, ready.pid].sort());
    } finally {
      await sandbox.close();
      killAllOf(BOMB_UID); // only if the runner failed to: every process of this uid is ours
    }
  });
});
