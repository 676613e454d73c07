import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/bridge-client.js';

/**
 * The sandbox's side of the package store (sandbox/mcp/packages.py), run with the host's
 * Python against a temporary folder standing in for /packages/<tag>.
 */

const SCRIPT = String.raw`
import importlib.util, json, os, sys
site = sys.argv[1]
import mcp.packages as packages
packages.SITE = site
packages.activate()
packages.activate()  # idempotent
report = {"entries": sys.path.count(site)}
index = sys.path.index(site)
report["afterStdlib"] = all(not p.endswith(("site-packages", "dist-packages")) for p in sys.path[:index])
report["beforeSitePackages"] = any(p.endswith(("site-packages", "dist-packages")) for p in sys.path[index:])
report["before"] = importlib.util.find_spec("tinyx") is not None  # the folder does not exist yet
# The host installs between two cells: the folder and the package appear, no refresh().
os.makedirs(os.path.join(site, "tinyx"))
with open(os.path.join(site, "tinyx", "__init__.py"), "w") as f:
    f.write("VALUE = 5\n")
os.makedirs(os.path.join(site, "tinyx-1.2.dist-info"))
with open(os.path.join(site, "tinyx-1.2.dist-info", "METADATA"), "w") as f:
    f.write("Metadata-Version: 2.1\nName: TinyX\nVersion: 1.2\n")
os.makedirs(os.path.join(site, "a_pkg-0.1.dist-info"))
with open(os.path.join(site, "a_pkg-0.1.dist-info", "METADATA"), "w") as f:
    f.write("Metadata-Version: 2.1\nName: a_pkg\nVersion: 0.1\n")
import tinyx
report["value"] = tinyx.VALUE
report["packages"] = packages.list_packages()
packages.SITE = os.path.join(site, "missing")
report["empty"] = packages.list_packages()
print(json.dumps(report))
`;

describe('mcp.packages in the sandbox', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'mcp-pkg-site-'));
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('puts the store on sys.path between the stdlib and site-packages, sees installs at once, lists them', () => {
    const output = execFileSync('python3', ['-c', SCRIPT, path.join(folder, 'cpython-3xx')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PYTHONPATH: path.join(REPO_ROOT, 'sandbox') },
    });
    expect(JSON.parse(output)).toEqual({
      entries: 1,
      afterStdlib: true,
      beforeSitePackages: true,
      before: false,
      value: 5,
      packages: [
        { name: 'a_pkg', version: '0.1' },
        { name: 'TinyX', version: '1.2' },
      ],
      empty: [],
    });
  });

  it('finds missing imports in a fresh interpreter, not with the session’s own import machinery', () => {
    const work = path.join(folder, 'session');
    const script = String.raw`
import importlib.util, json, os, sys
work = sys.argv[1]
os.makedirs(os.path.join(work, "extra", "extramod"))
os.chdir(work)
open("localmod.py", "w").close()
open(os.path.join("extra", "extramod", "__init__.py"), "w").close()
sys.path.append(os.path.join(work, "extra"))
from mcp.imports import missing_imports
class Liar:  # a finder the session installed: it claims that every module exists
    @staticmethod
    def find_spec(name, path=None, target=None):
        return importlib.util.spec_from_loader(name, loader=None)
sys.meta_path.insert(0, Liar)
importlib.util.find_spec = lambda name, package=None: object()
code = "import localmod, extramod, definitely_missing_pkg, tkinter, json\nfrom os import path\nimport sys as s2\nfrom . import rel\nimport nope.sub\nimport Liar_module"
print(json.dumps(missing_imports(code)))
print(json.dumps(missing_imports("import (")))
`;
    const output = execFileSync('python3', ['-c', script, work], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PYTHONPATH: path.join(REPO_ROOT, 'sandbox') },
    });
    // Local modules and the session's extra folders are found; the standard library
    // (tkinter, even where it is not installed) and relative imports are never reported.
    expect(
      output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual([['Liar_module', 'definitely_missing_pkg', 'nope'], []]);
  });
});
