import { chmod, mkdtemp, rm } from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';

/**
 * Listens on a Unix socket in a new folder that is mounted into a container: the folder
 * only its owner may list (0711) and the socket anyone may connect to (0666), since the
 * container's user is not ours; what connects proves itself to the server. The folder is
 * removed again if anything fails.
 */
export async function listenInNewFolder<T>(options: {
  /** Path prefix of the new folder (mkdtemp adds six random characters). */
  prefix: string;
  socketName: string;
  /** Makes the server (and what owns it) once the folder exists. */
  build: (hostDir: string) => { server: net.Server; owner: T };
  /** Errors after the server listens (listening itself rejects instead). */
  onError: (error: Error) => void;
}): Promise<T> {
  const hostDir = await mkdtemp(options.prefix);
  try {
    await chmod(hostDir, 0o711);
    const { server, owner } = options.build(hostDir);
    const socketPath = path.join(hostDir, options.socketName);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', options.onError);
    await chmod(socketPath, 0o666);
    return owner;
  } catch (error: unknown) {
    await rm(hostDir, { recursive: true, force: true });
    throw error;
  }
}
