import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { dockerClient } from '../../src/container/docker-client.js';
import { pingEngine } from '../../src/container/engine-ping.js';
import { REPO_ROOT, waitFor } from './bridge-client.js';
import type { TestEngineName } from './engines.js';

/**
 * A container engine API service of the test's own, to stop and restart mid-call without
 * touching the shared Podman service or dockerd that other tests (and CI) run on.
 *
 * - Podman: a second `podman system service` on a socket of ours. It shares the host's
 *   storage (the test image is there) and the containers it starts are the host's
 *   containers: stopping the service stops only the API, as restarting Podman's service
 *   does for real.
 * - Docker: a second dockerd with its own data root, exec root (so its own containerd),
 *   socket and pid file, no iptables and no bridge. The 1.3 GB test image would take half a
 *   minute to load into it, so it gets a minimal image instead (the test image's Python
 *   and standard library, ~80 MB, built by test/fixtures/minimal-rootfs.py): seconds.
 */
export interface PrivateEngine {
  readonly kind: TestEngineName;
  readonly dockerHost: string;
  readonly docker: Dockerode;
  /** The sandbox image to give the bridge (MCP_BRIDGE_IMAGE). */
  readonly image: string;
  /** Whether the API service process is running. */
  readonly running: boolean;
  /** Sends `signal` to the API service and waits until its process has exited. */
  stop(signal: NodeJS.Signals): Promise<void>;
  /** Starts the API service (again) and waits until it answers. */
  start(): Promise<void>;
  /** Stops the service and removes what it left (its folder). */
  dispose(): Promise<void>;
  /** The service's own log so far (for failure messages). */
  log(): string;
}

const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 30_000;
const MINIMAL_IMAGE = 'localhost/mcp-sandbox:faults-minimal';
const PATH_ENV = 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** One long-running service process we start, stop and restart. */
class ServiceProcess {
  #child: ChildProcess | undefined;
  #exit: Promise<void> = Promise.resolve();
  #log = '';

  constructor(
    readonly name: string,
    readonly command: string,
    readonly args: string[],
  ) {}

  get log(): string {
    return this.#log;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  spawn(): void {
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#child = child;
    this.#exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.#log += `\n[${this.name} exited: code ${code} signal ${signal}]\n`;
        if (this.#child === child) this.#child = undefined;
        resolve();
      }),
    );
  }

  /** Signals the process and waits for its exit; SIGKILL if it takes too long. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill(signal);
    const exited = this.#exit;
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

async function answers(dockerHost: string, docker: Dockerode): Promise<boolean> {
  try {
    await pingEngine(dockerHost, 1000);
    await docker.listContainers({ limit: 1 });
    return true;
  } catch {
    return false;
  }
}

async function startAndWait(service: ServiceProcess, dockerHost: string, docker: Dockerode) {
  service.spawn();
  const up = await waitFor(
    async () => !service.running || (await answers(dockerHost, docker)),
    READY_TIMEOUT_MS,
    200,
  );
  if (!up || !service.running) {
    throw new Error(`${service.name} did not come up at ${dockerHost}:\n${service.log}`);
  }
}

function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target.startsWith(`${dir}/`))
    .sort()
    .reverse();
}

/**
 * Unmounts what dockerd left mounted below `dir` (its data root is a bind mount of
 * itself), deepest first, then removes `dir`; never removes through a mount that stayed.
 */
function removeTree(dir: string): void {
  for (const target of mountsBelow(dir)) spawnSync('umount', ['-l', target], { stdio: 'ignore' });
  const left = mountsBelow(dir);
  if (left.length > 0) {
    console.warn(`private engine: left ${dir} in place, still mounted: ${left.join(', ')}`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

/** A private `podman system service` on a socket in a fresh folder. */
export async function startPrivatePodman(image: string): Promise<PrivateEngine> {
  const dir = mkdtempSync('/tmp/mcp-faults-podman-');
  const dockerHost = `unix://${dir}/podman.sock`;
  const docker = dockerClient(dockerHost);
  const service = new ServiceProcess('podman system service', 'podman', [
    'system',
    'service',
    '--time=0',
    dockerHost,
  ]);
  await startAndWait(service, dockerHost, docker);
  return {
    kind: 'podman',
    dockerHost,
    docker,
    image,
    get running() {
      return service.running;
    },
    stop: (signal) => service.stop(signal),
    start: () => startAndWait(service, dockerHost, docker),
    dispose: async () => {
      await service.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => service.log,
  };
}

/**
 * A private dockerd with the minimal image, built from `sourceImage` on `source` (the
 * shared Docker engine) by a short-lived container.
 */
export async function startPrivateDocker(
  source: Dockerode,
  sourceImage: string,
): Promise<PrivateEngine> {
  const dir = mkdtempSync('/tmp/mcp-faults-dockerd-');
  const dockerHost = `unix://${dir}/docker.sock`;
  const docker = dockerClient(dockerHost);
  const service = new ServiceProcess('dockerd', 'dockerd', [
    `--data-root=${dir}/data`,
    `--exec-root=${dir}/exec`,
    `--pidfile=${dir}/docker.pid`,
    `--host=${dockerHost}`,
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
  ]);
  try {
    await startAndWait(service, dockerHost, docker);
    const tar = await buildMinimalRootfs(source, sourceImage, path.join(dir, 'rootfs'));
    await importImage(docker, tar, MINIMAL_IMAGE);
  } catch (error) {
    await service.stop('SIGTERM');
    removeTree(dir);
    throw error;
  }
  const restart = async () => {
    forgetDeadContainerd(path.join(dir, 'exec/containerd/containerd.pid'));
    await startAndWait(service, dockerHost, docker);
  };
  return {
    kind: 'docker',
    dockerHost,
    docker,
    image: MINIMAL_IMAGE,
    get running() {
      return service.running;
    },
    stop: (signal) => service.stop(signal),
    start: restart,
    dispose: async () => {
      // A clean shutdown stops its containers and its containerd; a dead dockerd cannot.
      if (!service.running) await restart().catch(() => undefined);
      await service.stop('SIGTERM');
      removeTree(dir);
    },
    log: () => service.log,
  };
}

/**
 * dockerd kills its containerd when it dies, but reuses "the containerd still running" it
 * finds in the pid file, and fails if that is a process not yet reaped (this machine's
 * init reaps orphans late). A pid file naming a dead or zombie process is removed, so the
 * restarted dockerd starts a containerd of its own, as after a reboot.
 */
function forgetDeadContainerd(pidFile: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  let state = 'gone';
  try {
    state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'gone';
  } catch {
    // gone
  }
  if (state === 'gone' || state === 'Z' || state === 'X') rmSync(pidFile, { force: true });
}

async function buildMinimalRootfs(docker: Dockerode, image: string, out: string): Promise<string> {
  mkdirSync(out, { recursive: true });
  const container = await docker.createContainer({
    Image: image,
    Cmd: ['python3', '/fixtures/minimal-rootfs.py', '/out/rootfs.tar'],
    HostConfig: {
      Binds: [`${path.join(REPO_ROOT, 'test/fixtures')}:/fixtures:ro`, `${out}:/out`],
      NetworkMode: 'none',
    },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`minimal-rootfs.py exited with ${StatusCode}`);
  } finally {
    await container.remove({ force: true });
  }
  return path.join(out, 'rootfs.tar');
}

async function importImage(docker: Dockerode, tar: string, name: string): Promise<void> {
  const [repo, tag] = name.split(/:(?=[^:]+$)/);
  const stream = await docker.importImage(createReadStream(tar), {
    repo,
    tag,
    changes: PATH_ENV,
  } as Record<string, unknown>);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null) =>
      error ? reject(error) : resolve(),
    ),
  );
  await docker.getImage(name).inspect();
}
