import { describe, expect, it, vi } from 'vitest';
import {
  ApprovalDesk,
  MAX_PROMPTS_PER_CALL,
  type PersonAnswer,
  type PersonAsker,
} from '../../../src/proxy/approvals.js';
import type { PolicyDecision } from '../../../src/proxy/tool-policy.js';

const ask: PolicyDecision = { verdict: 'ask', reason: 'destructive', byPattern: false };
const call = (tool = 'delete_item') => ({
  server: 'annotated',
  tool,
  args: { id: 1 },
  argumentBytes: 8,
});

/** A person who answers from a list; `hold` keeps each prompt open until released. */
function person(answers: (PersonAnswer | 'never')[], canAsk = true) {
  const prompts: string[] = [];
  let open = 0;
  let mostOpen = 0;
  const asker: PersonAsker = {
    canAsk: () => canAsk,
    ask: (message, signal) => {
      prompts.push(message);
      open += 1;
      mostOpen = Math.max(mostOpen, open);
      const answer = answers.shift() ?? 'deny';
      return new Promise<PersonAnswer>((resolve, reject) => {
        const end = () => (open -= 1);
        signal.addEventListener('abort', () => {
          end();
          reject(signal.reason as Error);
        });
        if (answer !== 'never') {
          setImmediate(() => {
            end();
            resolve(answer);
          });
        }
      });
    },
  };
  return { asker, prompts, mostOpen: () => mostOpen };
}

const holds = () => {
  const events: string[] = [];
  return {
    events,
    clock: {
      hold: () => {
        events.push('hold');
        return () => events.push('release');
      },
    },
  };
};

describe('CallApprovals', () => {
  it('deny and allow never ask', async () => {
    const { asker, prompts } = person([]);
    const approvals = new ApprovalDesk({ mode: 'ask', timeoutMs: 1000, asker }).forCall('s');
    const wait = { signal: new AbortController().signal, clock: undefined };
    expect(
      await approvals.decide(call(), { verdict: 'deny', reason: 'x', byPattern: true }, wait),
    ).toMatchObject({ run: false, approval: 'denied' });
    expect(
      await approvals.decide(call(), { verdict: 'allow', reason: 'x', byPattern: true }, wait),
    ).toEqual({ run: true, approval: 'allowed' });
    expect(
      await approvals.decide(call(), { verdict: 'allow', reason: 'x', byPattern: false }, wait),
    ).toEqual({ run: true, approval: 'none' });
    expect(prompts).toEqual([]);
  });

  it('holds the clock while asking, and releases it after', async () => {
    const { asker } = person(['allow-once']);
    const approvals = new ApprovalDesk({ mode: 'ask', timeoutMs: 1000, asker }).forCall('s');
    const { events, clock } = holds();
    const outcome = await approvals.decide(call(), ask, {
      signal: new AbortController().signal,
      clock,
    });
    expect(outcome).toEqual({ run: true, approval: 'asked-allowed' });
    expect(events).toEqual(['hold', 'release']);
  });

  it('remembers allow-for-session per session, server and tool, across calls', async () => {
    const { asker, prompts } = person(['allow-session', 'deny', 'deny']);
    const desk = new ApprovalDesk({ mode: 'ask', timeoutMs: 1000, asker });
    const wait = { signal: new AbortController().signal, clock: undefined };
    expect((await desk.forCall('a').decide(call(), ask, wait)).approval).toBe(
      'asked-allowed-session',
    );
    expect((await desk.forCall('a').decide(call(), ask, wait)).approval).toBe('session');
    expect((await desk.forCall('b').decide(call(), ask, wait)).approval).toBe('denied');
    expect((await desk.forCall('a').decide(call('other'), ask, wait)).approval).toBe('denied');
    expect(prompts).toHaveLength(3);
  });

  it('shows one prompt at a time; one allowed for the session answers those waiting', async () => {
    const { asker, prompts, mostOpen } = person(['allow-session']);
    const approvals = new ApprovalDesk({ mode: 'ask', timeoutMs: 1000, asker }).forCall('s');
    const wait = { signal: new AbortController().signal, clock: undefined };
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => approvals.decide(call(), ask, wait)),
    );
    expect(outcomes.map((outcome) => outcome.approval)).toEqual([
      'asked-allowed-session',
      'session',
      'session',
      'session',
      'session',
    ]);
    expect(prompts).toHaveLength(1);
    expect(mostOpen()).toBe(1);
  });

  it('an unanswered prompt times out; later asks of the call are declined unasked', async () => {
    const { asker, prompts } = person(['never', 'allow-once']);
    const approvals = new ApprovalDesk({ mode: 'ask', timeoutMs: 50, asker }).forCall('s');
    const { events, clock } = holds();
    const wait = { signal: new AbortController().signal, clock };
    const [first, second] = await Promise.all([
      approvals.decide(call(), ask, wait),
      approvals.decide(call('other'), ask, wait),
    ]);
    expect(first).toMatchObject({ run: false, approval: 'timeout' });
    expect(first?.refusal).toMatch(/^declined: nobody answered/);
    expect(second).toMatchObject({ run: false, approval: 'timeout' });
    expect(prompts).toHaveLength(1);
    // Only the prompt on screen held the clock, not the ask refused without one.
    expect(events).toEqual(['hold', 'release']);
  });

  it('the call ending ends the wait, and the next prompt is shown', async () => {
    const { asker, prompts } = person(['never', 'allow-once']);
    const desk = new ApprovalDesk({ mode: 'ask', timeoutMs: 60_000, asker });
    const cell = new AbortController();
    const waiting = desk
      .forCall('s')
      .decide(call(), ask, { signal: cell.signal, clock: undefined });
    const queued = desk.forCall('s').decide(call('other'), ask, {
      signal: new AbortController().signal,
      clock: undefined,
    });
    await vi.waitFor(() => expect(prompts).toHaveLength(1));
    cell.abort(new Error('the run_python call ended'));
    expect(await waiting).toMatchObject({ run: false, approval: 'cancelled' });
    expect(await queued).toMatchObject({ run: true, approval: 'asked-allowed' });
    expect(prompts).toHaveLength(2);
  });

  it(`asks at most ${MAX_PROMPTS_PER_CALL} times in one call`, async () => {
    const { asker, prompts } = person([]);
    const approvals = new ApprovalDesk({ mode: 'ask', timeoutMs: 1000, asker }).forCall('s');
    const wait = { signal: new AbortController().signal, clock: undefined };
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, () => approvals.decide(call(), ask, wait)),
    );
    expect(prompts).toHaveLength(MAX_PROMPTS_PER_CALL);
    expect(outcomes.every((outcome) => !outcome.run)).toBe(true);
  });

  it('a client that cannot be asked: ask mode runs and counts, strict refuses, off runs', async () => {
    const cannot = person([], false).asker;
    const wait = { signal: new AbortController().signal, clock: undefined };
    const askMode = new ApprovalDesk({ mode: 'ask', timeoutMs: 1000, asker: cannot }).forCall('s');
    await askMode.decide(call(), ask, wait);
    await askMode.decide(call(), ask, wait);
    expect(askMode.notices()[0]).toMatch(/annotated\.delete_item ×2/);
    const strict = new ApprovalDesk({ mode: 'strict', timeoutMs: 1000, asker: cannot });
    expect(await strict.forCall('s').decide(call(), ask, wait)).toMatchObject({
      run: false,
      approval: 'unapproved',
    });
    const off = new ApprovalDesk({ mode: 'off', timeoutMs: 1000, asker: person([]).asker });
    expect(await off.forCall('s').decide(call(), ask, wait)).toEqual({
      run: true,
      approval: 'off',
    });
  });

  it('a failed prompt approves nothing', async () => {
    const asker: PersonAsker = {
      canAsk: () => true,
      ask: () => Promise.reject(new Error('Client does not support form elicitation.')),
    };
    const approvals = new ApprovalDesk({ mode: 'ask', timeoutMs: 1000, asker }).forCall('s');
    const outcome = await approvals.decide(call(), ask, {
      signal: new AbortController().signal,
      clock: undefined,
    });
    expect(outcome).toMatchObject({ run: false, approval: 'declined' });
    expect(outcome.refusal).toMatch(/failed: Client does not support/);
  });
});
