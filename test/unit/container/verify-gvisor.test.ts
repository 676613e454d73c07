import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MountFact, SandboxFacts } from '../../../src/channel/frames.js';
import { sandboxBlueprint, sandboxHardening } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/env.js';
import { GVISOR_KERNEL_VERSION, isGvisorKernel } from '../../../src/container/expected-facts.js';
import {
  buildContainerCreateOptions,
  hardeningDefaults,
  type HardeningSettings,
} from '../../../src/container/hardening.js';
import { gvisorSeccompProfile } from '../../../src/container/seccomp-gvisor.js';
import { seccompProfileJson } from '../../../src/container/seccomp-profile.js';
import { verifyHardening } from '../../../src/container/verify-hardening.js';
import { ConfigError } from '../../../src/errors.js';
import { confinedFacts } from '../../support/sandbox-facts.js';

const MiB = 1024 * 1024;

// /proc/self/mountinfo inside a container built by buildContainerCreateOptions with
// ociRuntime runsc, on Podman 4.3.1 with runsc 20221219 (--network=none --oci-seccomp).
// gVisor prints an empty optional-fields column, hence the double space before " - ".
const GVISOR_MOUNTINFO = `
8 8 0:8 / / ro  - 9p none ro,trans=fd,rfdno=4,wfdno=4,aname=/,dfltuid=4294967294,dfltgid=4294967294,cache=fscache,overlayfs_stale_read
9 8 0:9 / /sys ro,noexec  - sysfs none ro,dentry_cache_limit=1000
10 8 0:10 / /tmp rw,noexec  - tmpfs none rw,size=67108864,mode=1777
11 8 0:6 / /dev rw,noexec  - tmpfs none rw,mode=0755
12 8 0:11 / /run rw,noexec  - tmpfs none rw,size=1048576,mode=0755
13 8 0:12 / /proc rw,noexec  - proc none rw,dentry_cache_limit=1000
14 11 0:13 / /dev/shm rw,noexec  - 9p none rw,trans=fd,rfdno=8,wfdno=8,aname=/,dfltuid=4294967294,dfltgid=4294967294,cache=remote_revalidating
15 8 0:14 / /var/tmp ro,noexec  - tmpfs none ro,size=1048576,mode=0755
16 11 0:15 / /dev/pts rw,noexec  - devpts none rw
17 8 0:16 / /workspace rw,noexec  - tmpfs none rw,size=134217728,mode=1777
18 8 0:17 / /etc/hosts ro,noexec  - 9p none ro,trans=fd,rfdno=7,wfdno=7,aname=/,dfltuid=4294967294,dfltgid=4294967294,cache=remote_revalidating
19 8 0:18 / /etc/hostname ro,noexec  - 9p none ro,trans=fd,rfdno=6,wfdno=6,aname=/,dfltuid=4294967294,dfltgid=4294967294,cache=remote_revalidating
20 12 0:19 / /run/podman-init ro  - 9p none ro,trans=fd,rfdno=5,wfdno=5,aname=/,dfltuid=4294967294,dfltgid=4294967294,cache=remote_revalidating
`;

/** mountinfo → facts mounts as sandbox/mcp_sandbox/facts.py reads it. */
function parseMountinfo(text: string): MountFact[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [before = '', after = ''] = line.split(' - ');
      const fields = before.trim().split(/\s+/);
      const [fstype = '', , superOptions = ''] = after.split(' ');
      return {
        target: fields[4] ?? '',
        fstype,
        options: [...new Set([...(fields[5] ?? '').split(','), ...superOptions.split(',')])],
      };
    });
}

const GVISOR_KERNEL = { release: '4.4.0', version: GVISOR_KERNEL_VERSION };
const HOST_KERNEL = { release: '6.18.44-fc-v1272', version: '#1 SMP PREEMPT_DYNAMIC @0' };

/** What the runner reported under runsc (same run as the mountinfo above). */
function gvisorFacts(overrides: Partial<SandboxFacts> = {}): SandboxFacts {
  return confinedFacts(parseMountinfo(GVISOR_MOUNTINFO), {
    capAmb: null,
    memoryLimitBytes: null,
    memorySwapLimitBytes: null,
    pidsLimit: null,
    memTotalBytes: 512 * MiB,
    shmSizeBytes: 8 * MiB,
    kernel: GVISOR_KERNEL,
    rlimitNproc: 128, // MCP_BRIDGE_PIDS: gvisor-limits.ts
    ...overrides,
  });
}

const base: HardeningSettings = {
  engine: 'podman',
  seccompProfilePath: '/state/runtime/seccomp.json',
  image: 'localhost/mcp-sandbox:test',
  user: '65534:65534',
  memoryBytes: 512 * MiB,
  pidsLimit: 128,
  ...hardeningDefaults(),
  labels: {},
  command: ['python3'],
};
const runsc: HardeningSettings = { ...base, ociRuntime: 'runsc' };

describe('MCP_BRIDGE_OCI_RUNTIME', () => {
  it('is unset by default, and takes runc or runsc', () => {
    expect(loadConfig({}).ociRuntime).toBeUndefined();
    expect(loadConfig({ MCP_BRIDGE_OCI_RUNTIME: 'runsc' }).ociRuntime).toBe('runsc');
    expect(loadConfig({ MCP_BRIDGE_OCI_RUNTIME: ' RunC ' }).ociRuntime).toBe('runc');
  });

  it('refuses a runtime whose confinement the bridge cannot verify, naming the variable', () => {
    expect(() => loadConfig({ MCP_BRIDGE_OCI_RUNTIME: 'kata' })).toThrow(ConfigError);
    expect(() => loadConfig({ MCP_BRIDGE_OCI_RUNTIME: 'kata' })).toThrow(/MCP_BRIDGE_OCI_RUNTIME/);
  });

  it('caps the sandbox through RLIMIT_NPROC under gVisor, and leaves gVisor room on the host', () => {
    const limits = (settings: HardeningSettings) => {
      const host = buildContainerCreateOptions(settings).HostConfig;
      const nproc = (host?.Ulimits ?? []).find((limit) => limit.Name === 'nproc');
      return { pids: host?.PidsLimit, nproc: [nproc?.Soft, nproc?.Hard] };
    };
    expect(limits(base)).toEqual({ pids: 128, nproc: [16384, 16384] });
    expect(limits(runsc)).toEqual({ pids: 64 + 6 * 128, nproc: [128, 128] });
    expect(limits({ ...runsc, pidsLimit: 16 })).toEqual({ pids: 160, nproc: [16, 16] });
    // And the sandbox must show that RLIMIT_NPROC.
    expect(verifyHardening(gvisorFacts({ rlimitNproc: 16384 }), runsc)).toEqual([
      'nproc rlimit: expected 128, sandbox has 16384',
    ]);
  });

  it('becomes HostConfig.Runtime; the rest of the hardening but the process limit stays', () => {
    const plain = buildContainerCreateOptions(base);
    const gvisor = buildContainerCreateOptions(runsc);
    expect(plain.HostConfig?.Runtime).toBeUndefined();
    expect(buildContainerCreateOptions({ ...base, ociRuntime: 'runc' }).HostConfig?.Runtime).toBe(
      'runc',
    );
    expect(gvisor.HostConfig?.Runtime).toBe('runsc');
    const unlimited = (options: typeof plain) => ({
      ...options,
      HostConfig: { ...options.HostConfig, Runtime: undefined, PidsLimit: 0, Ulimits: [] },
    });
    expect(unlimited(gvisor)).toEqual(unlimited(plain));
  });
});

describe('isGvisorKernel', () => {
  it("recognises gVisor's kernel, old and new, and not a real 4.4.0", () => {
    expect(isGvisorKernel(GVISOR_KERNEL)).toBe(true);
    expect(isGvisorKernel({ release: '4.19.0-gvisor', version: GVISOR_KERNEL_VERSION })).toBe(true);
    expect(isGvisorKernel({ release: '4.4.0-210-generic', version: '#242-Ubuntu SMP' })).toBe(
      false,
    );
    expect(isGvisorKernel(HOST_KERNEL)).toBe(false);
    expect(isGvisorKernel(null)).toBe(false);
  });
});

describe('verifyHardening under gVisor (runsc)', () => {
  it('finds nothing wrong with what runsc really produced', () => {
    expect(verifyHardening(gvisorFacts(), runsc)).toEqual([]);
  });

  it('refuses a sandbox that is not under gVisor although runsc was asked for', () => {
    const problems = verifyHardening(gvisorFacts({ kernel: HOST_KERNEL }), runsc);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^runtime: MCP_BRIDGE_OCI_RUNTIME=runsc, but the sandbox does not run under gVisor \(its kernel is "6\.18\.44-fc-v1272 #1 SMP PREEMPT_DYNAMIC @0"\): the engine ignored the runtime/,
    );
    expect(verifyHardening(gvisorFacts({ kernel: null }), runsc)[0]).toMatch(
      /its kernel is unknown/,
    );
  });

  it('refuses gVisor when runsc was not asked for, saying what to set, and only that', () => {
    expect(verifyHardening(gvisorFacts({ rlimitNproc: 16384 }), base)).toEqual([
      "runtime: the sandbox runs under gVisor (the engine's default runtime is runsc), but MCP_BRIDGE_OCI_RUNTIME is not runsc: set MCP_BRIDGE_OCI_RUNTIME=runsc so the bridge checks the sandbox the way gVisor shows it",
    ]);
  });

  it('checks the memory limit through MemTotal, and any cgroup limit gVisor shows', () => {
    expect(verifyHardening(gvisorFacts({ memTotalBytes: 24 * 1024 * MiB }), runsc)).toEqual([
      'memory limit: expected 512 MiB, gVisor was given 24 GiB (MemTotal)',
    ]);
    expect(verifyHardening(gvisorFacts({ memTotalBytes: null }), runsc)).toEqual([
      'memory limit: expected 512 MiB, MemTotal unreadable',
    ]);
    expect(verifyHardening(gvisorFacts({ memoryLimitBytes: 1024 * MiB }), runsc)).toEqual([
      'memory limit: expected 512 MiB, cgroup says 1 GiB',
    ]);
    expect(verifyHardening(gvisorFacts({ pidsLimit: 4096 }), runsc)).toEqual([
      'pids limit: expected 128, cgroup says 4096',
    ]);
    expect(
      verifyHardening(gvisorFacts({ memTotalBytes: 256 * MiB, pidsLimit: 64 }), runsc),
    ).toEqual([]);
  });

  it('still requires noexec and a size on every tmpfs, and a read-only /var/tmp', () => {
    const mounts = gvisorFacts().mounts.map((mount) => {
      if (mount.target === '/tmp')
        return { ...mount, options: mount.options.filter((o) => o !== 'noexec') };
      if (mount.target === '/workspace')
        return { ...mount, options: mount.options.filter((o) => !o.startsWith('size=')) };
      if (mount.target === '/var/tmp')
        return { ...mount, options: mount.options.map((o) => (o === 'ro' ? 'rw' : o)) };
      return mount;
    });
    expect(verifyHardening(gvisorFacts({ mounts }), runsc)).toEqual([
      '/tmp is not a tmpfs with noexec (tmpfs: rw,size=67108864,mode=1777)',
      '/workspace has no size limit',
      '/var/tmp is writable, expected read-only',
      'writable mount /var/tmp (tmpfs) that we did not ask for',
    ]);
  });

  it("checks /dev/shm's size through statvfs, and that it is noexec", () => {
    expect(verifyHardening(gvisorFacts({ shmSizeBytes: 64 * MiB }), runsc)).toEqual([
      '/dev/shm is 64 MiB, expected at most 8 MiB',
    ]);
    expect(verifyHardening(gvisorFacts({ shmSizeBytes: null }), runsc)).toEqual([
      '/dev/shm: its size could not be read',
    ]);
    const mounts = gvisorFacts().mounts.map((mount) =>
      mount.target === '/dev/shm'
        ? { ...mount, options: mount.options.filter((o) => o !== 'noexec') }
        : mount,
    );
    expect(verifyHardening(gvisorFacts({ mounts }), runsc)).toEqual([
      '/dev/shm is not noexec (9p: rw,trans=fd,rfdno=8,wfdno=8,aname=/,dfltuid=4294967294,dfltgid=4294967294,cache=remote_revalidating)',
    ]);
  });

  it('keeps every other check: identity, capabilities, seccomp, network', () => {
    const problems = verifyHardening(
      gvisorFacts({
        uid: 0,
        capBnd: '00000000800405fb',
        noNewPrivs: 0,
        seccomp: 0,
        netInterfaces: ['eth0', 'lo'],
      }),
      runsc,
    );
    expect(problems).toEqual([
      'user: expected uid 65534, sandbox runs as uid 0',
      'user: the sandbox runs as root',
      'capabilities: bounding set is 00000000800405fb, expected none',
      'no_new_privs is not set',
      'seccomp filter not active (mode 0): register runsc with --oci-seccomp',
      'network: interfaces [eth0, lo] besides lo',
    ]);
  });

  it('does not accept a missing ambient set from the host kernel', () => {
    const mounts = gvisorFacts().mounts;
    const runcFacts = confinedFacts(mounts, { capAmb: null, kernel: HOST_KERNEL });
    expect(verifyHardening(runcFacts, base)).toContain(
      'capabilities: the ambient set is not shown, expected none',
    );
  });
});

describe('the sandbox blueprint under runsc', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-gvisor-blueprint-'));
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));
  const config = loadConfig({ MCP_BRIDGE_OCI_RUNTIME: 'runsc', MCP_BRIDGE_STATE_DIR: stateDir });

  it('asks for runsc and offers no socket lane', () => {
    const blueprint = sandboxBlueprint(config, 'docker', 'unix:///var/run/docker.sock');
    expect(blueprint.createOptions(['python3']).HostConfig?.Runtime).toBe('runsc');
    expect(blueprint.gvisor).toBe(true);
    // gVisor refuses to connect to a host socket: the lane would only cost a failed try.
    expect(blueprint.socketLane).toBe(false);
    const plain = sandboxBlueprint(loadConfig({}), 'docker', 'unix:///var/run/docker.sock');
    expect(plain.socketLane).toBe(true);
    expect(plain.gvisor).toBe(false);
  });

  it("gives the package installer gVisor's settings only where it runs under gVisor too", () => {
    // Docker honours the runtime per container: the installer keeps runc and its network.
    expect(sandboxHardening(config, 'docker').ociRuntime).toBeUndefined();
    // A Podman service for runsc runs every container under it (Podman ignores the ask).
    const podman = sandboxHardening(config, 'podman');
    expect(podman.ociRuntime).toBe('runsc');
    expect(readFileSync(podman.seccompProfilePath ?? '', 'utf8')).toBe(
      seccompProfileJson(gvisorSeccompProfile()),
    );
  });
});
