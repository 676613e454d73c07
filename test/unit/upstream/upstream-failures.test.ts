import { describe, expect, it } from 'vitest';
import { requestFailure } from '../../../src/upstream/upstream-failures.js';

describe('requestFailure', () => {
  const context = {
    what: "'slow'",
    cancelled: false,
    timeoutMs: 60_000,
    restart: 'it will be restarted on next use',
  };
  const failed = (killedBy?: NodeJS.Signals) => ({
    exited: true,
    killedBy,
    lastTransportError: undefined,
    stderrLines: [],
  });

  it('says a server killed by a signal was killed, naming the signal', () => {
    const error = requestFailure('fixture', failed('SIGKILL'), new Error('closed'), context);
    expect(error.code).toBe('upstream_crashed');
    expect(error.message).toBe(
      "MCP server 'fixture' was killed by SIGKILL while 'slow' was running; it will be restarted on next use. It wrote nothing to stderr.",
    );
  });

  it('says a server that ended by itself exited', () => {
    const error = requestFailure('fixture', failed(), new Error('closed'), context);
    expect(error.message).toMatch(/^MCP server 'fixture' exited while 'slow' was running/);
  });
});
