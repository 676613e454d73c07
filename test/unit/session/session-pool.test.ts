import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { SandboxSession } from '../../../src/session/sandbox-session.js';
import { SessionLimitError, SessionPool } from '../../../src/session/session-pool.js';
import { DEFAULT_SESSION } from '../../../src/util/default-session.js';

/** A session as the pool sees it: whether it holds a sandbox, its notices, its resets. */
class FakeSession {
  active = false;
  resets = 0;
  closed: { stopEngine?: boolean; removeStrays?: boolean }[] = [];
  notices: string[] = [];
  constructor(readonly name: string) {}
  requestReset(): void {
    this.resets += 1;
  }
  takePendingNotice(): string | undefined {
    const notice = this.notices.join('\n') || undefined;
    this.notices = [];
    return notice;
  }
  addNotice(notice: string): void {
    this.notices.push(notice);
  }
  close(options: { stopEngine?: boolean; removeStrays?: boolean } = {}): Promise<void> {
    this.closed.push(options);
    return Promise.resolve();
  }
  connectedEngine(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
}

function pool(maxSessions = 2, idleTimeoutSeconds = 300) {
  const made: FakeSession[] = [];
  const sessions = new SessionPool({
    maxSessions,
    idleTimeoutSeconds,
    logger: pino({ level: 'silent' }),
    create: (name) => {
      const session = new FakeSession(name);
      made.push(session);
      return session as unknown as SandboxSession;
    },
  });
  const fake = (name: string) => made.filter((session) => session.name === name).at(-1);
  return { sessions, made, fake };
}

describe('SessionPool', () => {
  it('makes one session per name on first use and hands the same one back', () => {
    const { sessions, made } = pool();
    const a = sessions.acquire('a');
    const again = sessions.acquire('a');
    expect(again.session).toBe(a.session);
    expect(made.map((session) => session.name)).toEqual(['a']);
    expect(sessions.get(DEFAULT_SESSION)).toBe(sessions.get());
  });

  it('counts held sessions and sessions with a sandbox; refuses a new one past the cap', () => {
    const { sessions, fake } = pool(2);
    const a = sessions.acquire('a');
    sessions.acquire('b').release();
    (fake('b') as FakeSession).active = true; // its sandbox lives on between calls
    expect(sessions.live()).toEqual(['a', 'b']);
    expect(() => sessions.acquire('c')).toThrow(SessionLimitError);
    // A live session is never refused, whatever the count.
    expect(() => sessions.acquire('a').release()).not.toThrow();
    expect(() => sessions.acquire('b').release()).not.toThrow();
    a.release();
    expect(sessions.live()).toEqual(['b']);
    expect(() => sessions.acquire('c')).not.toThrow();
  });

  it('says which sessions are live and how to free one', () => {
    const { sessions } = pool(1, 120);
    sessions.acquire('busy');
    let message = '';
    try {
      sessions.acquire('new');
    } catch (error: unknown) {
      message = (error as Error).message;
    }
    expect(message).toContain("Session 'new' was not started");
    expect(message).toContain('Live sessions: busy.');
    expect(message).toContain('MCP_BRIDGE_MAX_SESSIONS');
    expect(message).toContain('runtime.reset()');
    expect(message).toContain('120 s (MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT)');
    const { sessions: never } = pool(1, 0);
    never.acquire('busy');
    expect(() => never.acquire('new')).toThrow(/MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT is 0/);
  });

  it('never refuses `default`, and counts it when it is live', () => {
    const { sessions, fake } = pool(1);
    sessions.acquire('a');
    expect(() => sessions.acquire(DEFAULT_SESSION)).not.toThrow();
    (fake(DEFAULT_SESSION) as FakeSession).active = true;
    expect(sessions.live()).toEqual(['a', DEFAULT_SESSION]);
  });

  it('frees the slot of a session that idled out; forgets it, keeping its notice for later', () => {
    const { sessions, fake } = pool(1);
    const lease = sessions.acquire('a');
    const first = fake('a') as FakeSession;
    first.active = true;
    lease.release();
    // Its sandbox idles out: not active, no longer counted.
    first.active = false;
    first.addNotice('the sandbox was stopped after 300s without calls');
    const b = sessions.acquire('b');
    expect(first.closed).toEqual([{ stopEngine: false, removeStrays: false }]);
    expect(sessions.live()).toEqual(['b']);
    // Coming back, `a` is a new session that still tells what happened.
    (fake('b') as FakeSession).active = true;
    b.release();
    expect(() => sessions.acquire('a')).toThrow(SessionLimitError);
    (fake('b') as FakeSession).active = false;
    sessions.acquire('a');
    expect(fake('a')).not.toBe(first);
    expect(fake('a')?.notices).toEqual(['the sandbox was stopped after 300s without calls']);
  });

  it('keeps `default` and held sessions when forgetting idle ones', () => {
    const { sessions, made } = pool(4);
    sessions.get(DEFAULT_SESSION);
    const held = sessions.acquire('held');
    sessions.acquire('other');
    expect(made.filter((s) => s.closed.length > 0).map((s) => s.name)).toEqual([]);
    held.release();
    sessions.acquire('third');
    // `held` (released, no sandbox) is forgotten; `other` is still held; default stays.
    expect(made.filter((s) => s.closed.length > 0).map((s) => s.name)).toEqual(['held']);
  });

  it('a release counts once, however often it is called', () => {
    const { sessions } = pool(1);
    const one = sessions.acquire('a');
    const two = sessions.acquire('a');
    one.release();
    one.release();
    expect(sessions.live()).toEqual(['a']);
    two.release();
    expect(sessions.live()).toEqual([]);
  });

  it('resets only the session named', () => {
    const { sessions, fake } = pool(3);
    sessions.acquire('a');
    sessions.acquire('b');
    for (let index = 0; index < 10_000; index += 1) sessions.requestReset('a');
    sessions.requestReset('missing');
    expect(fake('a')?.resets).toBe(10_000);
    expect(fake('b')?.resets).toBe(0);
  });

  it('closes every session and refuses calls afterwards', async () => {
    const { sessions, made } = pool(3);
    sessions.acquire('a');
    sessions.acquire('b');
    await sessions.close();
    expect(made.map((s) => s.closed)).toEqual([[{ stopEngine: false }], [{ stopEngine: false }]]);
    expect(() => sessions.acquire('a')).toThrow(/shutting down/);
  });
});
