import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  installerDriverSource,
  type DriverArguments,
} from '../../src/packages/installer-driver.js';
import { parseDriverResult, type DriverResult } from '../../src/packages/installer-run.js';
import { writeWheels, type WheelContent, type WheelSpec } from '../support/package-fixtures.js';

/**
 * The installer's Python driver (sandbox/mcp_installer/, with sandbox/mcp_shared/, as the
 * one program the installer runs) run on the host with the host's pip against a
 * temporary store and a folder of wheels built here: what it installs, replaces, refuses
 * and rolls back. The container around it is tested in
 * test/e2e/packages.test.ts.
 */

/** The driver as the installer runs it (its files joined into one program), in a file. */
let DRIVER: string;

const TAG = execFileSync('python3', ['-c', 'import sys; print(sys.implementation.cache_tag)'], {
  encoding: 'utf8',
}).trim();

let folder: string;
let wheels: string;
let root: string;
let site: string;

/** Wheels to build, all at once in beforeAll (one Python process). */
const specs: WheelSpec[] = [];

function wheel(
  name: string,
  version: string,
  files: Record<string, WheelContent>,
  requires: string[] = [],
): void {
  specs.push({ name, version, files, requires });
}

/** Runs the driver (asynchronously: pip is slow, and a blocked worker misses its RPCs). */
async function install(
  name: string,
  requirement = name,
  extra: Partial<DriverArguments> = {},
): Promise<DriverResult & { output: string }> {
  const args: DriverArguments & { root: string } = {
    name,
    requirement,
    pipOptions: [
      '--no-input',
      '--disable-pip-version-check',
      '--no-cache-dir',
      '--only-binary=:all:',
    ],
    sourceOptions: ['--no-index', '--find-links', wheels],
    maxBytes: 10 * 1024 * 1024,
    deny: [],
    root,
    ...extra,
  };
  const run = await new Promise<{ stdout: string; stderr: string; status: number | null }>(
    (resolve) => {
      const child = spawn('python3', ['-I', DRIVER, JSON.stringify(args)], {
        env: { PATH: process.env.PATH, HOME: folder },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ stdout, stderr, status }));
    },
  );
  const output = `${run.stdout}\n${run.stderr}`;
  const result = parseDriverResult(run.stdout);
  if (!result) throw new Error(`no result from the driver:\n${output}`);
  expect(run.status).toBe(result.ok ? 0 : 1);
  return { ...result, output };
}

/** check_wheel (in the driver) on the named wheels: the refusal, or null when accepted. */
function checkWheels(names: string[]): Record<string, string | null> {
  const script = [
    'import json, runpy, sys',
    // Run as a module, not as the program, the driver only makes its modules importable.
    'runpy.run_path(sys.argv[1], run_name="driver")',
    'from mcp_installer.failures import InstallFailed',
    'from mcp_installer.wheel_checks import check_wheel',
    'reasons = {}',
    'for name, path in json.loads(sys.argv[2]).items():',
    '    try:',
    '        check_wheel(path, 1024 * 1024 * 1024)',
    '        reasons[name] = None',
    '    except InstallFailed as error:',
    '        reasons[name] = str(error)',
    'print(json.dumps(reasons))',
  ].join('\n');
  const paths = Object.fromEntries(
    names.map((name) => [name, path.join(wheels, `${name}-1.0-py3-none-any.whl`)]),
  );
  paths.tinypkg &&= path.join(wheels, 'tinypkg-0.1.0-py3-none-any.whl');
  return JSON.parse(
    execFileSync('python3', ['-I', '-c', script, DRIVER, JSON.stringify(paths)], {
      encoding: 'utf8',
    }),
  ) as Record<string, string | null>;
}

function storeEntries(): string[] {
  return existsSync(site) ? readdirSync(site).sort() : [];
}

beforeAll(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'mcp-pkg-driver-'));
  DRIVER = path.join(folder, 'driver.py');
  writeFileSync(DRIVER, installerDriverSource());
  wheels = path.join(folder, 'wheels');
  mkdirSync(wheels);
  wheel('tinypkg', '0.1.0', { 'tinypkg/__init__.py': 'VALUE = 1\n', 'tinypkg/old.py': '' });
  wheel('tinypkg', '0.2.0', { 'tinypkg/__init__.py': 'VALUE = 2\n' });
  wheel('tinydep', '1.0', { 'tinydep.py': 'DEP = True\n' });
  wheel('needsdep', '1.0', { 'needsdep/__init__.py': '' }, ['tinydep>=1']);
  // pip is in every interpreter that can run the driver: a dependency already there.
  wheel('usespip', '1.0', { 'usespip.py': '' }, ['pip']);
  // Incompressible, so the wheel's size is the installed size.
  wheel('bigpkg', '1.0', { 'bigpkg/data.txt': { random: 300_000 } });
  wheel('halfpkg', '1.0', { 'halfpkg/data.txt': { random: 60_000 } });
  wheel('otherhalf', '1.0', { 'otherhalf/data.txt': { random: 60_000 } });
  // Hostile wheels, each refused before it is unpacked (check_wheel).
  wheel('sitepkg', '1.0', { 'sitepkg/__init__.py': '', 'sitecustomize.py': 'MARK = 1\n' });
  wheel('sitecompiled', '1.0', { 'sitecustomize.cpython-311-x86_64-linux-gnu.so': 'ELF' });
  wheel('userpkg', '1.0', { 'usercustomize/__init__.py': '' });
  wheel('pthpkg', '1.0', { 'pthpkg/__init__.py': '', 'pthpkg-hook.pth': 'import os\n' });
  wheel('deeppth', '1.0', { 'deeppth/__init__.py': '', 'deeppth/inner/x.PTH': '' });
  wheel('stdlibpkg', '1.0', { 'json/__init__.py': '' });
  wheel('stdlibmod', '1.0', { 'stdlibmod/__init__.py': '', 'email.py': '' });
  wheel('datapkg', '1.0', { 'datapkg-1.0.data/purelib/os.py': '' });
  wheel('datadata', '1.0', { 'datadata-1.0.data/data/sitecustomize.py': '' });
  wheel('linkpkg', '1.0', {
    'linkpkg/__init__.py': '',
    'linkpkg/passwd': { symlink: '/etc/passwd' },
  });
  wheel('dotdot', '1.0', { 'dotdot/__init__.py': '', 'dotdot/../../escape.py': '' });
  wheel('absolute', '1.0', { 'absolute/__init__.py': '', '/tmp/absolute.py': '' });
  wheel('backslash', '1.0', { 'backslash/__init__.py': '', 'backslash\\..\\x.py': '' });
  wheel('bombpkg', '1.0', {
    'bombpkg/__init__.py': '',
    'bombpkg/zeros.bin': { zeros: 24 * 1024 * 1024 },
  });
  writeWheels(wheels, specs);
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
  it('installs into <store>/<interpreter tag> and cleans up after itself', async () => {
    const result = await install('tinypkg', 'tinypkg==0.1.0');
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

  it('installs nothing when the store already satisfies the request', async () => {
    await install('tinypkg', 'tinypkg==0.1.0');
    const again = await install('tinypkg');
    expect(again).toMatchObject({
      ok: true,
      alreadySatisfied: true,
      installed: [],
      requested: { name: 'tinypkg', version: '0.1.0' },
      addedBytes: 0,
    });
  });

  it('replaces an older version, removing its files by its RECORD', async () => {
    await install('tinypkg', 'tinypkg==0.1.0');
    const upgrade = await install('tinypkg', 'tinypkg>=0.2');
    expect(upgrade, upgrade.output).toMatchObject({
      ok: true,
      installed: [{ name: 'tinypkg', version: '0.2.0' }],
    });
    expect(storeEntries()).toEqual(['tinypkg', 'tinypkg-0.2.0.dist-info']);
    expect(readdirSync(path.join(site, 'tinypkg')).sort()).toEqual(['__init__.py', '__pycache__']);
  });

  it('installs missing dependencies, and only those', async () => {
    const result = await install('needsdep');
    expect(result.installed).toEqual([
      { name: 'needsdep', version: '1.0' },
      { name: 'tinydep', version: '1.0' },
    ]);
    const satisfied = await install('usespip');
    expect(satisfied.installed).toEqual([{ name: 'usespip', version: '1.0' }]);
    expect(storeEntries().some((entry) => entry.startsWith('pip'))).toBe(false);
  });

  it('refuses a dependency on the deny list before installing anything', async () => {
    const result = await install('needsdep', 'needsdep', { deny: ['TinyDep'] });
    expect(result).toMatchObject({ ok: false });
    expect(result.error).toMatch(/needs tinydep, which is on the deny list/);
    expect(storeEntries()).toEqual([]);
  });

  it('rolls back an install that would make the store exceed the size limit', async () => {
    await install('halfpkg', 'halfpkg', { maxBytes: 100_000 });
    const result = await install('otherhalf', 'otherhalf', { maxBytes: 100_000 });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(
      /^installing otherhalf \(0\.1 MB\) would make the package store 0\.1 MB, over its limit of 0\.1 MB \(MCP_BRIDGE_PACKAGES_MAX_MB\); nothing was installed$/,
    );
    expect(storeEntries()).toEqual(['halfpkg', 'halfpkg-1.0.dist-info']);
    expect(readdirSync(root).sort()).toEqual(['.lock', TAG]);
  });

  it('refuses a wheel that declares more than the store may hold, before unpacking it', async () => {
    const result = await install('bigpkg', 'bigpkg', { maxBytes: 100_000 });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(
      /^the wheel bigpkg-1\.0-py3-none-any\.whl was refused before unpacking: its files declare 0\.3 MB uncompressed, more than the package store may hold \(0\.1 MB, MCP_BRIDGE_PACKAGES_MAX_MB\)$/,
    );
    expect(storeEntries()).toEqual([]);
  });

  it('checks every hostile wheel before anything is unpacked (check_wheel)', () => {
    const expected: [string, RegExp][] = [
      ['sitepkg', /installs sitecustomize \(sitecustomize\.py\), a module Python runs at startup/],
      ['sitecompiled', /installs sitecustomize .*runs at startup/],
      [
        'userpkg',
        /installs usercustomize \(usercustomize\/__init__\.py\), a module Python runs at startup/,
      ],
      ['pthpkg', /contains a \.pth file \(pthpkg-hook\.pth\)/],
      ['deeppth', /contains a \.pth file \(deeppth\/inner\/x\.PTH\)/],
      ['stdlibpkg', /installs json \(json\/__init__\.py\), a name of the standard library/],
      ['stdlibmod', /installs email \(email\.py\), a name of the standard library/],
      [
        'datapkg',
        /installs os \(datapkg-1\.0\.data\/purelib\/os\.py\), a name of the standard library/,
      ],
      ['datadata', /installs sitecustomize .*runs at startup/],
      ['linkpkg', /contains a symlink \(linkpkg\/passwd\)/],
      ['dotdot', /has a path outside its folder/],
      ['absolute', /has a path outside its folder/],
      ['backslash', /has a path outside its folder/],
      ['bombpkg', /bombpkg\/zeros\.bin expands \d+:1 to 24\.0 MB uncompressed, like a zip bomb/],
    ];
    const reasons = checkWheels(expected.map(([name]) => name));
    for (const [name, why] of expected) {
      expect(reasons[name], name).toMatch(
        new RegExp(`^the wheel ${name}-1\\.0-py3-none-any\\.whl was refused before unpacking: `),
      );
      expect(reasons[name], name).toMatch(why);
    }
    expect(checkWheels(['tinypkg', 'needsdep', 'halfpkg'])).toEqual({
      tinypkg: null,
      needsdep: null,
      halfpkg: null,
    });
  });

  it('refuses a hostile wheel in a whole install, leaving the store as it was', async () => {
    await install('tinypkg', 'tinypkg==0.1.0');
    const result = await install('sitepkg');
    expect(result.ok, result.output).toBe(false);
    expect(result.error).toMatch(
      /^the wheel sitepkg-1\.0-py3-none-any\.whl was refused before unpacking: it installs sitecustomize/,
    );
    expect(storeEntries()).toEqual(['tinypkg', 'tinypkg-0.1.0.dist-info']);
    expect(readdirSync(root).sort()).toEqual(['.lock', TAG]);
  });

  it('never imports from the store: a planted sitecustomize, .pth or json.py does not run', async () => {
    await install('tinypkg', 'tinypkg==0.1.0');
    const mark = (what: string) =>
      `open(${JSON.stringify(path.join(root, `MARK-${what}`))}, "w").write("ran")\n`;
    writeFileSync(path.join(site, 'sitecustomize.py'), mark('sitecustomize'));
    writeFileSync(path.join(site, 'zzz.pth'), `import os; ${mark('pth')}`);
    writeFileSync(path.join(site, 'json.py'), `${mark('json')}raise ImportError("shadowed")\n`);
    const result = await install('needsdep');
    expect(result, result.output).toMatchObject({ ok: true });
    expect(readdirSync(root).filter((name) => name.startsWith('MARK-'))).toEqual([]);
    // pip still saw what the store has: tinypkg is not installed again.
    expect((await install('tinypkg')).alreadySatisfied).toBe(true);
  });

  it("reports pip's failure", async () => {
    const result = await install('nosuchpkg');
    expect(result).toMatchObject({
      ok: false,
      error: 'pip could not resolve nosuchpkg (exit code 1)',
    });
    expect(result.output).toMatch(/No matching distribution found for nosuchpkg/);
  });

  it('clears what a killed install left behind', async () => {
    mkdirSync(path.join(root, '.work', 'killed', 'target'), { recursive: true });
    writeFileSync(path.join(root, '.work', 'killed', 'target', 'junk.py'), '');
    expect((await install('tinydep')).ok).toBe(true);
    expect(existsSync(path.join(root, '.work'))).toBe(false);
  });
});
