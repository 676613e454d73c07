import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  parseDriverResult,
  type DriverArguments,
  type DriverResult,
} from '../../src/packages/installer.js';
import { REPO_ROOT } from '../support/bridge-client.js';

/**
 * The installer's Python driver (sandbox/mcp/packages_installer.py) run on the host with
 * the host's pip against a temporary store and a folder of wheels built here: what it
 * installs, replaces, refuses and rolls back. The container around it is tested in
 * test/e2e/packages.test.ts.
 */

const DRIVER = path.join(REPO_ROOT, 'sandbox', 'mcp', 'packages_installer.py');

const WHEEL_WRITER = String.raw`
import base64, hashlib, json, os, sys, zipfile
folder, name, version, files, requires = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5])
info = f"{name}-{version}.dist-info"
metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
def data_of(text):  # "@random:N": N incompressible bytes, too big for a command line
    return os.urandom(int(text[8:])) if text.startswith("@random:") else text.encode()
content = {path: data_of(data) for path, data in files.items()}
content[f"{info}/METADATA"] = metadata.encode()
content[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
def digest(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
record = [f"{path},sha256={digest(data)},{len(data)}" for path, data in content.items()]
content[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
with zipfile.ZipFile(f"{folder}/{name}-{version}-py3-none-any.whl", "w") as wheel:
    for path, data in content.items():
        wheel.writestr(path, data)
`;

const TAG = execFileSync('python3', ['-c', 'import sys; print(sys.implementation.cache_tag)'], {
  encoding: 'utf8',
}).trim();

let folder: string;
let wheels: string;
let root: string;
let site: string;

function wheel(
  name: string,
  version: string,
  files: Record<string, string>,
  requires: string[] = [],
): void {
  execFileSync('python3', [
    '-c',
    WHEEL_WRITER,
    wheels,
    name,
    version,
    JSON.stringify(files),
    JSON.stringify(requires),
  ]);
}

function install(
  name: string,
  requirement = name,
  extra: Partial<DriverArguments> = {},
): DriverResult & { output: string } {
  const args: DriverArguments & { root: string } = {
    name,
    requirement,
    pipOptions: [
      '--no-input',
      '--disable-pip-version-check',
      '--no-cache-dir',
      '--only-binary=:all:',
      '--no-index',
      '--find-links',
      wheels,
    ],
    maxBytes: 10 * 1024 * 1024,
    deny: [],
    root,
    ...extra,
  };
  const run = spawnSync('python3', [DRIVER, JSON.stringify(args)], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: folder },
  });
  const output = `${run.stdout}\n${run.stderr}`;
  const result = parseDriverResult(run.stdout);
  if (!result) throw new Error(`no result from the driver:\n${output}`);
  expect(run.status).toBe(result.ok ? 0 : 1);
  return { ...result, output };
}

function storeEntries(): string[] {
  return existsSync(site) ? readdirSync(site).sort() : [];
}

beforeAll(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'mcp-pkg-driver-'));
  wheels = path.join(folder, 'wheels');
  mkdirSync(wheels);
  wheel('tinypkg', '0.1.0', { 'tinypkg/__init__.py': 'VALUE = 1\n', 'tinypkg/old.py': '' });
  wheel('tinypkg', '0.2.0', { 'tinypkg/__init__.py': 'VALUE = 2\n' });
  wheel('tinydep', '1.0', { 'tinydep.py': 'DEP = True\n' });
  wheel('needsdep', '1.0', { 'needsdep/__init__.py': '' }, ['tinydep>=1']);
  // pip is in every interpreter that can run the driver: a dependency already there.
  wheel('usespip', '1.0', { 'usespip.py': '' }, ['pip']);
  // Incompressible, so the wheel's size is the installed size.
  wheel('bigpkg', '1.0', { 'bigpkg/data.txt': '@random:300000' });
});
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});
beforeEach(() => {
  root = path.join(folder, `store-${Math.random().toString(16).slice(2)}`);
  mkdirSync(root);
  site = path.join(root, TAG);
});

describe('the installer driver', () => {
  it('installs into <store>/<interpreter tag> and cleans up after itself', () => {
    const result = install('tinypkg', 'tinypkg==0.1.0');
    expect(result, result.output).toMatchObject({
      ok: true,
      alreadySatisfied: false,
      installed: [{ name: 'tinypkg', version: '0.1.0' }],
      requested: { name: 'tinypkg', version: '0.1.0' },
    });
    expect(storeEntries()).toEqual(['tinypkg', 'tinypkg-0.1.0.dist-info']);
    expect(readdirSync(path.join(site, 'tinypkg')).sort()).toEqual([
      '__init__.py',
      '__pycache__',
      'old.py',
    ]);
    expect(result.storeBytes).toBeGreaterThan(0);
    expect(readdirSync(root).sort()).toEqual(['.lock', TAG]);
  });

  it('installs nothing when the store already satisfies the request', () => {
    install('tinypkg', 'tinypkg==0.1.0');
    const again = install('tinypkg');
    expect(again).toMatchObject({
      ok: true,
      alreadySatisfied: true,
      installed: [],
      requested: { name: 'tinypkg', version: '0.1.0' },
      addedBytes: 0,
    });
  });

  it('replaces an older version, removing its files by its RECORD', () => {
    install('tinypkg', 'tinypkg==0.1.0');
    const upgrade = install('tinypkg', 'tinypkg>=0.2');
    expect(upgrade, upgrade.output).toMatchObject({
      ok: true,
      installed: [{ name: 'tinypkg', version: '0.2.0' }],
    });
    expect(storeEntries()).toEqual(['tinypkg', 'tinypkg-0.2.0.dist-info']);
    expect(readdirSync(path.join(site, 'tinypkg')).sort()).toEqual(['__init__.py', '__pycache__']);
  });

  it('installs missing dependencies, and only those', () => {
    const result = install('needsdep');
    expect(result.installed).toEqual([
      { name: 'needsdep', version: '1.0' },
      { name: 'tinydep', version: '1.0' },
    ]);
    const satisfied = install('usespip');
    expect(satisfied.installed).toEqual([{ name: 'usespip', version: '1.0' }]);
    expect(storeEntries().some((entry) => entry.startsWith('pip'))).toBe(false);
  });

  it('refuses a dependency on the deny list before installing anything', () => {
    const result = install('needsdep', 'needsdep', { deny: ['TinyDep'] });
    expect(result).toMatchObject({ ok: false });
    expect(result.error).toMatch(/needs tinydep, which is on the deny list/);
    expect(storeEntries()).toEqual([]);
  });

  it('rolls back an install that would exceed the size limit', () => {
    install('tinypkg', 'tinypkg==0.1.0');
    const result = install('bigpkg', 'bigpkg', { maxBytes: 100_000 });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(
      /^installing bigpkg \(0\.3 MB\) would make the package store 0\.3 MB, over its limit of 0\.1 MB \(MCP_BRIDGE_PACKAGES_MAX_MB\); nothing was installed$/,
    );
    expect(storeEntries()).toEqual(['tinypkg', 'tinypkg-0.1.0.dist-info']);
    expect(readdirSync(root).sort()).toEqual(['.lock', TAG]);
  });

  it("reports pip's failure", () => {
    const result = install('nosuchpkg');
    expect(result).toMatchObject({
      ok: false,
      error: 'pip could not resolve nosuchpkg (exit code 1)',
    });
    expect(result.output).toMatch(/No matching distribution found for nosuchpkg/);
  });

  it('clears what a killed install left behind', () => {
    mkdirSync(path.join(root, '.work', 'killed', 'target'), { recursive: true });
    writeFileSync(path.join(root, '.work', 'killed', 'target', 'junk.py'), '');
    expect(install('tinydep').ok).toBe(true);
    expect(existsSync(path.join(root, '.work'))).toBe(false);
  });
});
