import { describe, expect, it } from 'vitest';
import { distributionForImport } from '../../../src/packages/import-map.js';
import { parsePackageSpec } from '../../../src/packages/package-spec.js';
import {
  installPlanned,
  MAX_AUTO_INSTALLS,
  planAutoInstall,
  type AutoInstallPlan,
  type DependencyInstaller,
} from '../../../src/server/dependencies.js';

/**
 * Automatic installs (src/server/dependencies.ts) read the sandbox's list of missing
 * imports as hostile input: a session can replace its scanner and send anything.
 */

/** An installer that records what it was asked, refuses what parsePackageSpec refuses. */
function recordingInstaller(
  options: { budgetMs?: number; clock?: { now: number }; costMs?: number } = {},
) {
  const asked: string[] = [];
  const installer: DependencyInstaller = {
    autoInstall: true,
    autoInstallBudgetMs: options.budgetMs ?? 180_000,
    distributionFor: distributionForImport,
    install: (spec) => {
      asked.push(spec);
      if (options.clock) options.clock.now += options.costMs ?? 0;
      const parsed = parsePackageSpec(spec);
      return Promise.resolve(
        parsed.ok
          ? { success: true, message: `Installed ${spec}` }
          : { success: false, message: `Cannot install '${spec}': ${parsed.reason}` },
      );
    },
  };
  return { installer, asked };
}

function plan(found: unknown): AutoInstallPlan {
  const planned = planAutoInstall(found);
  if (!planned) throw new Error('no plan');
  return planned;
}

describe('planAutoInstall', () => {
  it('keeps distinct identifiers, in order, and counts the rest as invalid', () => {
    expect(
      plan(['numpy', 'yaml', 'numpy', '--index-url=http://evil.example/simple', 42, null]),
    ).toEqual({
      names: ['numpy', 'yaml'],
      invalid: { count: 3, examples: ['"--index-url=http://evil.example/simple"', '42'] },
      surplus: [],
    });
  });

  it.each([
    '--index-url=http://evil.example',
    '-e .',
    'http://evil.example/x.whl',
    'git+https://x/y',
    'pkg==1.0+exfil',
    'pkg @ https://x',
    '../x',
    'a b',
    'numpy\n--extra-index-url',
    'rеquests', // Cyrillic е
    '1abc',
    'x'.repeat(101),
    '',
  ])('refuses %j as an import name', (name) => {
    expect(plan([name])).toMatchObject({ names: [], invalid: { count: 1 } });
  });

  it(`caps a flood at ${MAX_AUTO_INSTALLS} names`, () => {
    const flood = Array.from({ length: 10_000 }, (_, i) => `name${i}`);
    const planned = plan([...flood, ...flood]);
    expect(planned.names).toEqual(flood.slice(0, MAX_AUTO_INSTALLS));
    expect(planned.surplus).toHaveLength(10_000 - MAX_AUTO_INSTALLS);
  });

  it('gives up on anything that is not a list', () => {
    for (const found of [undefined, null, 'numpy', { 0: 'numpy' }, 42]) {
      expect(planAutoInstall(found)).toBeUndefined();
    }
  });
});

describe('installPlanned', () => {
  it('installs each distribution once, and says briefly what it skipped', async () => {
    const { installer, asked } = recordingInstaller();
    const hostile = [
      ...Array<string>(5000).fill('yaml'),
      'PIL',
      'PIL',
      '--index-url=http://evil.example/simple',
      ...Array.from({ length: 10_000 }, (_, i) => `name${i}`),
    ];
    const report = await installPlanned(plan(hostile), installer);
    expect(asked).toEqual([
      'pyyaml',
      'pillow',
      'name0',
      'name1',
      'name2',
      'name3',
      'name4',
      'name5',
    ]);
    expect(report.installed).toEqual(asked);
    expect(report.info).toMatch(/^Installed: pyyaml, pillow, name0/);
    expect(report.info).toMatch(
      /9994 more missing imports were not installed automatically \(at most 8 per call\): name6, name7, name8, name9, name10, …/,
    );
    expect(report.info).toMatch(/ignored 1 names that are not valid import names/);
    expect(report.info.length).toBeLessThan(1000);
  });

  it('installs one distribution for two imports of it', async () => {
    const { installer, asked } = recordingInstaller();
    await installPlanned(plan(['mpl_toolkits', 'matplotlib', 'google']), installer);
    expect(asked).toEqual(['matplotlib', 'protobuf']);
  });

  it('keeps the refusals short', async () => {
    const refusing: DependencyInstaller = {
      ...recordingInstaller().installer,
      install: (spec) =>
        Promise.resolve({ success: false, message: `no ${spec} ${'x'.repeat(2000)}` }),
    };
    const report = await installPlanned(plan(['a', 'b', 'c', 'd', 'e', 'f', 'g']), refusing);
    expect(report.problems).toHaveLength(7);
    expect(report.info).toMatch(/; and 2 more$/);
    expect(report.info.length).toBeLessThan(5 * 320 + 100);
  });

  it('starts no install once the time budget is spent', async () => {
    const clock = { now: 0 };
    const { installer, asked } = recordingInstaller({ budgetMs: 1000, clock, costMs: 600 });
    const report = await installPlanned(plan(['a', 'b', 'c', 'd']), installer, () => clock.now);
    expect(asked).toEqual(['a', 'b']);
    expect(report.info).toMatch(
      /2 missing imports were not installed: the automatic installs of this call ran out of time \(1 s, MCP_BRIDGE_PACKAGES_TIMEOUT\): c, d/,
    );
  });

  it('starts no install once the call is cancelled', async () => {
    const controller = new AbortController();
    const { installer, asked } = recordingInstaller();
    const cancelling = {
      ...installer,
      install: (spec: string) => {
        controller.abort(); // the client cancels while the first install runs
        return installer.install(spec);
      },
    };
    await installPlanned(plan(['a', 'b', 'c']), cancelling, undefined, controller.signal);
    expect(asked).toEqual(['a']);
  });
});
