import { lazyFunction, lazyMembers, resolveFrom, seedLazyModule } from '../util/lazy-modules.js';

/**
 * Memory: dockerode loads, at its own start, modules for features the bridge never uses:
 * gRPC and protobuf for BuildKit sessions (about 100 modules), ssh2 for ssh:// engine
 * addresses (which dockerClient refuses), tar-fs for image builds; about 9 MiB of the
 * bridge's resident memory. Stand-ins take their place (src/util/lazy-modules.ts); each
 * loads the real module when first used. Imported by docker-client.ts before dockerode.
 */
const dockerode = resolveFrom('dockerode');
if (dockerode) {
  // lib/session.js exports withSession(docker, auth, handler).
  seedLazyModule(dockerode, './session', lazyFunction);
  // lib/util.js calls tar-fs's pack and extract when it builds an image.
  seedLazyModule(dockerode, 'tar-fs', lazyMembers(['pack', 'extract']));
  // docker-modem's lib/ssh.js exports (options) => an http.Agent.
  const modem = resolveFrom('docker-modem', dockerode);
  if (modem) seedLazyModule(modem, './ssh', lazyFunction);
}
