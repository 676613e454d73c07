import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeResult,
  payloadOf,
  printedJson,
  startBridge,
  statusOf,
  waitFor,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine } from '../support/engines.js';
import { faultScene, processGone, type FaultScene } from '../support/fault-scene.js';

/**
 * An upstream MCP server SIGKILLed from outside while a tool call is in flight on it
 * (test/e2e/mcp-proxy-failures.test.ts covers a server that exits by itself, with last
 * words on stderr): the cell gets a clear MCPError at once, the run_python call and the
 * session go on, and the server is started again for the next tool call.
 */

const PROMPT_MS = 30_000;

describeEachEngine('an upstream MCP server SIGKILLed mid-call', (engine) => {
  let scene: FaultScene;
  let bridge: BridgeHandle;
  const context = () => `bridge log:\n${bridge.stderr()}`;

  beforeAll(async () => {
    scene = faultScene();
    bridge = await startBridge({ dockerHost: engine.dockerHost, stateDir: scene.stateDir });
  });
  afterAll(async () => {
    await bridge?.close();
    scene?.remove();
  });

  it('raises MCPError in the cell at once, keeps the session, and restarts the server for the next tool call', async () => {
    const setup = await bridge.run({
      code: 'kept = "session state"\nprint((await mcp_fixture.pid()).text)',
      servers: ['fixture'],
    });
    expect(statusOf(setup), describeResult(setup)).toBe('success');
    const serverPid = Number(payloadOf(setup).stdout?.[0]);

    const inFlight = bridge.run(
      {
        code: [
          'import json',
          'from mcp import runtime',
          'try:',
          '    await mcp_fixture.slow(ms=600000)',
          '    outcome = "no error"',
          'except runtime.MCPError as error:',
          '    outcome = str(error)',
          'print("OUTCOME " + json.dumps(outcome))',
          // The same call goes on, with a server started again.
          'print("AGAIN " + json.dumps((await mcp_fixture.pid()).text))',
        ].join('\n'),
        servers: ['fixture'],
        timeout: 120,
      },
      PROMPT_MS,
    );
    await scene.waitForMark(`slow-${serverPid}`, context);
    process.kill(serverPid, 'SIGKILL');

    const result = await inFlight;
    expect(statusOf(result), describeResult(result)).toBe('success');
    const outcome = printedJson<string>(result, 'OUTCOME ');
    expect(outcome, context()).toMatch(/MCP server 'fixture' was killed by SIGKILL/);
    expect(outcome).toContain("while 'slow' was running");
    expect(outcome).toMatch(/restarted on next use/);
    const restartedPid = Number(printedJson<string>(result, 'AGAIN '));
    expect(restartedPid).not.toBe(serverPid);
    expect(processGone(serverPid)).toBe(true);

    const next = await bridge.run({
      code: 'print(kept, (await mcp_fixture.echo(message="next call")).text)',
      servers: ['fixture'],
    });
    expect(payloadOf(next).stdout, describeResult(next)).toEqual(['session state next call']);
    // One server process, not a second one beside a stale entry.
    expect(await waitFor(() => !processGone(restartedPid), 1000)).toBe(true);
  });
});
