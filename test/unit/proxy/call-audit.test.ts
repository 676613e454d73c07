import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  sandboxCallView,
  trackCall,
  type ProxiedCallAudit,
} from '../../../src/proxy/call-audit.js';
import type { ProxiedCallRecord } from '../../../src/state/call-audit-record.js';

/** An audit sink that keeps what it is given (the store has its own tests). */
function sink(storeArguments = false): { audit: ProxiedCallAudit; records: ProxiedCallRecord[] } {
  const records: ProxiedCallRecord[] = [];
  return {
    records,
    audit: {
      storeArguments,
      bridge: 'bridge-1',
      record: (entry) => void records.push(entry),
      ownRecent: () => [],
    },
  };
}

/** Records are queued after the answer (setImmediate). */
const afterAnswer = () => new Promise((resolve) => setImmediate(resolve));

describe('trackCall', () => {
  const json = '{"message":"hi"}';

  it('records ok, error (isError or a failure after the checks) and refused (before them)', async () => {
    const { audit, records } = sink();
    const ok = trackCall(audit, { session: 'default', server: 's', tool: 'ok', json });
    ok.reached();
    ok.finished({ content: [{ type: 'text', text: 'fine' }] });
    const isError = trackCall(audit, { session: 'default', server: 's', tool: 'iserror', json });
    isError.reached();
    isError.finished({ isError: true, content: [{ type: 'text', text: 'bad\ninput' }] });
    const failed = trackCall(audit, { session: 'default', server: 's', tool: 'failed', json });
    failed.reached();
    failed.failed(new Error('server died'));
    const refused = trackCall(audit, { session: 'default', server: 's', tool: 'refused', json });
    refused.failed(new Error("Server 's' is not available"));
    expect(records).toEqual([]);
    await afterAnswer();
    expect(records.map((entry) => [entry.tool, entry.outcome, entry.message])).toEqual([
      ['ok', 'ok', null],
      ['iserror', 'error', 'bad input'],
      ['failed', 'error', 'server died'],
      ['refused', 'refused', "Server 's' is not available"],
    ]);
    expect(records[0]).toMatchObject({
      bridge: 'bridge-1',
      session: 'default',
      server: 's',
      argumentBytes: json.length,
      argumentSha256: createHash('sha256').update(json).digest('hex'),
      arguments: null,
      approval: 'none',
    });
  });

  it('records a call once, and nothing without an audit', async () => {
    const { audit, records } = sink(true);
    const tracker = trackCall(audit, { session: 'default', server: 's', tool: 't', json });
    tracker.finished({ content: [] });
    tracker.failed(new Error('late'));
    trackCall(undefined, { session: 'default', server: 's', tool: 't', json }).finished({
      content: [],
    });
    await afterAnswer();
    expect(records).toHaveLength(1);
    expect(records[0]?.arguments).toBe(json);
  });

  it('shows the sandbox no arguments', async () => {
    const { audit, records } = sink(true);
    trackCall(audit, { session: 'default', server: 's', tool: 't', json }).finished({
      content: [],
    });
    await afterAnswer();
    const view = sandboxCallView(records[0] as ProxiedCallRecord);
    expect(Object.keys(view).sort()).toEqual(
      [
        'approval',
        'argumentBytes',
        'argumentSha256',
        'at',
        'durationMs',
        'message',
        'outcome',
        'server',
        'session',
        'tool',
      ].sort(),
    );
  });
});
