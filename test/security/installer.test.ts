import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PackagesConfig } from '../../src/config/executor-env.js';
import { dockerClient } from '../../src/container/docker-client.js';
import { hardeningDefaults } from '../../src/container/hardening.js';
import { writeSeccompProfileFile } from '../../src/container/seccomp-file.js';
import { PackageManager } from '../../src/packages/package-manager.js';
import { ensurePackageVolume } from '../../src/packages/package-store.js';
import {
  describeResult,
  payloadOf,
  printedJson,
  startBridge,
  statusOf,
  type BridgeHandle,
} from '../support/bridge-client.js';
import { describeEachEngine, testImage } from '../support/engines.js';
import {
  buildWheel,
  engineProxy,
  loopbackIndex,
  otherHostService,
  removePackageVolume,
  writeWheels,
  type EngineProxy,
  type WheelSpec,
} from '../support/package-fixtures.js';

/**
 * Attacks on the package installer (docs/packages.md), on both engines: hostile wheels,
 * code planted in the store, an index page that points pip at other services on the host,
 * code running inside the installer, data smuggled in requirement strings, and a session
 * that rewrote its own import scanner. Each asserts containment and that the next
 * install still works.
 */

interface InstallAnswer {
  package: string;
  success: boolean;
  message: string;
  version?: string;
}

const MiB = 1024 * 1024;

/** Runs in the sandbox: tries each request, and says what happened. */
const TRY_INSTALLS = [
  'import json',
  'def attempt(name):',
  '    try:',
  '        return runtime.install_package(name)',
  '    except runtime.MCPError as error:',
  '        return {"refused": str(error)}',
].join('\n');

/** Creates a file in the store the way an earlier, unchecked install could have. */
const PLANT_IN_STORE = String.raw`
import os, sys
site = "/packages/" + sys.implementation.cache_tag
os.makedirs(site, exist_ok=True)
def mark(name):
    return 'open("/packages/MARK-%s", "w").write("ran")\n' % name
with open(site + "/sitecustomize.py", "w") as f:
    f.write(mark("sitecustomize"))
with open(site + "/zzz_planted.pth", "w") as f:
    f.write("import os; " + mark("pth"))
# json.py: marks, then becomes the real json so that whatever imported it still works.
with open(site + "/json.py", "w") as f:
    f.write(mark("json") + '''
import importlib.util as _u, os as _os, sys as _sys
_d = _os.path.join(_os.path.dirname(_os.__file__), "json")
_s = _u.spec_from_file_location("json", _os.path.join(_d, "__init__.py"), submodule_search_locations=[_d])
_m = _u.module_from_spec(_s)
_sys.modules["json"] = _m
_s.loader.exec_module(_m)
''')
os.chmod(site, 0o755)
`;

/** Runs one short-lived helper container with the store mounted read-write. */
async function plantInStore(docker: Dockerode, volume: string): Promise<void> {
  const container = await docker.createContainer({
    Image: testImage(),
    User: '0:0',
    Cmd: ['python3', '-c', PLANT_IN_STORE],
    HostConfig: {
      NetworkMode: 'none',
      Mounts: [{ Type: 'volume', Source: volume, Target: '/packages', ReadOnly: false }],
    },
  });
  try {
    await container.start();
    const status = (await container.wait()) as { StatusCode?: number };
    expect(status.StatusCode).toBe(0);
  } finally {
    await container.remove({ force: true });
  }
}

/**
 * Stands for code that runs inside the installer (an sdist's build, a compromised pip):
 * it tries the other service on the host and the cloud metadata address directly, then
 * through the relay with tricks, then the index through the relay. It reports what it
 * reached as its "error".
 */
const HOSTILE_DRIVER = String.raw`
import json, socket, sys
args = json.loads(sys.argv[1])
other = int(OTHER_PORT)
options = args.get("sourceOptions", []) + args.get("pipOptions", [])
index = options[options.index("--index-url") + 1]
found = {}
def tcp(host, port):
    try:
        socket.create_connection((host, port), timeout=3).close()
        return "connected"
    except OSError as error:
        return type(error).__name__
found["direct other service"] = tcp("127.0.0.1", other)
found["direct metadata"] = tcp("169.254.169.254", 80)
relay = args.get("relaySocket")
def ask(request):
    if not relay:
        return "no relay"
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(relay)
    s.sendall(request.encode())
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.split(b"\r\n", 1)[0].decode()
found["relay CONNECT other service"] = ask("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % other)
found["relay CONNECT localhost"] = ask("CONNECT localhost:%d HTTP/1.1\r\nHost: x\r\n\r\n" % other)
found["relay GET other service"] = ask("GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: x\r\n\r\n" % other)
found["relay GET userinfo trick"] = ask("GET http://127.0.0.1:%d@169.254.169.254/ HTTP/1.1\r\nHost: x\r\n\r\n" % other)
found["relay CONNECT metadata"] = ask("CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: x\r\n\r\n")
found["relay GET mapped metadata"] = ask("GET http://[::ffff:169.254.169.254]/ HTTP/1.1\r\nHost: x\r\n\r\n")
found["relay GET origin-form"] = ask("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % other)
found["relay GET index"] = ask("GET %stinyidx/ HTTP/1.1\r\nHost: x\r\n\r\n" % index)
print("\n__mcp_bridge_install__ " + json.dumps({"ok": False, "error": json.dumps(found)}))
`;

describeEachEngine('package installer containment', (engine) => {
  const volume = `mcp-bridge-packages-sec-${randomBytes(4).toString('hex')}`;
  const volumes = [volume];
  let docker: Dockerode;
  let wheels: string;
  let proxy: EngineProxy;
  const bridges: BridgeHandle[] = [];

  const start = async (env: Record<string, string>, store = volume): Promise<BridgeHandle> => {
    if (!volumes.includes(store)) volumes.push(store);
    const started = await startBridge({
      dockerHost: proxy.dockerHost,
      env: { MCP_BRIDGE_PACKAGES_VOLUME: store, ...env },
    });
    bridges.push(started);
    return started;
  };

  beforeAll(async () => {
    docker = dockerClient(engine.dockerHost);
    wheels = mkdtempSync(path.join(os.tmpdir(), 'mcp-pkg-sec-wheels-'));
    buildWheel('tinypkg', '0.1.0', 42, wheels);
    proxy = await engineProxy(engine.dockerHost);
  });
  afterAll(async () => {
    // The sandboxes hold the volumes: close their bridges first.
    for (const started of bridges) await started.close();
    await proxy?.close();
    if (docker) for (const name of volumes) await removePackageVolume(docker, name);
    if (wheels) rmSync(wheels, { recursive: true, force: true });
  });

  it('refuses wheels with startup hooks, standard-library names, links, escapes or bombs before unpacking', async () => {
    const hostile: Record<string, WheelSpec['files']> = {
      sitepkg: { 'sitepkg/__init__.py': '', 'sitecustomize.py': 'print("hooked")\n' },
      userpkg: { 'usercustomize/__init__.py': 'print("hooked")\n' },
      pthpkg: { 'pthpkg/__init__.py': '', 'zzz_pthpkg.pth': 'import os\n' },
      stdlibpkg: { 'json/__init__.py': 'print("shadowed")\n' },
      datapkg: { 'datapkg-1.0.data/purelib/email/__init__.py': 'print("shadowed")\n' },
      linkpkg: { 'linkpkg/__init__.py': '', 'linkpkg/passwd': { symlink: '/etc/passwd' } },
      escapepkg: { 'escapepkg/__init__.py': '', '../escapepkg.py': 'print("escaped")\n' },
      bombpkg: { 'bombpkg/__init__.py': '', 'bombpkg/zeros.bin': { zeros: 48 * MiB } },
    };
    writeWheels(
      wheels,
      Object.entries(hostile).map(([name, files]) => ({ name, version: '1.0', files })),
    );
    const checked = await start({
      MCP_BRIDGE_PACKAGES_FIND_LINKS: wheels,
      MCP_BRIDGE_PACKAGES_ALLOW: ['tinypkg', ...Object.keys(hostile)].join(','),
      MCP_BRIDGE_PACKAGES_MAX_MB: '16',
      MCP_BRIDGE_PACKAGES_AUTO: '0',
    });
    const result = await checked.run(
      {
        code: [
          TRY_INSTALLS,
          'import os, sys',
          `names = ${JSON.stringify(Object.keys(hostile))}`,
          'answers = {name: attempt(name) for name in names}',
          'good = attempt("tinypkg")',
          'try:',
          '    import tinypkg',
          '    value = tinypkg.VALUE',
          'except ImportError as error:',
          '    value = repr(error)',
          'site = "/packages/" + sys.implementation.cache_tag',
          'print("JSON " + json.dumps({"answers": answers, "good": good, "value": value,',
          '    "store": sorted(os.listdir(site)),',
          '    "packages": [p["name"] for p in runtime.list_packages()]}))',
        ].join('\n'),
        timeout: 120,
      },
      240_000,
    );
    expect(statusOf(result), describeResult(result)).toBe('success');
    const seen = printedJson<{
      answers: Record<string, InstallAnswer>;
      good: InstallAnswer;
      value: number;
      store: string[];
      packages: string[];
    }>(result);
    const expected: Record<string, RegExp> = {
      sitepkg: /sitecustomize.*runs at startup/,
      userpkg: /usercustomize.*runs at startup/,
      pthpkg: /\.pth file/,
      stdlibpkg: /json .*standard library/,
      datapkg: /email .*standard library/,
      linkpkg: /symlink/,
      escapepkg: /outside/,
      bombpkg: /48\.0 MB uncompressed/,
    };
    const summary = JSON.stringify(seen, null, 1);
    for (const [name, pattern] of Object.entries(expected)) {
      const answer = seen.answers[name];
      expect(answer?.success, `${name}: ${summary}`).toBe(false);
      expect(answer?.message, name).toMatch(/refused before unpacking/);
      expect(answer?.message, name).toMatch(pattern);
    }
    // Nothing of them reached the store; the next install works.
    expect(seen.good).toMatchObject({ success: true, version: '0.1.0' });
    expect(seen.value).toBe(42);
    expect(seen.packages).toEqual(['tinypkg']);
    expect(seen.store).toEqual(['tinypkg', 'tinypkg-0.1.0.dist-info']);
  }, 240_000);

  it('never runs code from the store inside the installer (sitecustomize, .pth, a module named json)', async () => {
    const planted = `${volume}-planted`;
    volumes.push(planted);
    await ensurePackageVolume(docker, planted, engine.name);
    await plantInStore(docker, planted);
    const bridge = await start(
      {
        MCP_BRIDGE_PACKAGES_FIND_LINKS: wheels,
        MCP_BRIDGE_PACKAGES_ALLOW: 'tinypkg',
        MCP_BRIDGE_PACKAGES_AUTO: '0',
      },
      planted,
    );
    const result = await bridge.run({
      code: [
        TRY_INSTALLS,
        'import os',
        'answer = attempt("tinypkg")',
        'import tinypkg',
        'print("JSON " + json.dumps({"answer": answer, "value": tinypkg.VALUE,',
        '    "marks": sorted(n for n in os.listdir("/packages") if n.startswith("MARK-"))}))',
      ].join('\n'),
    });
    expect(statusOf(result), describeResult(result)).toBe('success');
    const seen = printedJson<{ answer: InstallAnswer; value: number; marks: string[] }>(result);
    expect(seen.marks).toEqual([]);
    expect(seen.answer).toMatchObject({ success: true, version: '0.1.0' });
    expect(seen.value).toBe(42);
  });

  it('lets pip reach the index alone: links to another host service or the metadata address are refused', async () => {
    const linkWheelFolder = mkdtempSync(path.join(os.tmpdir(), 'mcp-pkg-sec-link-'));
    const other = await otherHostService(
      readFileSync(buildWheel('linkedpkg', '1.0', 1, linkWheelFolder)),
    );
    const index = await loopbackIndex([buildWheel('tinyidx', '0.3.0', 7, wheels)], {
      links: {
        linkedpkg: [`http://127.0.0.1:${other.port}/files/linkedpkg-1.0-py3-none-any.whl`],
        metapkg: ['http://169.254.169.254/latest/meta-data/metapkg-1.0-py3-none-any.whl'],
      },
    });
    try {
      const creates = proxy.installerCreates().length;
      const bridge = await start(
        {
          MCP_BRIDGE_PACKAGES_INDEX_URL: index.url,
          MCP_BRIDGE_PACKAGES_ALLOW: 'linkedpkg,metapkg,tinyidx',
          MCP_BRIDGE_PACKAGES_TIMEOUT: '30',
          MCP_BRIDGE_PACKAGES_AUTO: '0',
        },
        `${volume}-index`,
      );
      const result = await bridge.run(
        {
          code: [
            TRY_INSTALLS,
            'linked = attempt("linkedpkg")',
            'meta = attempt("metapkg")',
            'good = attempt("tinyidx")',
            'import tinyidx',
            'print("JSON " + json.dumps({"linked": linked, "meta": meta, "good": good,',
            '    "value": tinyidx.VALUE}))',
          ].join('\n'),
          timeout: 120,
        },
        240_000,
      );
      expect(statusOf(result), describeResult(result)).toBe('success');
      const seen = printedJson<{
        linked: InstallAnswer;
        meta: InstallAnswer;
        good: InstallAnswer;
        value: number;
      }>(result);
      expect(other.requests).toEqual([]);
      expect(seen.linked.success).toBe(false);
      expect(seen.linked.message).toMatch(
        new RegExp(`relay refused .*127\\.0\\.0\\.1:${other.port}`),
      );
      expect(seen.meta.success).toBe(false);
      expect(seen.meta.message).toMatch(/relay refused .*169\.254\.169\.254/);
      expect(seen.good).toMatchObject({ success: true, version: '0.3.0' });
      expect(seen.value).toBe(7);
      // Every installer of this bridge had no network of its own.
      const made = proxy.installerCreates().slice(creates);
      expect(made.length).toBeGreaterThanOrEqual(3);
      for (const create of made) expect(create.networkMode).toBe('none');
    } finally {
      await index.close();
      await other.close();
      rmSync(linkWheelFolder, { recursive: true, force: true });
    }
  }, 240_000);

  it('gives code running inside the installer nothing but the index', async () => {
    const other = await otherHostService();
    const index = await loopbackIndex([buildWheel('tinyidx', '0.3.0', 7, wheels)]);
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mcp-pkg-sec-state-'));
    const store = `${volume}-hostile`;
    volumes.push(store);
    try {
      const config: PackagesConfig & Record<string, unknown> = {
        policy: 'on',
        allow: [],
        deny: [],
        indexUrl: index.url,
        findLinks: undefined,
        allowSdist: false,
        autoInstall: true,
        timeoutSeconds: 60,
        maxBytes: 64 * MiB,
        volume: store,
        network: 'relay',
        fileHosts: undefined,
      };
      const manager = new PackageManager({
        config,
        engine: () => Promise.resolve({ docker, kind: engine.name }),
        hardening: () => ({
          engine: engine.name,
          seccompProfilePath:
            engine.name === 'podman' ? writeSeccompProfileFile(stateDir) : undefined,
          image: testImage(),
          user: '65534:65534',
          memoryBytes: 512 * MiB,
          pidsLimit: 128,
          ...hardeningDefaults(),
        }),
        logger: pino({ level: 'silent' }),
        driverSource: () => HOSTILE_DRIVER.replace('OTHER_PORT', String(other.port)),
      });
      const answer = await manager.install('tinyidx');
      const json = /failed: (\{[^\n]*\})\./.exec(answer.message)?.[1];
      expect(json, answer.message).toBeDefined();
      const found = JSON.parse(json ?? '{}') as Record<string, string>;
      expect(found['direct other service'], JSON.stringify(found)).not.toBe('connected');
      expect(found['direct metadata']).not.toBe('connected');
      for (const key of [
        'relay CONNECT other service',
        'relay CONNECT localhost',
        'relay GET other service',
        'relay GET userinfo trick',
        'relay CONNECT metadata',
        'relay GET mapped metadata',
        'relay GET origin-form',
      ]) {
        expect(found[key], `${key}: ${JSON.stringify(found)}`).toMatch(/^HTTP\/1\.1 40[035] /);
      }
      // The relay is not simply closed: the index answers through it.
      expect(found['relay GET index']).toBe('HTTP/1.1 200 OK');
      expect(other.requests).toEqual([]);
      // The install's message names what the relay refused.
      expect(answer.message).toMatch(
        /package relay refused what pip asked for: CONNECT 127\.0\.0\.1:/,
      );
    } finally {
      await index.close();
      await other.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses local version labels, which could carry data to the index, before any container starts', async () => {
    const bridge = await start({
      MCP_BRIDGE_PACKAGES_FIND_LINKS: wheels,
      MCP_BRIDGE_PACKAGES_ALLOW: 'tinypkg',
    });
    const before = proxy.installerCreates().length;
    const result = await bridge.run({
      code: [
        TRY_INSTALLS,
        'print("JSON " + json.dumps([attempt("tinypkg==0.1.0+c2VjcmV0"),',
        '    attempt("tinypkg>=0.1,!=0.0.1+aGVsbG8")]))',
      ].join('\n'),
    });
    const answers = printedJson<{ refused?: string }[]>(result);
    for (const answer of answers) expect(answer.refused).toMatch(/local version label/);
    expect(proxy.installerCreates().length).toBe(before);
    const next = await bridge.run({
      code: `${TRY_INSTALLS}\nprint("JSON " + json.dumps(attempt("tinypkg==0.1.0")))`,
    });
    expect(printedJson<InstallAnswer>(next)).toMatchObject({ success: true });
  });

  it('bounds automatic installs when the session rewrote its import scanner', async () => {
    buildWheel('autopkg', '0.2.0', 7, wheels);
    const bridge = await start(
      { MCP_BRIDGE_PACKAGES_FIND_LINKS: wheels, MCP_BRIDGE_PACKAGES_ALLOW: 'tinypkg,autopkg' },
      `${volume}-auto`,
    );
    const rewrite = await bridge.run({
      code: [
        'import mcp.imports',
        'hostile = ["autopkg"] * 3 + ["tinypkg"] * 3 + [',
        '    "--index-url=http://evil.example/simple", "http://evil.example/x.whl",',
        '    "autopkg==1.0+exfil", "a b", "x" * 300, 42, None]',
        'hostile += ["name%d" % i for i in range(10000)]',
        'mcp.imports.missing_imports = lambda code: hostile',
      ].join('\n'),
    });
    expect(statusOf(rewrite), describeResult(rewrite)).toBe('success');
    const before = proxy.installerCreates().length;
    const result = await bridge.run({ code: 'import autopkg\nprint(autopkg.VALUE)' }, 240_000);
    expect(statusOf(result), describeResult(result)).toBe('success');
    const payload = payloadOf(result);
    expect(payload.stdout).toEqual(['7']);
    const notice = (payload.notices ?? []).join('\n');
    // One installer per distinct allowed name; nothing for the invalid or surplus ones.
    expect(proxy.installerCreates().length - before).toBe(2);
    expect(notice).toMatch(/Installed: autopkg, tinypkg/);
    expect(notice).toMatch(/ignored 7 names that are not valid import names/);
    expect(notice).toMatch(/9994 more .*not installed automatically/);
    expect(notice.length).toBeLessThan(4000);
    const next = await bridge.run({ code: 'print(autopkg.VALUE + 1)' });
    expect(payloadOf(next).stdout).toEqual(['8']);
  }, 240_000);
});
