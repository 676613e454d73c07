import { describe, expect, it } from 'vitest';
import {
  engineDownError,
  isEngineUnreachable,
  rootMessage,
} from '../../../src/container/engine-errors.js';
import { SandboxStartError } from '../../../src/errors.js';

/** A socket error as Node reports it. */
function socketError(code: string, syscall: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, syscall });
}

describe('isEngineUnreachable', () => {
  it('recognises a refused, missing or reset engine socket', () => {
    const refused = socketError('ECONNREFUSED', 'connect', 'connect ECONNREFUSED /x.sock');
    const missing = socketError('ENOENT', 'connect', 'connect ENOENT /x.sock');
    const reset = socketError('ECONNRESET', 'read', 'read ECONNRESET');
    for (const error of [refused, missing, reset]) expect(isEngineUnreachable(error)).toBe(true);
    expect(isEngineUnreachable(new Error('socket hang up'))).toBe(true);
  });

  it('looks through our wrappers to the cause', () => {
    const cause = socketError('ECONNREFUSED', 'connect', 'connect ECONNREFUSED /x.sock');
    const wrapped = new SandboxStartError('Could not create the sandbox container', { cause });
    expect(isEngineUnreachable(wrapped)).toBe(true);
    expect(rootMessage(wrapped)).toBe('connect ECONNREFUSED /x.sock');
  });

  it('does not take an answer from the engine, or a missing file, for an outage', () => {
    const refusal = Object.assign(new Error('(HTTP code 500) server error - mount denied'), {
      statusCode: 500,
    });
    const missingFile = socketError('ENOENT', 'open', "ENOENT: no such file, open '/x'");
    expect(isEngineUnreachable(refusal)).toBe(false);
    expect(isEngineUnreachable(missingFile)).toBe(false);
    expect(isEngineUnreachable('ECONNREFUSED')).toBe(false);
    expect(isEngineUnreachable(undefined)).toBe(false);
  });
});

describe('engineDownError', () => {
  it('names the address, the socket error and what to do', () => {
    const cause = socketError('ECONNREFUSED', 'connect', 'connect ECONNREFUSED /x.sock');
    const error = engineDownError('unix:///x.sock', new SandboxStartError('wrapped', { cause }));
    expect(error.code).toBe('runtime_unavailable');
    expect(error.message).toContain('The container engine at unix:///x.sock is not answering');
    expect(error.message).toContain('(connect ECONNREFUSED /x.sock)');
    expect(error.message).toMatch(/call again/);
  });
});
