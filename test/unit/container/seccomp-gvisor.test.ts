import { describe, expect, it } from 'vitest';
import {
  buildContainerCreateOptions,
  hardeningDefaults,
} from '../../../src/container/hardening.js';
import { gvisorSeccompProfile } from '../../../src/container/seccomp-gvisor.js';
import { buildSeccompProfile, seccompProfileJson } from '../../../src/container/seccomp-profile.js';

describe('gvisorSeccompProfile', () => {
  it('differs from our profile only in how clone3 is refused: traced, for ENOSYS', () => {
    const base = buildSeccompProfile();
    const gvisor = gvisorSeccompProfile();
    const clone3 = gvisor.syscalls.filter((rule) => rule.names.includes('clone3'));
    expect(clone3).toEqual([
      {
        names: ['clone3'],
        action: 'SCMP_ACT_TRACE',
        comment: 'clone3 flags are not inspectable; ENOSYS (no tracer) makes glibc use clone',
      },
    ]);
    const others = (profile: typeof base) =>
      profile.syscalls.filter((rule) => !rule.names.includes('clone3'));
    expect(others(gvisor)).toEqual(others(base));
    expect({ ...gvisor, syscalls: [] }).toEqual({ ...base, syscalls: [] });
    // ptrace stays refused: no tracer can exist to catch a traced clone3.
    expect(gvisor.syscalls.some((rule) => rule.names.includes('ptrace'))).toBe(false);
  });

  it('goes to the engine only for a sandbox under runsc', () => {
    const settings = {
      engine: 'docker' as const,
      image: 'python',
      user: '65534:65534',
      memoryBytes: 512 * 1024 * 1024,
      pidsLimit: 128,
      ...hardeningDefaults(),
      labels: {},
      command: ['python3'],
    };
    const securityOpt = (ociRuntime?: 'runc' | 'runsc'): unknown =>
      buildContainerCreateOptions({ ...settings, ociRuntime }).HostConfig?.SecurityOpt;
    const withProfile = (json: string) => ['no-new-privileges', `seccomp=${json}`];
    expect(securityOpt('runsc')).toEqual(withProfile(seccompProfileJson(gvisorSeccompProfile())));
    expect(securityOpt('runc')).toEqual(withProfile(seccompProfileJson(buildSeccompProfile())));
    expect(securityOpt()).toEqual(withProfile(seccompProfileJson(buildSeccompProfile())));
  });
});
