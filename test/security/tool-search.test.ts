import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  printedJson,
  REPO_ROOT,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';

/**
 * `search_tool_docs` from the sandbox must not start servers the call did not name: a
 * configured server runs on the host with the user's rights, and only the agent's
 * `servers` argument decides which start. Search covers the tool lists already known
 * (loaded in this bridge, or cached on disk from an earlier load) and says which servers
 * it could not search and why.
 */

const MARKER_SERVER = path.join(REPO_ROOT, 'test/fixtures/marker-server.mjs');

const SEARCH = [
  'import json',
  'from mcp import runtime',
  'hits = await runtime.search_tool_docs("brew espresso")',
  'print("HITS " + json.dumps(hits))',
  'print("NOT " + json.dumps(getattr(hits, "not_searched", "(no not_searched)")))',
].join('\n');

interface Hit {
  server: string;
  tool: string;
  loaded: boolean;
}

describeEachEngine('search_tool_docs from the sandbox', (engine) => {
  let scratch: string;
  let stateDir: string;
  let markerFile: string;
  let bridge: BridgeHandle;

  /** How many times the barista server has been started so far. */
  const starts = () =>
    existsSync(markerFile)
      ? readFileSync(markerFile, 'utf8').split('\n').filter(Boolean).length
      : 0;

  const search = async (target: BridgeHandle, servers: string[] = []) => {
    const result = await target.run({ code: SEARCH, servers });
    expect(statusOf(result), describeResult(result)).toBe('success');
    return {
      hits: printedJson<Hit[]>(result, 'HITS '),
      notSearched: printedJson<unknown>(result, 'NOT '),
    };
  };

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'tool-search-security-'));
    stateDir = path.join(scratch, 'state');
    markerFile = path.join(scratch, 'barista-started');
    mkdirSync(stateDir);
    const config = {
      mcpServers: {
        barista: {
          command: process.execPath,
          args: [MARKER_SERVER],
          env: { MARKER_FILE: markerFile },
          description: 'Makes coffee',
        },
      },
    };
    writeFileSync(path.join(stateDir, 'servers.json'), JSON.stringify(config));
    bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir });
  });
  afterAll(async () => {
    await bridge?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('does not start a server the call did not name, and says it was not searched', async () => {
    const { hits, notSearched } = await search(bridge);
    expect(starts(), 'the barista server was started by a search').toBe(0);
    expect(hits).toEqual([]);
    expect(notSearched).toEqual([
      { server: 'barista', reason: expect.stringMatching(/not been started.*servers/s) as string },
    ]);
    // The next call works, and still starts nothing.
    const again = await bridge.run({ code: 'print(6 * 7)' });
    expect(describeResult(again)).toContain('42');
    expect(starts()).toBe(0);
  });

  it('searches servers loaded by an earlier call, and cached ones after a restart, starting none', async () => {
    const named = await search(bridge, ['barista']);
    expect(starts(), 'naming the server in servers starts it').toBe(1);
    expect(named.hits[0]).toMatchObject({ server: 'barista', tool: 'brew_coffee', loaded: true });
    expect(named.notSearched).toEqual([]);

    const unnamed = await search(bridge);
    expect(unnamed.hits[0]).toMatchObject({
      server: 'barista',
      tool: 'brew_coffee',
      loaded: false,
    });
    expect(unnamed.notSearched).toEqual([]);

    // A new bridge on the same state dir: the tool list comes from the on-disk cache.
    await bridge.close();
    bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir });
    const cached = await search(bridge);
    expect(cached.hits[0]).toMatchObject({ server: 'barista', tool: 'brew_coffee', loaded: false });
    expect(cached.notSearched).toEqual([]);
    expect(starts(), 'no search started the server again').toBe(1);
  });
});
