import { describe, expect, it } from 'vitest';
import type { PackagesConfig } from '../../../src/config/executor-env.js';
import { normalizePackageName, parsePackageSpec } from '../../../src/packages/package-spec.js';
import { DEFAULT_ALLOWLIST, decidePackage } from '../../../src/packages/policy.js';

type Policy = Pick<PackagesConfig, 'policy' | 'allow' | 'deny'>;
const policy = (overrides: Partial<Policy> = {}): Policy => ({
  policy: 'allowlist',
  allow: [],
  deny: [],
  ...overrides,
});

describe('decidePackage', () => {
  it('refuses everything when installs are off, naming the variable', () => {
    for (const name of ['numpy', 'tinypkg', 'anything']) {
      expect(decidePackage(name, policy({ policy: 'off', allow: ['tinypkg'] }))).toEqual({
        allowed: false,
        reason: 'package installs are disabled (MCP_BRIDGE_PACKAGES=off)',
      });
    }
  });

  it('allows the default list and MCP_BRIDGE_PACKAGES_ALLOW under allowlist, nothing else', () => {
    const config = policy({ allow: ['TinyPkg', 'my_internal.lib'] });
    expect(decidePackage('numpy', config)).toEqual({ allowed: true });
    expect(decidePackage('scikit-learn', config)).toEqual({ allowed: true });
    expect(decidePackage('tinypkg', config)).toEqual({ allowed: true });
    expect(decidePackage('my-internal-lib', config)).toEqual({ allowed: true });
    const refused = decidePackage('reqeusts', config);
    expect(refused.allowed).toBe(false);
    const reason = refused.allowed ? '' : refused.reason;
    expect(reason).toMatch(/not on the allowlist/);
    expect(reason).toContain('MCP_BRIDGE_PACKAGES_ALLOW=reqeusts');
  });

  it('compares PEP 503 normalised names', () => {
    const config = policy();
    for (const spelling of ['Scikit_Learn', 'scikit.learn', 'SCIKIT--LEARN', 'PyYAML', 'Jinja2']) {
      expect(decidePackage(spelling, config), spelling).toEqual({ allowed: true });
    }
  });

  it('allows any name under on, except denied ones', () => {
    const config = policy({ policy: 'on', deny: ['Evil_Pkg'] });
    expect(decidePackage('some-obscure-package', config)).toEqual({ allowed: true });
    expect(decidePackage('evil-pkg', config)).toEqual({
      allowed: false,
      reason: "'evil-pkg' is on the operator's deny list (MCP_BRIDGE_PACKAGES_DENY)",
    });
  });

  it('lets the deny list win over the default list and the allow list', () => {
    const config = policy({ allow: ['tinypkg'], deny: ['numpy', 'tinypkg'] });
    expect(decidePackage('numpy', config).allowed).toBe(false);
    expect(decidePackage('tinypkg', config).allowed).toBe(false);
    expect(decidePackage('pandas', config).allowed).toBe(true);
  });
});

describe('DEFAULT_ALLOWLIST', () => {
  it('holds about sixty valid, normalised, distinct names', () => {
    expect(DEFAULT_ALLOWLIST.length).toBeGreaterThanOrEqual(55);
    expect(new Set(DEFAULT_ALLOWLIST).size).toBe(DEFAULT_ALLOWLIST.length);
    for (const name of DEFAULT_ALLOWLIST) {
      expect(parsePackageSpec(name).ok, name).toBe(true);
      expect(normalizePackageName(name), name).toBe(name);
    }
  });

  it('covers the everyday data, science and web-parsing names', () => {
    for (const name of [
      'numpy',
      'pandas',
      'scipy',
      'matplotlib',
      'seaborn',
      'plotly',
      'scikit-learn',
      'statsmodels',
      'sympy',
      'networkx',
      'pillow',
      'opencv-python-headless',
      'requests',
      'httpx',
      'beautifulsoup4',
      'lxml',
      'pyyaml',
      'toml',
      'tabulate',
      'openpyxl',
      'xlrd',
      'python-dateutil',
      'pytz',
      'tqdm',
      'rich',
      'pydantic',
      'jinja2',
      'markdown',
    ]) {
      expect(DEFAULT_ALLOWLIST, name).toContain(name);
    }
  });
});
