import type { BridgeConfig } from '../config/env.js';
import { formatByteSize } from '../config/byte-size.js';
import { locateEngine, type LocatedEngine } from '../container/engine-locator.js';
import { probeGvisor } from './gvisor-probe.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkedHostMounts, sandboxBlueprint, sandboxData } from '../app.js';
import type { CheckedHostMount } from '../container/host-mount-check.js';
import { mountAccessCode, mountAccessLines } from './mount-access.js';
import { ensurePackageVolume } from '../packages/package-store.js';
import { loadSandboxSources } from '../session/boot-modules.js';
import { LiveSandbox } from '../session/live-sandbox.js';

type Print = (line: string) => void;

/**
 * `doctor`: checks each thing run_python needs, in order, and for the first that fails
 * prints what is wrong and the command that fixes it. Exit status 0 when all is well.
 */
export async function runDoctor(
  config: BridgeConfig,
  logger: Logger,
  print: Print,
): Promise<number> {
  print(`mcp-server-code-execution-mode doctor`);
  print(
    `  image ${config.image}, memory ${formatByteSize(config.memoryBytes)}, pids ${config.pidsLimit}, user ${config.containerUser}, runtime ${config.ociRuntime ?? "the engine's default"}`,
  );

  let mounts: CheckedHostMount[];
  try {
    mounts = checkedHostMounts(config);
  } catch (error: unknown) {
    print(`✗ mounts: ${errorMessage(error)}`);
    return 1;
  }
  for (const mount of mounts) {
    const link = mount.given === mount.source ? '' : ` (a link to ${mount.source})`;
    print(`  mount ${mount.given}${link} → ${mount.target} ${mount.writable ? 'rw' : 'ro'}`);
  }

  let engine: LocatedEngine;
  try {
    engine = await locateEngine(config, logger);
    print(
      `✓ engine: ${engine.kind} ${engine.version} (API ${engine.apiVersion}) at ${engine.dockerHost} [${engine.source}]`,
    );
  } catch (error: unknown) {
    print(`✗ engine: ${errorMessage(error)}`);
    return 1;
  }

  try {
    try {
      await engine.docker.getImage(config.image).inspect();
      print(`✓ image: ${config.image} is present`);
    } catch {
      print(`✗ image: ${config.image} is not present.`);
      print(
        `  fix: ${engine.kind} pull ${config.image}   (or set MCP_BRIDGE_IMAGE to a local image with python3)`,
      );
      return 1;
    }

    try {
      // As the bridge does before its first sandbox, which mounts the store read-only.
      await ensurePackageVolume(engine.docker, config.packages.volume, engine.kind);
      print(`✓ package store: volume ${config.packages.volume}`);
    } catch (error: unknown) {
      print(
        `✗ package store: could not create volume ${config.packages.volume}: ${errorMessage(error)}`,
      );
      return 1;
    }

    const started = performance.now();
    let sandbox: LiveSandbox;
    try {
      sandbox = await LiveSandbox.start({
        docker: engine.docker,
        blueprint: sandboxBlueprint(config, engine.kind, engine.dockerHost),
        sources: loadSandboxSources(sandboxData(undefined, mounts)),
        logger,
        interruptGraceMs: config.interruptGraceSeconds * 1000,
        onDeath: () => undefined,
      });
    } catch (error: unknown) {
      print(`✗ hardened sandbox: ${errorMessage(error)}`);
      print(
        config.ociRuntime === 'runsc'
          ? '  fix: MCP_BRIDGE_OCI_RUNTIME=runsc needs an engine that runs the sandbox under gVisor (README, "gVisor (optional)"); or unset it.'
          : '  fix: check the engine configuration: README, "Engine problems we have met", lists the problems known; docs/security.md says what each hardening setting needs.',
      );
      return 1;
    }
    try {
      const facts = sandbox.ready.facts;
      print(
        `✓ hardened sandbox started in ${Math.round(performance.now() - started)} ms: python ${sandbox.ready.python}, uid ${facts.uid}, ` +
          `seccomp mode ${facts.seccomp}, no_new_privs ${facts.noNewPrivs}, network [${facts.netInterfaces.join(', ')}]`,
      );
      const result = await sandbox.execute({
        code: "print('hello from the sandbox')",
        timeoutMs: 10_000,
        maxOutputChars: 4096,
      });
      if (result.outcome !== 'completed' || !result.stdout.includes('hello from the sandbox')) {
        print(
          `✗ hello world: ${result.outcome} ${result.lostReason ?? ''} ${result.stderr}`.trim(),
        );
        return 1;
      }
      print(`✓ hello world ran in ${result.durationMs.toFixed(2)} ms`);
      if (mounts.length > 0) {
        const access = await sandbox.execute({
          code: mountAccessCode(mounts),
          timeoutMs: 10_000,
          maxOutputChars: 16_384,
        });
        const lines = mountAccessLines(mounts, access.stdout, facts.uid);
        lines.forEach((line) => print(line));
        if (lines.some((line) => line.startsWith('✗'))) return 1;
      }
      print(
        sandbox.channel === 'socket'
          ? '✓ channel: frames take the socket lane'
          : `  channel: frames take the container's stdin/stdout (${stdioReason(config)}), about 0.1 ms slower per round trip`,
      );
    } finally {
      await sandbox.destroy();
    }
    // gVisor is optional: say whether the engine has it, without failing the checks.
    print(
      config.ociRuntime === 'runsc'
        ? `✓ gVisor: the sandbox runs under runsc (kernel ${sandbox.ready.facts.kernel?.release ?? '?'})`
        : (await probeGvisor(config, engine, logger)).line,
    );
    print('All checks passed.');
    return 0;
  } finally {
    await engine.ownedService?.stop();
  }
}

/** Why frames take stdin/stdout rather than the socket lane. */
function stdioReason(config: BridgeConfig): string {
  if (config.channel === 'stdio') return 'MCP_BRIDGE_CHANNEL=stdio';
  if (config.ociRuntime === 'runsc') return 'the socket lane is not offered under gVisor';
  return 'the socket lane was not reachable; see the log';
}
