import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { printedJson, startBridge, type BridgeHandle } from '../support/bridge-client.js';
import { describeEachEngineAndGvisor } from '../support/engines.js';
import { makeHostFolders, type HostFolders } from '../support/host-folders.js';
import { expectSessionKept, setMarker } from '../support/session-marker.js';

/**
 * The sandbox's code going for the host through a host folder (MCP_BRIDGE_MOUNTS): links
 * to host files, hard links, device nodes, set-uid programs. Each attempt must give it
 * nothing of the host beyond the folder, and the session goes on.
 */

describeEachEngineAndGvisor('attacks through host folders', (engine) => {
  let bridge: BridgeHandle;
  let folders: HostFolders;
  let secretDir: string;
  let secret: string;
  const gvisor = engine.ociRuntime === 'runsc';

  beforeAll(async () => {
    folders = makeHostFolders();
    // A host file outside the folders, readable by anyone on the host.
    secretDir = mkdtempSync(path.join(os.tmpdir(), 'host-secret-'));
    chmodSync(secretDir, 0o755);
    secret = path.join(secretDir, 'secret.txt');
    writeFileSync(secret, 'HOST SECRET\n', { mode: 0o644 });
    // A set-uid-root program the user happened to keep in the read-only folder.
    const suid = path.join(folders.data, 'suid-id');
    copyFileSync('/usr/bin/id', suid);
    chmodSync(suid, 0o4755);
    // A root-only file in the rw folder: a hard link to it must not hand it over.
    writeFileSync(path.join(folders.exports, 'root-only.txt'), 'ROOT ONLY\n', { mode: 0o600 });
    bridge = await startBridge({
      dockerHost: engine.dockerHost,
      env: { ...engine.bridgeEnv, MCP_BRIDGE_MOUNTS: folders.variable },
    });
    await setMarker(bridge, 'kept');
  });
  afterAll(async () => {
    await bridge?.close();
    folders?.remove();
    rmSync(secretDir, { recursive: true, force: true });
  });

  it('a symlink it writes to a host file resolves inside the container, never to the host', async () => {
    const result = await bridge.run({
      code: String.raw`
import json, os
def attempt(fn):
    try:
        return "read " + repr(fn())
    except OSError as error:
        return type(error).__name__ + " " + str(error.errno)
os.symlink("/etc/shadow", "/workspace/exports/shadow")
os.symlink(${JSON.stringify(secret)}, "/workspace/exports/secret")
os.symlink("../../../../../..${secret}", "/workspace/exports/climb")
print("JSON " + json.dumps({
    "shadow": attempt(lambda: open("/workspace/exports/shadow").read()[:40]),
    "secret": attempt(lambda: open("/workspace/exports/secret").read()),
    "climb": attempt(lambda: open("/workspace/exports/climb").read()),
}))
`,
    });
    const seen = printedJson<Record<string, string>>(result);
    // The container's own /etc/shadow (root-only in the image), the host's /tmp unseen.
    expect(seen.shadow).toMatch(/^PermissionError 13$/);
    expect(seen.secret).toMatch(/^FileNotFoundError 2$/);
    expect(seen.climb).toMatch(/^FileNotFoundError 2$/);
    expect(JSON.stringify(seen)).not.toContain('HOST SECRET');
    // On the host the links are there, as plain symlinks the bridge never follows
    // (README, "Files in": what a link the sandbox wrote means for a host user).
    expect(lstatSync(path.join(folders.exports, 'shadow')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(folders.exports, 'shadow'))).toBe('/etc/shadow');
    await expectSessionKept(bridge, 'kept');
  });

  it('cannot hard-link a file from outside the folder, nor one it may not read', async () => {
    const result = await bridge.run({
      code: String.raw`
import json, os
def attempt(src, dst):
    try:
        os.link(src, dst)
        return "linked"
    except OSError as error:
        return type(error).__name__ + " " + str(error.errno)
print("JSON " + json.dumps({
    "passwd": attempt("/etc/passwd", "/workspace/exports/passwd"),
    "ro_folder": attempt("/workspace/data/prices.csv", "/workspace/exports/prices.csv"),
    "root_only": attempt("/workspace/exports/root-only.txt", "/workspace/exports/mine.txt"),
}))
`,
    });
    const seen = printedJson<Record<string, string>>(result);
    expect(seen.passwd).toBe('OSError 18'); // EXDEV: another mount
    expect(seen.ro_folder).toBe('OSError 18');
    // protected_hardlinks (runc) / gVisor's own check: not the owner, cannot read it.
    expect(seen.root_only).toBe('PermissionError 1');
    expect(readFileSync(path.join(folders.exports, 'root-only.txt'), 'utf8')).toBe('ROOT ONLY\n');
    await expectSessionKept(bridge, 'kept');
  });

  it('cannot make device nodes in the folder', async () => {
    const result = await bridge.run({
      code: String.raw`
import json, os, stat
def attempt(kind, device):
    try:
        os.mknod("/workspace/exports/" + kind, kind_mode[kind] | 0o666, device)
        return "made"
    except OSError as error:
        return type(error).__name__ + " " + str(error.errno)
kind_mode = {"null": stat.S_IFCHR, "disk": stat.S_IFBLK}
print("JSON " + json.dumps({
    "null": attempt("null", os.makedev(1, 3)),
    "disk": attempt("disk", os.makedev(254, 0)),
}))
`,
    });
    const seen = printedJson<Record<string, string>>(result);
    expect(seen).toEqual({ null: 'PermissionError 1', disk: 'PermissionError 1' });
    await expectSessionKept(bridge, 'kept');
  });

  it('gains nothing from a set-uid-root program in a folder', async () => {
    const result = await bridge.run({
      code: String.raw`
import json, os, subprocess
try:
    run = subprocess.run(["/workspace/data/suid-id", "-u"], capture_output=True, text=True, timeout=30)
    outcome = "ran as " + run.stdout.strip() + run.stderr.strip()
except OSError as error:
    outcome = type(error).__name__ + " " + str(error.errno)
# Its own file, made set-uid: the bit sticks (the file is its own) but runs as itself.
open("/workspace/exports/mine.sh", "w").write("#!/bin/sh\nid -u\n")
os.chmod("/workspace/exports/mine.sh", 0o4755)
print("JSON " + json.dumps({"root_suid": outcome, "euid": os.geteuid()}))
`,
    });
    const seen = printedJson<{ root_suid: string; euid: number }>(result);
    if (engine.name === 'podman' || gvisor) {
      // noexec on the folder: not even run.
      expect(seen.root_suid).toBe('PermissionError 13');
    } else {
      // Docker takes no noexec for binds: it runs, and no-new-privileges keeps uid 65534.
      expect(seen.root_suid).toBe('ran as 65534');
    }
    expect(seen.euid).toBe(65534);
    // On the host: owned by the sandbox's uid, so its set-uid bit grants only that uid.
    const mine = statSync(path.join(folders.exports, 'mine.sh'));
    expect(mine.uid).toBe(65534);
    await expectSessionKept(bridge, 'kept');
  });
});
