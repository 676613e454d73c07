/** What `npm run bench` measures, how often, and the targets it judges (bench/README.md). */

export const SETTINGS = {
  coldRuns: 5,
  warmupCalls: 20,
  warmCalls: 500,
  warmBlocks: 5,
  mcpPings: 200,
  throughputSeconds: 2,
  /** Warm calls drawing one 800×600 figure each (figures-bench.ts); 5× as many `pass`. */
  figureCalls: 20,
  baselineRuns: 20,
  baselineWarmup: 1,
  podmanCliRuns: 5,
  proxy: {
    // Server and bridge keep getting faster over their first few thousand calls (JIT):
    // both sides are warmed alike, to compare steady states.
    warmup: 2000,
    calls: 1000,
    diagnosticCalls: 300,
    concurrent: 100,
    concurrentRounds: 5,
    directWarmup: 2000,
    directBlock: 100,
  },
  toolsListServers: [0, 7, 100],
  /** Cancels timed per engine (bench/cancel-bench.ts). */
  cancel: { interruptible: 20, ignoring: 3 },
  /** Issue 11: first calls 1 s after initialize, stage timing, memory with real servers. */
  firstCallRuns: 5,
  firstCallPauseMs: 1000,
  stageCalls: 300,
  memoryServers: 7,
  /** 1000 calls of mixed work on one bridge; memory, fds, containers sampled (soak-bench.ts). */
  soak: { calls: 1000, warmup: 200, timeoutEvery: 200 },
} as const;

export const TARGETS = {
  warmP50RequiredMs: 3,
  warmP50AimMs: 1,
  ratioRequired: 50,
  firstCallAimMs: 500,
  /** Issue 3 item 10. */
  proxiedToDirectP50Max: 1.5,
  proxiedCallsPerSecondMin: 1000,
  /** Issue 3 item 8. */
  toolsListTokensMax: 250,
  /** Issue 3 item 6. */
  recallAt1Min: 0.8,
  recallAt5Min: 0.95,
  /** Issue 11. */
  warmToPingMax: 2,
  warmP50WithFastPingMs: 0.5,
  fastPingMs: 0.25,
  firstAfterPauseToWarmMax: 3,
  firstAtOnceMs: 250,
  proxiedFirstToSteadyMax: 1.3,
  proxiedToFloorMax: 1.3,
  rssNoServersMiB: 100,
} as const;
