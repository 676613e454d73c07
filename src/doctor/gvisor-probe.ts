import { sandboxBlueprint, sandboxData } from '../app.js';
import type { BridgeConfig } from '../config/env.js';
import type { LocatedEngine } from '../container/engine-locator.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { loadSandboxSources } from '../session/boot-modules.js';
import { LiveSandbox } from '../session/live-sandbox.js';

/** Where the README explains how to give an engine gVisor. */
const HOW_TO = 'README, "gVisor (optional)"';

/** The line doctor prints about gVisor: ✓ when it works, an explanation when not. */
export interface GvisorReport {
  available: boolean;
  line: string;
}

/**
 * Whether this engine can run the sandbox under gVisor, found out the sound way: a
 * hardened hello-world asked to run under runsc, whose facts must show gVisor's kernel.
 * An engine's runtime list is not enough: Podman lists runsc whether or not it is
 * installed, and ignores the runtime a Docker-API client asks for anyway. Docker's list
 * is reliable, so an engine without runsc there is told without starting anything.
 */
export async function probeGvisor(
  config: BridgeConfig,
  engine: LocatedEngine,
  logger: Logger,
): Promise<GvisorReport> {
  if (engine.kind === 'docker') {
    const info = (await engine.docker.info()) as { Runtimes?: Record<string, unknown> };
    if (!info.Runtimes || !('runsc' in info.Runtimes)) {
      return {
        available: false,
        line: `  gVisor: not available: this Docker engine has no runsc runtime (${HOW_TO})`,
      };
    }
  }
  try {
    const sandbox = await LiveSandbox.start({
      docker: engine.docker,
      blueprint: sandboxBlueprint(
        { ...config, ociRuntime: 'runsc' },
        engine.kind,
        engine.dockerHost,
      ),
      sources: loadSandboxSources(sandboxData()),
      logger,
      interruptGraceMs: config.interruptGraceSeconds * 1000,
      onDeath: () => undefined,
    });
    const kernel = sandbox.ready.facts.kernel;
    await sandbox.destroy();
    return {
      available: true,
      line: `✓ gVisor: available: a hardened sandbox ran under runsc (kernel ${kernel?.release ?? '?'}); set MCP_BRIDGE_OCI_RUNTIME=runsc to use it`,
    };
  } catch (error: unknown) {
    return { available: false, line: `  gVisor: not available: ${whyNot(errorMessage(error))}` };
  }
}

/** The gist of a failed start: the runtime problem when verification named one. */
function whyNot(message: string): string {
  const lines = message.split('\n').map((line) => line.trim());
  const runtime = lines.find((line) => line.startsWith('runtime: '));
  return (runtime ?? lines[0] ?? message)
    .replace(/^runtime: /, '')
    .replace(/^MCP_BRIDGE_OCI_RUNTIME=runsc, but /, '');
}
