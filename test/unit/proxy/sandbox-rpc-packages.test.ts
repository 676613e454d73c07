import { describe, expect, it, vi } from 'vitest';
import { PackageRefusedError, type InstallResult } from '../../../src/packages/install-result.js';
import { sandboxRpcHandler, type SandboxPackageInstaller } from '../../../src/proxy/sandbox-rpc.js';

/** The `install_package` request (docs/protocol.md, RPC), answered by the host. */

function handler(packages?: SandboxPackageInstaller) {
  return sandboxRpcHandler({
    allowed: new Set(),
    session: 'default',
    catalog: {} as never,
    caller: {} as never,
    savedTools: {} as never,
    packages,
  });
}

const signal = new AbortController().signal;

describe('install_package requests', () => {
  it('answers with the install result and hands the call its abort signal', async () => {
    const result: InstallResult = {
      package: 'tinypkg',
      success: true,
      message: 'Installed tinypkg 0.1.0 in 1.0 s.',
      installedAt: '2026-01-01T00:00:00.000Z',
      version: '0.1.0',
    };
    const installOrRefuse = vi.fn(() => Promise.resolve(result));
    const answer = await handler({ installOrRefuse })(
      { type: 'install_package', name: 'tinypkg' },
      signal,
    );
    expect(answer).toEqual(result);
    expect(installOrRefuse).toHaveBeenCalledWith('tinypkg', { signal });
  });

  it('answers a refusal with an error', async () => {
    const installOrRefuse = vi.fn(() =>
      Promise.reject(new PackageRefusedError("Cannot install '-e .': pip options …")),
    );
    await expect(
      handler({ installOrRefuse })({ type: 'install_package', name: '-e .' }, signal),
    ).rejects.toThrow("Cannot install '-e .': pip options …");
  });

  it('refuses malformed requests and bridges without package installs', async () => {
    await expect(
      handler({ installOrRefuse: vi.fn() })({ type: 'install_package', name: 42 }, signal),
    ).rejects.toThrow(/Invalid 'install_package' request: name/);
    await expect(
      handler({ installOrRefuse: vi.fn() })(
        { type: 'install_package', name: 'x'.repeat(1001) },
        signal,
      ),
    ).rejects.toThrow(/Invalid 'install_package' request/);
    await expect(handler()({ type: 'install_package', name: 'numpy' }, signal)).rejects.toThrow(
      'Package installs are not available in this bridge.',
    );
  });
});
