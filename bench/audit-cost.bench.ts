/**
 * What recording a proxied call costs the bridge (src/proxy/call-audit.ts →
 * src/state/call-audit-store.ts): `npx tsx bench/audit-cost.bench.ts [calls]`. Runs the
 * tracker and the store on a temp history file, as the RPC handler does per call_tool,
 * with the batched writes included; prints microseconds per call (the proxied call itself
 * takes about 500 µs, bench/README.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { trackCall, type ProxiedCallAudit } from '../src/proxy/call-audit.js';
import { CallAuditStore } from '../src/state/call-audit-store.js';
import { HistoryStore } from '../src/state/history-store.js';
import { log } from './bench-output.js';

const calls = Number(process.argv[2] ?? 100_000);
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'audit-cost-'));
const logger = pino({ level: 'silent' });
const history = HistoryStore.open(stateDir, { maxEntries: 1000, logger });
const store = new CallAuditStore(history, { maxEntries: 10_000, logger });
const audit: ProxiedCallAudit = {
  storeArguments: false,
  bridge: 'bench',
  record: (entry) => store.record(entry),
  ownRecent: (limit, session) => store.recent(limit, { bridge: 'bench', session }),
};
const result = { content: [{ type: 'text' as const, text: 'Echo: x' }] };
const json = JSON.stringify({ message: 'x' });
try {
  for (const round of ['warm-up', 'measured'] as const) {
    // On the call's path: what runs before the answer goes back to the sandbox.
    const started = performance.now();
    for (let index = 0; index < calls; index += 1) {
      const tracker = trackCall(audit, {
        session: 'default',
        server: 'everything',
        tool: 'echo',
        json,
      });
      tracker.reached();
      tracker.finished(result);
    }
    const onPath = performance.now() - started;
    // Off the path: the digest and the queued record (setImmediate), then the batches.
    const deferredStart = performance.now();
    await new Promise((resolve) => setImmediate(resolve));
    store.flush();
    const offPath = performance.now() - deferredStart;
    if (round === 'measured')
      log(
        `audit cost per proxied call (${calls} calls): on the call's path ${((onPath * 1000) / calls).toFixed(2)} µs;` +
          ` deferred (digest, record, batched writes) ${((offPath * 1000) / calls).toFixed(2)} µs`,
      );
  }
} finally {
  store.close();
  history.close();
  rmSync(stateDir, { recursive: true, force: true });
}
