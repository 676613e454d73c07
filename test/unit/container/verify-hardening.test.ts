import { describe, expect, it } from 'vitest';
import type { MountFact, SandboxFacts } from '../../../src/channel/frames.js';
import { hardeningDefaults, type HardeningSettings } from '../../../src/container/hardening.js';
import { tmpfsSizeBytes, verifyHardening } from '../../../src/container/verify-hardening.js';
import { confinedFacts } from '../../support/sandbox-facts.js';

const MiB = 1024 * 1024;

// /proc/self/mountinfo as seen inside a container built by buildContainerCreateOptions,
// captured on Docker 20.10.24 and Podman 4.3.1 (runc 1.1.5, cgroup v1); ids shortened.
const DOCKER_MOUNTINFO = `
76 50 0:39 / / ro,relatime master:3 - overlay overlay rw,lowerdir=/x
77 76 0:42 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
78 76 0:43 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
79 78 0:44 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666
80 76 0:45 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
81 80 0:46 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
82 81 0:29 /docker/ID /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
83 81 0:30 /docker/ID /sys/fs/cgroup/cpuacct ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuacct
84 81 0:31 /docker/ID /sys/fs/cgroup/cpuset ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuset
85 81 0:32 /docker/ID /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
86 81 0:33 /docker/ID /sys/fs/cgroup/devices ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,devices
87 81 0:34 /docker/ID /sys/fs/cgroup/freezer ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,freezer
88 81 0:35 /docker/ID /sys/fs/cgroup/blkio ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,blkio
89 81 0:36 /docker/ID /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
90 81 0:37 /docker/ID /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,name=systemd
91 78 0:41 / /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw
92 78 0:47 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=8192k
93 76 254:0 /usr/bin/tini-static /usr/sbin/docker-init ro,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
94 76 0:48 / /tmp rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=65536k
95 76 0:49 / /workspace rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=131072k
96 76 0:50 / /run rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=1024k,mode=755
97 76 254:0 /var/lib/docker/containers/ID/resolv.conf /etc/resolv.conf ro,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
98 76 254:0 /var/lib/docker/containers/ID/hostname /etc/hostname ro,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
99 76 254:0 /var/lib/docker/containers/ID/hosts /etc/hosts ro,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
100 76 0:51 / /var/tmp ro,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=1024k,mode=755
51 77 0:42 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw
52 77 0:42 /fs /proc/fs ro,nosuid,nodev,noexec,relatime - proc proc rw
53 77 0:42 /irq /proc/irq ro,nosuid,nodev,noexec,relatime - proc proc rw
54 77 0:42 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
55 77 0:52 / /proc/acpi ro,relatime - tmpfs tmpfs ro
56 77 0:43 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
57 77 0:43 /null /proc/timer_list rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
58 80 0:53 / /sys/firmware ro,relatime - tmpfs tmpfs ro
`;

const PODMAN_MOUNTINFO = `
77 50 0:40 / / ro,relatime - overlay overlay rw,lowerdir=/x
78 77 0:43 / /dev rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755
80 77 0:44 / /run rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=1024k,mode=755
79 77 0:45 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
82 77 0:46 / /tmp rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=65536k
83 77 0:47 / /workspace rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=131072k
81 77 0:48 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
84 80 254:0 /usr/bin/catatonit /run/podman-init ro,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
85 78 0:49 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666
87 77 0:50 / /var/tmp ro,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=1024k,mode=755
86 78 0:42 / /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw
88 77 254:0 /run/containers/storage/overlay-containers/ID/userdata/hosts /etc/hosts ro,nosuid,nodev,noexec,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
89 78 0:39 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=8192k
90 77 254:0 /run/containers/storage/overlay-containers/ID/userdata/hostname /etc/hostname ro,nosuid,nodev,noexec,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
91 79 0:51 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
92 91 0:29 /libpod_parent/libpod-ID /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
93 91 0:30 /libpod_parent/libpod-ID /sys/fs/cgroup/cpuacct ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuacct
94 91 0:31 /libpod_parent/libpod-ID /sys/fs/cgroup/cpuset ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuset
95 91 0:32 /libpod_parent/libpod-ID /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
96 91 0:33 /libpod_parent/libpod-ID /sys/fs/cgroup/devices ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,devices
97 91 0:34 /libpod_parent/libpod-ID /sys/fs/cgroup/freezer ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,freezer
98 91 0:35 /libpod_parent/libpod-ID /sys/fs/cgroup/blkio ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,blkio
99 91 0:36 /libpod_parent/libpod-ID /sys/fs/cgroup/pids ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
100 91 0:37 /libpod_parent/libpod-ID /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,name=systemd
51 81 0:48 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw
52 81 0:48 /fs /proc/fs ro,nosuid,nodev,noexec,relatime - proc proc rw
53 81 0:48 /irq /proc/irq ro,nosuid,nodev,noexec,relatime - proc proc rw
54 81 0:48 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
55 81 0:52 / /proc/acpi ro,relatime - tmpfs tmpfs ro
56 81 0:43 /null /proc/keys rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755
57 81 0:43 /null /proc/timer_list rw,nosuid,noexec - tmpfs tmpfs rw,size=65536k,mode=755
58 79 0:53 / /sys/firmware ro,relatime - tmpfs tmpfs ro
59 79 0:54 / /sys/dev/block ro,relatime - tmpfs tmpfs ro
`;

/** mountinfo → facts mounts, as docs/protocol.md describes: per-mount + super options. */
function parseMountinfo(text: string): MountFact[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [before = '', after = ''] = line.split(' - ');
      const fields = before.split(' ');
      const [fstype = '', , superOptions = ''] = after.split(' ');
      return {
        target: fields[4] ?? '',
        fstype,
        options: [...(fields[5] ?? '').split(','), ...superOptions.split(',')],
      };
    });
}

const settings: HardeningSettings = {
  image: 'localhost/mcp-sandbox:test',
  user: '65534:65534',
  memoryBytes: 512 * MiB,
  pidsLimit: 128,
  ...hardeningDefaults(),
  labels: {},
  command: [],
};

function facts(mountinfo: string, overrides: Partial<SandboxFacts> = {}): SandboxFacts {
  return confinedFacts(parseMountinfo(mountinfo), overrides);
}

function withMount(mountinfo: string, target: string, replace: (mount: MountFact) => MountFact) {
  return parseMountinfo(mountinfo).map((mount) =>
    mount.target === target ? replace(mount) : mount,
  );
}

describe.each([
  ['docker', DOCKER_MOUNTINFO],
  ['podman', PODMAN_MOUNTINFO],
])('verifyHardening on a %s sandbox', (_engine, mountinfo) => {
  it('finds nothing wrong with what the engine really produced', () => {
    expect(verifyHardening(facts(mountinfo), settings)).toEqual([]);
  });

  it('refuses when the sandbox could not read one of its facts', () => {
    const problems = verifyHardening(
      facts(mountinfo, { errors: ['netInterfaces: /sys/class/net: Permission denied'] }),
      settings,
    );
    expect(problems).toEqual([
      'the sandbox could not check its confinement: netInterfaces: /sys/class/net: Permission denied',
    ]);
  });

  it('accepts cgroup v2 swap reporting (0) and unreadable swap (null)', () => {
    expect(verifyHardening(facts(mountinfo, { memorySwapLimitBytes: 0 }), settings)).toEqual([]);
    expect(verifyHardening(facts(mountinfo, { memorySwapLimitBytes: null }), settings)).toEqual([]);
  });

  it('reports the identity, capabilities, no_new_privs and seccomp', () => {
    const problems = verifyHardening(
      facts(mountinfo, {
        uid: 0,
        gid: 0,
        groups: [0, 65534],
        capEff: '00000000a80425fb',
        capBnd: '000001ffffffffff',
        noNewPrivs: 0,
        seccomp: 0,
      }),
      settings,
    );
    expect(problems).toEqual([
      'user: expected uid 65534, sandbox runs as uid 0',
      'group: expected gid 65534, sandbox runs as gid 0',
      'supplementary groups [0] besides gid 65534',
      'user: the sandbox runs as root',
      "group: the sandbox runs in root's group (gid 0)",
      'capabilities: effective set is 00000000a80425fb, expected none',
      'capabilities: bounding set is 000001ffffffffff, expected none',
      'no_new_privs is not set',
      'seccomp filter not active (mode 0)',
    ]);
  });

  it("refuses root's group as the effective, saved or a supplementary gid", () => {
    const inRootGroup = "group: the sandbox runs in root's group (gid 0)";
    expect(verifyHardening(facts(mountinfo, { gids: [65534, 0, 65534] }), settings)).toEqual([
      'group: real, effective and saved gids are 65534, 0, 65534',
      inRootGroup,
    ]);
    expect(verifyHardening(facts(mountinfo, { groups: [0] }), settings)).toEqual([
      'supplementary groups [0] besides gid 65534',
      inRootGroup,
    ]);
    expect(verifyHardening(facts(mountinfo, { uids: [65534, 65534, 0] }), settings)).toEqual([
      'user: real, effective and saved uids are 65534, 65534, 0',
      'user: the sandbox runs as root',
    ]);
  });

  it('refuses a message queue limit other than 0, soft or hard', () => {
    expect(
      verifyHardening(facts(mountinfo, { rlimitMsgqueue: [819200, 819200] }), settings),
    ).toEqual([
      'msgqueue rlimit: expected 0 (no message queues), sandbox has soft 819200, hard 819200',
    ]);
    expect(verifyHardening(facts(mountinfo, { rlimitMsgqueue: [0, -1] }), settings)).toEqual([
      'msgqueue rlimit: expected 0 (no message queues), sandbox has soft 0, hard unlimited',
    ]);
  });

  it('refuses a core dump limit other than 0, soft or hard', () => {
    expect(verifyHardening(facts(mountinfo, { rlimitCore: [0, -1] }), settings)).toEqual([
      'core rlimit: expected 0 (no core dumps), sandbox has soft 0, hard unlimited',
    ]);
    expect(verifyHardening(facts(mountinfo, { rlimitCore: [1024, 1024] }), settings)).toEqual([
      'core rlimit: expected 0 (no core dumps), sandbox has soft 1024, hard 1024',
    ]);
    // Unreadable: the sandbox lists it in errors, which refuses on its own.
    const unreadable = facts(mountinfo, {
      rlimitCore: null,
      errors: ['rlimitCore: OSError()'],
    });
    expect(verifyHardening(unreadable, settings)).toEqual([
      'the sandbox could not check its confinement: rlimitCore: OSError()',
    ]);
  });

  it('reports a capability set it cannot parse', () => {
    expect(verifyHardening(facts(mountinfo, { capAmb: '' }), settings)).toEqual([
      'capabilities: ambient set is , expected none',
    ]);
  });

  it('reports cgroup limits, swap, rlimits, network, cwd and HOME', () => {
    const problems = verifyHardening(
      facts(mountinfo, {
        memoryLimitBytes: null,
        memorySwapLimitBytes: 1024 * MiB,
        pidsLimit: 4096,
        rlimitNofile: 1048576,
        rlimitNproc: -1,
        netInterfaces: ['lo', 'eth0'],
        cwd: '/',
        home: null,
      }),
      settings,
    );
    expect(problems).toEqual([
      'memory limit: expected 512 MiB, cgroup says unlimited (or unreadable)',
      'pids limit: expected 128, cgroup says 4096',
      'nofile rlimit: expected 4096, sandbox has 1048576',
      'nproc rlimit: expected 16384, sandbox has unlimited',
      'swap: limit is 1 GiB, expected no swap beyond the 512 MiB memory limit',
      'network: interfaces [lo, eth0] besides lo',
      'working directory is /, expected /workspace',
      'HOME is unset, expected /workspace',
    ]);
    expect(
      verifyHardening(
        facts(mountinfo, { memoryLimitBytes: 1024 * MiB, pidsLimit: null }),
        settings,
      ),
    ).toEqual([
      'memory limit: expected 512 MiB, cgroup says 1 GiB',
      'pids limit: expected 128, cgroup says unlimited (or unreadable)',
    ]);
  });

  it('accepts limits tighter than asked and unreadable rlimits', () => {
    const tighter = facts(mountinfo, {
      memoryLimitBytes: 256 * MiB,
      pidsLimit: 64,
      rlimitNofile: null,
    });
    expect(verifyHardening(tighter, settings)).toEqual([]);
  });

  it('reports a writable root filesystem', () => {
    const mounts = withMount(mountinfo, '/', (mount) => ({
      ...mount,
      options: mount.options.filter((option) => option !== 'ro'),
    }));
    expect(verifyHardening(facts(mountinfo, { mounts }), settings)).toEqual([
      'root filesystem is writable',
    ]);
  });

  it('reports a tmpfs without noexec, without a size, too big, or missing', () => {
    const exec = withMount(mountinfo, '/tmp', (mount) => ({
      ...mount,
      options: mount.options.filter((option) => option !== 'noexec'),
    }));
    expect(verifyHardening(facts(mountinfo, { mounts: exec }), settings)).toEqual([
      '/tmp is not a tmpfs with noexec,nosuid,nodev (tmpfs: rw,nosuid,nodev,relatime,rw,size=65536k)',
    ]);
    const unsized = withMount(mountinfo, '/workspace', (mount) => ({
      ...mount,
      options: mount.options.filter((option) => !option.startsWith('size=')),
    }));
    expect(verifyHardening(facts(mountinfo, { mounts: unsized }), settings)).toEqual([
      '/workspace has no size limit',
    ]);
    const big = withMount(mountinfo, '/tmp', (mount) => ({
      ...mount,
      options: mount.options.map((option) => (option.startsWith('size=') ? 'size=1g' : option)),
    }));
    expect(verifyHardening(facts(mountinfo, { mounts: big }), settings)).toEqual([
      '/tmp is 1 GiB, expected at most 64 MiB',
    ]);
    const missing = parseMountinfo(mountinfo).filter((mount) => mount.target !== '/dev/shm');
    expect(verifyHardening(facts(mountinfo, { mounts: missing }), settings)).toEqual([
      '/dev/shm is not mounted (expected a 8 MiB tmpfs)',
    ]);
  });

  it('reports /var/tmp when it is writable and /run when it is not a tmpfs', () => {
    const mounts = withMount(mountinfo, '/var/tmp', (mount) => ({
      ...mount,
      options: mount.options.filter((option) => option !== 'ro'),
    })).map((mount) => (mount.target === '/run' ? { ...mount, fstype: 'ext4' } : mount));
    expect(verifyHardening(facts(mountinfo, { mounts }), settings)).toEqual([
      '/run is not a tmpfs with noexec,nosuid,nodev (ext4: rw,nosuid,nodev,noexec,relatime,rw,size=1024k,mode=755)',
      '/var/tmp is writable, expected read-only',
      'writable mount /var/tmp (tmpfs) that we did not ask for',
    ]);
  });

  it('reports writable mounts nobody asked for, but not the engine’s usual ones', () => {
    const extra: MountFact[] = [
      { target: '/data', fstype: 'ext4', options: ['rw', 'relatime', 'rw'] },
      { target: '/sys/kernel/debug', fstype: 'debugfs', options: ['rw', 'rw'] },
      { target: '/proc/sysrq-trigger', fstype: 'ext4', options: ['rw', 'rw'] },
      {
        target: '/dev/shm',
        fstype: 'ext4',
        options: ['rw', 'size=8192k', 'noexec', 'nosuid', 'nodev'],
      },
      // Engine-managed files that some versions bind read-write: fine.
      { target: '/etc/hosts', fstype: 'ext4', options: ['rw', 'relatime', 'rw'] },
      { target: '/run/.containerenv', fstype: 'tmpfs', options: ['rw', 'rw'] },
    ];
    const mounts = [...parseMountinfo(mountinfo), ...extra];
    expect(verifyHardening(facts(mountinfo, { mounts }), settings)).toEqual([
      '/dev/shm is not a tmpfs with noexec,nosuid,nodev (ext4: rw,size=8192k,noexec,nosuid,nodev)',
      'writable mount /dev/shm (ext4) that we did not ask for',
      'writable mount /data (ext4) that we did not ask for',
      'writable mount /sys/kernel/debug (debugfs) that we did not ask for',
      'writable mount /proc/sysrq-trigger (ext4) that we did not ask for',
    ]);
  });

  it('checks host folders: there, read-only unless rw, with the flags asked of Podman', () => {
    const engine = _engine as 'docker' | 'podman';
    const withFolders: HardeningSettings = {
      ...settings,
      engine,
      mounts: [
        {
          name: 'MCP_BRIDGE_MOUNTS /srv/data',
          mount: { Type: 'bind', Source: '/srv/data', Target: '/workspace/data' },
          hostFolder: true,
          writable: false,
        },
        {
          name: 'MCP_BRIDGE_MOUNTS /srv/out',
          mount: { Type: 'bind', Source: '/srv/out', Target: '/workspace/exports' },
          hostFolder: true,
          writable: true,
        },
      ],
    };
    const flags = engine === 'podman' ? ['nosuid', 'nodev', 'noexec'] : [];
    const good: MountFact[] = [
      { target: '/workspace/data', fstype: 'ext4', options: ['ro', ...flags, 'rw'] },
      { target: '/workspace/exports', fstype: 'ext4', options: ['rw', ...flags, 'rw'] },
    ];
    const mounts = [...parseMountinfo(mountinfo), ...good];
    expect(verifyHardening(facts(mountinfo, { mounts }), withFolders)).toEqual([]);

    const bad: MountFact[] = [
      { target: '/workspace/data', fstype: 'ext4', options: ['rw', 'relatime', 'rw'] },
    ];
    expect(
      verifyHardening(
        facts(mountinfo, { mounts: [...parseMountinfo(mountinfo), ...bad] }),
        withFolders,
      ),
    ).toEqual([
      'MCP_BRIDGE_MOUNTS /srv/data /workspace/data is writable, expected read-only',
      ...(engine === 'podman'
        ? [
            'MCP_BRIDGE_MOUNTS /srv/data /workspace/data is not mounted noexec,nosuid,nodev (rw,relatime,rw)',
          ]
        : []),
      'MCP_BRIDGE_MOUNTS /srv/out is not mounted at /workspace/exports',
    ]);
  });

  it('reports an empty mount table instead of passing it', () => {
    const problems = verifyHardening(facts(mountinfo, { mounts: [] }), settings);
    expect(problems).toContain('root filesystem: no mount for / in mountinfo');
    expect(problems).toContain('/tmp is not mounted (expected a 64 MiB tmpfs)');
  });
});

describe('tmpfsSizeBytes', () => {
  it('reads the sizes the kernel prints', () => {
    const size = (option: string) =>
      tmpfsSizeBytes({ target: '/t', fstype: 'tmpfs', options: ['rw', option] });
    expect(size('size=65536k')).toBe(64 * MiB);
    expect(size('size=2m')).toBe(2 * MiB);
    expect(size('size=1G')).toBe(1024 * MiB);
    expect(size('size=4096')).toBe(4096);
    expect(size('mode=755')).toBeUndefined();
  });
});
