import type { PackagesConfig } from '../config/executor-env.js';
import { normalizePackageName } from './package-spec.js';

/**
 * Popular, long-established data, science, document and web-parsing distributions: the
 * names a model most often needs, and the ones whose real spelling it knows. Policy
 * `allowlist` (the default) installs only these and MCP_BRIDGE_PACKAGES_ALLOW; see
 * docs/packages.md for why. Names are PEP 503 normalised.
 */
export const DEFAULT_ALLOWLIST: readonly string[] = [
  // numerics and data frames
  'numpy',
  'pandas',
  'scipy',
  'polars',
  'pyarrow',
  'xarray',
  'numexpr',
  'bottleneck',
  'duckdb',
  'h5py',
  // statistics, machine learning, maths, graphs
  'scikit-learn',
  'statsmodels',
  'sympy',
  'networkx',
  'joblib',
  'threadpoolctl',
  'mpmath',
  // plotting and imaging
  'matplotlib',
  'seaborn',
  'plotly',
  'bokeh',
  'altair',
  'pillow',
  'imageio',
  'scikit-image',
  'opencv-python',
  'opencv-python-headless',
  'wordcloud',
  // web, HTTP and parsing
  'requests',
  'httpx',
  'urllib3',
  'beautifulsoup4',
  'soupsieve',
  'lxml',
  'html5lib',
  'markdown',
  'markdown-it-py',
  'jinja2',
  'markupsafe',
  // data formats
  'pyyaml',
  'toml',
  'tomli',
  'orjson',
  'jsonschema',
  'tabulate',
  'openpyxl',
  'xlrd',
  'xlsxwriter',
  'python-docx',
  'python-pptx',
  'pypdf',
  'pdfplumber',
  // dates, text and everyday utilities
  'python-dateutil',
  'pytz',
  'tzdata',
  'regex',
  'chardet',
  'charset-normalizer',
  'unidecode',
  'python-slugify',
  'tqdm',
  'rich',
  'attrs',
  'pydantic',
  'more-itertools',
  'toolz',
  'faker',
];

export type PolicyDecision = { allowed: true } | { allowed: false; reason: string };

/**
 * Whether `name` may be installed under `config` (PEP 503 normalised before comparing).
 * The deny list wins over everything; `off` refuses all; `allowlist` admits the default
 * list and MCP_BRIDGE_PACKAGES_ALLOW; `on` admits any name not denied.
 */
export function decidePackage(
  name: string,
  config: Pick<PackagesConfig, 'policy' | 'allow' | 'deny'>,
): PolicyDecision {
  const wanted = normalizePackageName(name);
  if (config.policy === 'off') {
    return { allowed: false, reason: 'package installs are disabled (MCP_BRIDGE_PACKAGES=off)' };
  }
  if (config.deny.some((denied) => normalizePackageName(denied) === wanted)) {
    return {
      allowed: false,
      reason: `'${wanted}' is on the operator's deny list (MCP_BRIDGE_PACKAGES_DENY)`,
    };
  }
  if (config.policy === 'on') return { allowed: true };
  const allowed =
    DEFAULT_ALLOWLIST.includes(wanted) ||
    config.allow.some((extra) => normalizePackageName(extra) === wanted);
  if (allowed) return { allowed: true };
  return {
    allowed: false,
    reason: `'${wanted}' is not on the allowlist (MCP_BRIDGE_PACKAGES=allowlist): the operator can add it with MCP_BRIDGE_PACKAGES_ALLOW=${wanted}, or allow any name with MCP_BRIDGE_PACKAGES=on`,
  };
}
