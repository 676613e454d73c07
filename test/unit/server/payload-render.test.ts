import { describe, it, expect } from 'vitest';
import { decode } from '@toon-format/toon';
import { outputLines, trimPayload, type RunPayload } from '../../../src/server/payload.js';
import { compactText, renderResult } from '../../../src/server/render.js';
import { reportToPayload, sandboxErrorPayload } from '../../../src/server/report-payload.js';
import type { RunReport } from '../../../src/session/sandbox-session.js';

function report(overrides: Partial<RunReport>): RunReport {
  return {
    outcome: 'completed',
    exitCode: 0,
    stdout: '',
    stderr: '',
    durationMs: 1,
    lostReason: undefined,
    outOfMemory: false,
    notices: [],
    ...overrides,
  };
}

const context = { timeoutSeconds: 5, servers: [] as string[] };

function textOf(result: ReturnType<typeof renderResult>): string {
  expect(result.content).toHaveLength(1);
  const [first] = result.content;
  if (first?.type !== 'text') throw new Error('expected one text content block');
  return first.text;
}

function toonContent(text: string): string {
  const match = /^```toon\n([\s\S]*)\n```$/.exec(text);
  if (!match) throw new Error(`not a toon block: ${text}`);
  return match[1] ?? '';
}

const TRACEBACK = [
  'Traceback (most recent call last):',
  '  File "<cell-1>", line 1, in <module>',
  '    1 / 0',
  '    ~~^~~',
  'ZeroDivisionError: division by zero',
  '',
].join('\n');

describe('outputLines', () => {
  it('splits on newlines and drops whitespace-only and "()" lines', () => {
    expect(outputLines('a\n\n   \n()\n  ()  \n\tb\n')).toEqual(['a', '\tb']);
  });

  it('keeps leading indentation and lines that merely contain "()"', () => {
    expect(outputLines('  indented\nf()\n(1, 2)\n')).toEqual(['  indented', 'f()', '(1, 2)']);
  });

  it('handles CRLF and the empty string', () => {
    expect(outputLines('x\r\ny\r\n')).toEqual(['x', 'y']);
    expect(outputLines('')).toEqual([]);
    expect(outputLines('\n\n')).toEqual([]);
  });
});

describe('trimPayload', () => {
  it('drops empty strings, empty lists, undefined and null, keeping zero and order', () => {
    const payload = {
      status: 'success',
      summary: 'Success',
      exitCode: 0,
      stdout: [],
      stderr: ['x'],
      servers: [],
      error: '',
      timeoutSeconds: undefined,
      notices: null,
    } as unknown as RunPayload;
    const trimmed = trimPayload(payload);
    expect(trimmed).toEqual({ status: 'success', summary: 'Success', exitCode: 0, stderr: ['x'] });
    expect(Object.keys(trimmed)).toEqual(['status', 'summary', 'exitCode', 'stderr']);
  });
});

describe('reportToPayload summaries', () => {
  it('Success when something was printed', () => {
    const payload = reportToPayload(report({ stdout: 'line1\nline2\n' }), context);
    expect(payload.status).toBe('success');
    expect(payload.summary).toBe('Success');
    expect(payload.exitCode).toBe(0);
    expect(payload.stdout).toEqual(['line1', 'line2']);
  });

  it('Success (no output) when only blank lines or "()" were printed', () => {
    const payload = reportToPayload(report({ stdout: '\n  \n()\n', stderr: ' \n' }), context);
    expect(payload.summary).toBe('Success (no output)');
    expect(payload.status).toBe('success');
  });

  it('Success when only stderr was printed', () => {
    expect(reportToPayload(report({ stderr: 'warning\n' }), context).summary).toBe('Success');
  });

  it('Error: exit code 3 for sys.exit(3)', () => {
    const payload = reportToPayload(report({ exitCode: 3 }), context);
    expect(payload.status).toBe('error');
    expect(payload.summary).toBe('Error: exit code 3');
    expect(payload.exitCode).toBe(3);
  });

  it('uses the last traceback line as the exception summary', () => {
    const payload = reportToPayload(
      report({ outcome: 'exception', exitCode: 1, stdout: 'before\n', stderr: TRACEBACK }),
      context,
    );
    expect(payload.status).toBe('error');
    expect(payload.summary).toBe('Error: ZeroDivisionError: division by zero');
    expect(payload.stderr?.at(-1)).toBe('ZeroDivisionError: division by zero');
    expect(payload.stdout).toEqual(['before']);
  });

  it('skips the truncation marker when picking the exception line', () => {
    const stderr = `${TRACEBACK}[output truncated: 12 more characters dropped; the limit is 5 per stream per call (MCP_BRIDGE_OUTPUT_LIMIT)]\n`;
    const payload = reportToPayload(report({ outcome: 'exception', exitCode: 1, stderr }), context);
    expect(payload.summary).toBe('Error: ZeroDivisionError: division by zero');
  });

  it('bounds a very long exception summary', () => {
    const payload = reportToPayload(
      report({ outcome: 'exception', exitCode: 1, stderr: `ValueError: ${'x'.repeat(1000)}\n` }),
      context,
    );
    expect(payload.summary.startsWith('Error: ValueError: xxx')).toBe(true);
    expect(payload.summary.length).toBeLessThan(300);
  });

  it('timeout with the state kept', () => {
    const payload = reportToPayload(
      report({
        outcome: 'timeout',
        exitCode: 130,
        stdout: 'tick\n',
        stderr: 'KeyboardInterrupt\n',
      }),
      context,
    );
    expect(payload.status).toBe('timeout');
    expect(payload.summary).toBe('Timeout: execution exceeded 5s');
    expect(payload.timeoutSeconds).toBe(5);
    expect(payload.error).toMatch(/5s/);
    expect(payload.error).toMatch(/state .*was kept/);
    expect(payload.stdout).toEqual(['tick']);
    expect(payload.stderr).toEqual(['KeyboardInterrupt']);
  });

  it('timeout with the state lost reports the lost reason as the error', () => {
    const lostReason =
      'The code did not stop; the sandbox was restarted and the session state was lost.';
    const payload = reportToPayload(
      report({ outcome: 'timeout', exitCode: undefined, lostReason }),
      { timeoutSeconds: 12, servers: [] },
    );
    expect(payload.status).toBe('timeout');
    expect(payload.summary).toBe('Timeout: execution exceeded 12s');
    expect(payload.timeoutSeconds).toBe(12);
    expect(payload.error).toBe(lostReason);
  });

  it('Sandbox error: … when the sandbox died', () => {
    const lostReason = 'Out of memory: the session state was lost.';
    const payload = reportToPayload(
      report({ outcome: 'died', exitCode: undefined, lostReason, outOfMemory: true }),
      context,
    );
    expect(payload.status).toBe('error');
    expect(payload.summary).toBe(`Sandbox error: ${lostReason}`);
    expect(payload.error).toBe(lostReason);
  });

  it('sandboxErrorPayload for failures outside the code', () => {
    const payload = sandboxErrorPayload('No container engine found; install Podman', ['fs']);
    expect(payload).toEqual({
      status: 'error',
      summary: 'Sandbox error: No container engine found; install Podman',
      error: 'No container engine found; install Podman',
      servers: ['fs'],
    });
  });

  it('carries the servers and notices of the call', () => {
    const payload = reportToPayload(report({ stdout: 'x\n', notices: ['state was reset'] }), {
      timeoutSeconds: 5,
      servers: ['fs', 'memory'],
    });
    expect(payload.servers).toEqual(['fs', 'memory']);
    expect(payload.notices).toEqual(['state was reset']);
  });
});

describe('renderResult isError', () => {
  const statuses: RunPayload['status'][] = ['success', 'error', 'timeout', 'validation_error'];
  for (const mode of ['compact', 'toon'] as const) {
    for (const status of statuses) {
      it(`${mode}: ${status} → isError ${status !== 'success'}`, () => {
        const result = renderResult({ status, summary: 'x' }, mode);
        expect(result.isError).toBe(status !== 'success');
      });
    }
  }
});

describe('compact mode', () => {
  it('success: the text is the stdout lines, structuredContent only the output', () => {
    const payload = reportToPayload(report({ stdout: 'line1\n\nline2\n' }), context);
    const result = renderResult(payload, 'compact');
    expect(textOf(result)).toBe('line1\nline2');
    expect(result.structuredContent).toEqual({ stdout: ['line1', 'line2'] });
    expect(result.isError).toBe(false);
  });

  it('success with nothing printed: the text is the summary', () => {
    const result = renderResult(reportToPayload(report({}), context), 'compact');
    expect(textOf(result)).toBe('Success (no output)');
    expect(result.structuredContent).toEqual({ summary: 'Success (no output)' });
  });

  it('stdout, then stderr under a "stderr:" heading', () => {
    const payload = reportToPayload(
      report({ stdout: 'out\n', stderr: 'warn 1\nwarn 2\n' }),
      context,
    );
    const result = renderResult(payload, 'compact');
    expect(textOf(result)).toBe('out\nstderr:\nwarn 1\nwarn 2');
    expect(result.structuredContent).toEqual({ stdout: ['out'], stderr: ['warn 1', 'warn 2'] });
  });

  it('non-zero exit: "status:" then "exit:" prefix, no body → summary', () => {
    const result = renderResult(reportToPayload(report({ exitCode: 3 }), context), 'compact');
    expect(textOf(result)).toBe('status: error\nexit: 3\nError: exit code 3');
    expect(result.structuredContent).toEqual({
      status: 'error',
      summary: 'Error: exit code 3',
      exitCode: 3,
    });
    expect(result.isError).toBe(true);
  });

  it('exception: prefixes, then stdout and the traceback under stderr', () => {
    const payload = reportToPayload(
      report({ outcome: 'exception', exitCode: 1, stdout: 'before\n', stderr: TRACEBACK }),
      context,
    );
    const text = textOf(renderResult(payload, 'compact'));
    const lines = text.split('\n');
    expect(lines.slice(0, 4)).toEqual(['status: error', 'exit: 1', 'before', 'stderr:']);
    expect(lines.at(-1)).toBe('ZeroDivisionError: division by zero');
    // The summary is not repeated when there is a body.
    expect(text).not.toContain('Error: ZeroDivisionError');
  });

  it('timeout: status prefix, output, then "error: …"; structuredContent has the details', () => {
    const payload = reportToPayload(
      report({ outcome: 'timeout', exitCode: 130, stdout: 'tick\n' }),
      context,
    );
    const result = renderResult(payload, 'compact');
    const text = textOf(result);
    expect(text.startsWith('status: timeout\nexit: 130\ntick\nerror: ')).toBe(true);
    expect(text).toContain(payload.error ?? '<missing error>');
    expect(result.structuredContent).toEqual({
      status: 'timeout',
      summary: 'Timeout: execution exceeded 5s',
      exitCode: 130,
      stdout: ['tick'],
      error: payload.error,
      timeoutSeconds: 5,
    });
    expect(result.isError).toBe(true);
  });

  it('sandbox error: the text names the error, not only the status', () => {
    const result = renderResult(sandboxErrorPayload('engine unreachable', []), 'compact');
    expect(textOf(result)).toBe('status: error\nerror: engine unreachable');
    expect(result.structuredContent).toEqual({
      status: 'error',
      summary: 'Sandbox error: engine unreachable',
      error: 'engine unreachable',
    });
  });

  it('validation error: the message is the text after the status', () => {
    const result = renderResult(
      { status: 'validation_error', summary: "Missing 'code' argument" },
      'compact',
    );
    expect(textOf(result)).toBe("status: validation_error\nMissing 'code' argument");
    expect(result.structuredContent).toEqual({
      status: 'validation_error',
      summary: "Missing 'code' argument",
    });
    expect(result.isError).toBe(true);
  });

  it('exit code 0 never produces an "exit:" prefix and is left out of structuredContent', () => {
    const payload: RunPayload = {
      status: 'success',
      summary: 'Success',
      exitCode: 0,
      stdout: ['x'],
    };
    expect(compactText(payload)).toBe('x');
    expect(renderResult(payload, 'compact').structuredContent).not.toHaveProperty('exitCode');
  });

  it('shows notices in the text and keeps them in structuredContent', () => {
    const payload = reportToPayload(
      report({ stdout: 'x\n', notices: ['The previous sandbox died; session state was reset.'] }),
      context,
    );
    const result = renderResult(payload, 'compact');
    const text = textOf(result);
    expect(text).toContain('The previous sandbox died; session state was reset.');
    expect(text.split('\n').at(-1)).toBe('x');
    expect(result.structuredContent).toEqual({
      stdout: ['x'],
      notices: ['The previous sandbox died; session state was reset.'],
    });
  });

  it('drops empty fields from structuredContent', () => {
    const payload = reportToPayload(report({ stdout: 'x\n' }), { timeoutSeconds: 5, servers: [] });
    const structured = renderResult(payload, 'compact').structuredContent ?? {};
    for (const key of ['servers', 'stderr', 'notices', 'error', 'timeoutSeconds', 'status']) {
      expect(structured).not.toHaveProperty(key);
    }
  });

  it('keeps the servers of the call in structuredContent', () => {
    const payload = reportToPayload(report({ stdout: 'x\n' }), {
      timeoutSeconds: 5,
      servers: ['fs'],
    });
    expect(renderResult(payload, 'compact').structuredContent).toEqual({
      stdout: ['x'],
      servers: ['fs'],
    });
  });
});

describe('toon mode', () => {
  const cases: [string, RunPayload][] = [
    ['success', reportToPayload(report({ stdout: 'line1\nline2\n' }), context)],
    ['no output', reportToPayload(report({}), context)],
    [
      'exception',
      reportToPayload(
        report({ outcome: 'exception', exitCode: 1, stdout: 'a: b, "c"\n', stderr: TRACEBACK }),
        { timeoutSeconds: 5, servers: ['fs', 'memory'] },
      ),
    ],
    [
      'timeout',
      reportToPayload(
        report({
          outcome: 'timeout',
          exitCode: 130,
          stdout: '  - looks like a list\n[1, 2]\n',
          stderr: 'KeyboardInterrupt\n',
          notices: ['reset'],
        }),
        context,
      ),
    ],
    ['sandbox error', sandboxErrorPayload('no engine: install Podman or Docker', [])],
    ['validation', { status: 'validation_error', summary: "'servers' must be a list" }],
  ];

  for (const [name, payload] of cases) {
    it(`${name}: a toon block that decodes to exactly the structuredContent`, () => {
      const result = renderResult(payload, 'toon');
      const text = textOf(result);
      expect(text.startsWith('```toon\n')).toBe(true);
      expect(text.endsWith('\n```')).toBe(true);
      expect(decode(toonContent(text))).toEqual(result.structuredContent);
      // structuredContent mirrors the full trimmed payload, status and summary included.
      expect(result.structuredContent).toEqual(trimPayload(payload));
      expect(result.isError).toBe(payload.status !== 'success');
    });
  }

  it('success payload matches the README example', () => {
    const payload = reportToPayload(report({ stdout: 'line1\nline2\n' }), context);
    const result = renderResult(payload, 'toon');
    expect(result.structuredContent).toEqual({
      status: 'success',
      summary: 'Success',
      exitCode: 0,
      stdout: ['line1', 'line2'],
    });
    expect(decode(toonContent(textOf(result)))).toEqual(result.structuredContent);
  });

  it('timeout payload has status, summary, output, error and timeoutSeconds', () => {
    const payload = reportToPayload(
      report({
        outcome: 'timeout',
        exitCode: 130,
        stdout: 'tick\n',
        stderr: 'KeyboardInterrupt\n',
      }),
      context,
    );
    const structured = renderResult(payload, 'toon').structuredContent;
    expect(structured).toMatchObject({
      status: 'timeout',
      summary: 'Timeout: execution exceeded 5s',
      stdout: ['tick'],
      stderr: ['KeyboardInterrupt'],
      timeoutSeconds: 5,
    });
    expect(structured?.error).toEqual(expect.stringContaining('kept'));
  });
});
