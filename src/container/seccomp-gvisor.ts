import { buildSeccompProfile, type SeccompProfile } from './seccomp-profile.js';

/**
 * Our seccomp profile as gVisor (runsc --oci-seccomp) must receive it. gVisor's kernel
 * applies it to the sandbox's calls, but runsc 20221219 (Debian 12) ignores a rule's
 * `errnoRet`: every refusal becomes EPERM. clone3 must fail with ENOSYS, or glibc does not
 * fall back to clone and no thread or posix_spawn can start (measured: "can't start new
 * thread"). SCMP_ACT_TRACE gives ENOSYS whenever no tracer is attached, on Linux and in
 * gVisor alike, and none can be: the profile refuses ptrace. So clone3 is traced here,
 * which is ENOSYS in every runsc version. Under runc the profile keeps SCMP_ACT_ERRNO,
 * which does not depend on ptrace being refused.
 */
export function gvisorSeccompProfile(): SeccompProfile {
  const profile = buildSeccompProfile();
  for (const rule of profile.syscalls) {
    if (!rule.names.includes('clone3')) continue;
    if (rule.names.length !== 1 || rule.action !== 'SCMP_ACT_ERRNO') {
      // Security: fail closed if the base profile changes shape under us.
      throw new Error('gvisorSeccompProfile: expected clone3 alone, refused with an errno');
    }
    rule.action = 'SCMP_ACT_TRACE';
    delete rule.errnoRet;
    rule.comment = 'clone3 flags are not inspectable; ENOSYS (no tracer) makes glibc use clone';
  }
  return profile;
}
