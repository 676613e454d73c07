import type Dockerode from 'dockerode';
import { SandboxStartError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';

/** Makes sure `image` is present, pulling it (progress on stderr via the log) if not. */
export async function ensureImage(docker: Dockerode, image: string, logger: Logger): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (error: unknown) {
    if (!/404|no such image|not found/i.test(errorMessage(error))) {
      throw new SandboxStartError(`Could not inspect image '${image}': ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }
  logger.info({ image }, 'sandbox image not present: pulling it (first use only)');
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      let lastReport = 0;
      docker.modem.followProgress(
        stream,
        (error: Error | null) => (error ? reject(error) : resolve()),
        (event: { status?: string; progress?: string; id?: string }) => {
          const now = Date.now();
          if (now - lastReport < 1000) return;
          lastReport = now;
          logger.info(
            { image, layer: event.id, status: event.status, progress: event.progress },
            'pulling',
          );
        },
      );
    });
    await docker.getImage(image).inspect();
    logger.info({ image }, 'sandbox image pulled');
  } catch (error: unknown) {
    throw new SandboxStartError(
      `The sandbox image '${image}' is not present and could not be pulled: ${errorMessage(error)}. ` +
        `Pull it yourself (podman pull ${image} / docker pull ${image}), or set MCP_BRIDGE_IMAGE ` +
        `to a local image that has python3.`,
      { cause: error },
    );
  }
}
