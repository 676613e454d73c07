import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Host folders for MCP_BRIDGE_MOUNTS tests: a read-only data folder and an rw one. */
export interface HostFolders {
  root: string;
  /** Holds `prices.csv`; both writable by anyone on the host, mounted read-only at /workspace/data. */
  data: string;
  /** Mode 0777 so the sandbox's uid (65534) may write; mounted rw at /workspace/exports. */
  exports: string;
  /** MCP_BRIDGE_MOUNTS for the two. */
  variable: string;
  remove(): void;
}

export const PRICES_CSV = 'item,price\napple,1.5\npear,2.25\nplum,0.75\n';

export function makeHostFolders(): HostFolders {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mcp-host-folders-'));
  const data = path.join(root, 'data');
  const exports = path.join(root, 'exports');
  mkdirSync(data);
  mkdirSync(exports);
  writeFileSync(path.join(data, 'prices.csv'), PRICES_CSV);
  // Rootful engines run the sandbox as uid 65534 on the host: it reads as "others".
  chmodSync(root, 0o755);
  // Writable by anyone on the host: only the read-only mount stops the sandbox.
  chmodSync(path.join(data, 'prices.csv'), 0o666);
  chmodSync(data, 0o777);
  chmodSync(exports, 0o777);
  return {
    root,
    data,
    exports,
    variable: `${data}:/workspace/data:ro,${exports}:/workspace/exports:rw`,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
