/**
 * What the agent may ask to install (docs/packages.md): a PEP 508 name, optional extras
 * and an optional PEP 440 version specifier — nothing else. Security: the text ends up
 * on pip's command line, so anything pip could read as an option, a URL, a path, a VCS
 * reference or an environment marker is refused here, before any container starts.
 */

/** A validated request, rendered back canonically (spaces removed, names normalised). */
export interface PackageSpec {
  /** The name as written, e.g. `Python_Dateutil`. */
  name: string;
  /** PEP 503 normalised: lower case, runs of `-_.` become one `-` (`python-dateutil`). */
  normalizedName: string;
  /** Normalised extras (PEP 685), e.g. `['socks']`. */
  extras: string[];
  /** Each clause as `<op><version>`, e.g. `['>=2.8', '<3']`. */
  specifiers: string[];
  /** What goes to pip: `python-dateutil[socks]>=2.8,<3`. */
  requirement: string;
}

export type PackageSpecResult = { ok: true; spec: PackageSpec } | { ok: false; reason: string };

/** Longer requests are refused outright; real requirement strings are far shorter. */
export const MAX_SPEC_LENGTH = 200;

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** The comparison operators we pass on; `===` (arbitrary equality) is refused. */
const OPERATORS = ['~=', '==', '!=', '<=', '>=', '<', '>'] as const;
type Operator = (typeof OPERATORS)[number];

/**
 * PEP 440 versions as `packaging` accepts them (ASCII, case-insensitive): epoch, release,
 * pre-, post- and dev-release in their alternative spellings. No local label (`+…`):
 * see LOCAL_LABEL.
 */
const VERSION =
  /^v?(?:\d+!)?\d+(?:\.\d+)*(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?(?:-\d+|[-_.]?(?:post|rev|r)[-_.]?\d*)?(?:[-_.]?dev[-_.]?\d*)?$/i;

/**
 * Security: a local version label (`pkg==1.0+anything`) is free text the sandbox chooses;
 * it reaches pip, and from there what pip sends or reports, so it could carry data out.
 * Public indexes never serve local versions anyway.
 */
const LOCAL_LABEL_REASON =
  "local version labels ('+…', as in pkg==1.0+abc) are not accepted: they are free text that could carry data out of the sandbox, and indexes do not serve local versions";

/** A release with a trailing `.*`, allowed after `==` and `!=` only. */
const WILDCARD_VERSION = /^v?(?:\d+!)?\d+(?:\.\d+)*\.\*$/i;

/** File names pip would take as a local archive rather than a project name. */
const ARCHIVE_SUFFIX = /\.(whl|zip|tar|tgz|tbz|txz|tar\.gz|tar\.bz2|tar\.xz|egg)$/i;

/**
 * PEP 503 normalisation, used for every comparison of names (policy lists, dedupe); the
 * sandbox and the installer use the same rule (sandbox/mcp_shared/package_names.py).
 */
export function normalizePackageName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

function refuse(reason: string): PackageSpecResult {
  return { ok: false, reason };
}

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Checks that catch the shapes of smuggled options, URLs and paths, with their reasons. */
function refuseDangerousShapes(text: string): string | undefined {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code > 0x7f) {
      return `it contains the non-ASCII character ${codePoint(char)} ('${char}'): package names are plain ASCII, so look-alike letters are refused`;
    }
    if (code < 0x20 || code === 0x7f) {
      return `it contains the control or whitespace character ${codePoint(char)}`;
    }
  }
  if (text.startsWith('-')) {
    return "it starts with '-': pip options (-e, -r, --index-url, …) are not accepted, only a package name with an optional version";
  }
  if (/\s-/.test(text)) {
    return "it contains ' -': pip options (-e, -r, --index-url, …) are not accepted, only a package name with an optional version";
  }
  const at = text.indexOf('@');
  const directReference =
    "direct references ('name @ url') are not accepted: packages come only from the index the operator configured";
  if (at >= 0 && /^[A-Za-z0-9._-]+ *(\[[^\]]*\])? *$/.test(text.slice(0, at)))
    return directReference;
  if (text.includes(':')) {
    return 'URLs and VCS references (https://…, git+…, file:…) are not accepted: packages come only from the index the operator configured';
  }
  if (at >= 0) return directReference;
  if (text.includes(';')) return "environment markers (';' …) are not accepted";
  if (/[/\\]/.test(text) || text.startsWith('.') || text.startsWith('~')) {
    return 'paths are not accepted: give a package name, not a file or folder';
  }
  if (text.includes('+')) return LOCAL_LABEL_REASON;
  if (ARCHIVE_SUFFIX.test(text.split(/[[<>=!~,]/, 1)[0] ?? '')) {
    return 'archive file names (.whl, .tar.gz, .zip, …) are not accepted: give a package name';
  }
  const stray = /[^A-Za-z0-9._\-[\],<>=!~* ]/.exec(text);
  if (stray) {
    return `it contains '${stray[0]}', which cannot appear in a package name or version specifier`;
  }
  return undefined;
}

function parseExtras(text: string): string[] | string {
  if (text.trim() === '') return 'the extras list [] is empty';
  const extras: string[] = [];
  for (const raw of text.split(',')) {
    const extra = raw.trim();
    if (!NAME.test(extra)) return `'${extra}' is not a valid extra name`;
    extras.push(normalizePackageName(extra));
  }
  return [...new Set(extras)];
}

function parseClause(raw: string): string | { error: string } {
  const clause = raw.trim();
  if (clause === '') return { error: 'a version specifier is empty (stray comma?)' };
  if (clause.startsWith('===')) {
    return { error: "'===' (arbitrary equality) is not accepted; use '=='" };
  }
  const operator = OPERATORS.find((op) => clause.startsWith(op));
  if (!operator) {
    return {
      error: `'${clause}' is not a version specifier: use one of ${OPERATORS.join(' ')} followed by a version, e.g. '>=1.2'`,
    };
  }
  const version = clause.slice(operator.length).trim();
  if (!isValidVersion(operator, version)) {
    return { error: `'${version}' is not a valid version for '${operator}'` };
  }
  return `${operator}${version}`;
}

function isValidVersion(operator: Operator, version: string): boolean {
  if (WILDCARD_VERSION.test(version)) return operator === '==' || operator === '!=';
  if (!VERSION.test(version)) return false;
  // PEP 440: "~=" needs at least two release segments (~=1 is meaningless).
  if (operator === '~=') return /^v?(?:\d+!)?\d+\.\d+/i.test(version);
  return true;
}

/**
 * Validates what the agent asked to install: `name`, `name[extra,…]`, each optionally
 * followed by comma-separated clauses such as `>=1.2,<2`. Plain spaces between parts are
 * allowed; any other whitespace, and anything outside this grammar, is refused with a
 * reason the agent can act on.
 */
export function parsePackageSpec(input: unknown): PackageSpecResult {
  if (typeof input !== 'string') return refuse('the package name must be a string');
  // Only ASCII whitespace at the ends is forgiven; JavaScript's trim() would also drop
  // look-alikes such as U+00A0, which must be refused instead.
  const text = input.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  if (text === '') return refuse('the package name is empty');
  if (text.length > MAX_SPEC_LENGTH) {
    return refuse(`it is longer than ${MAX_SPEC_LENGTH} characters`);
  }
  const dangerous = refuseDangerousShapes(text);
  if (dangerous) return refuse(dangerous);

  const match = /^([^[\]<>=!~,\s]+)\s*(?:\[([^\]]*)\])?\s*(.*)$/.exec(text);
  const name = match?.[1];
  if (!match || name === undefined) return refuse('it does not start with a package name');
  if (!NAME.test(name)) {
    return refuse(
      `'${name}' is not a valid package name (letters, digits, '.', '_' and '-', starting and ending with a letter or digit)`,
    );
  }
  let extras: string[] = [];
  if (match[2] !== undefined) {
    const parsed = parseExtras(match[2]);
    if (typeof parsed === 'string') return refuse(parsed);
    extras = parsed;
  }
  const rest = match[3] ?? '';
  if (rest.includes('[') || rest.includes(']')) {
    return refuse('extras must follow the name directly, e.g. requests[socks]>=2');
  }
  const specifiers: string[] = [];
  if (rest !== '') {
    for (const raw of rest.split(',')) {
      const clause = parseClause(raw);
      if (typeof clause !== 'string') return refuse(clause.error);
      specifiers.push(clause);
    }
  }
  const normalizedName = normalizePackageName(name);
  const requirement = `${normalizedName}${extras.length > 0 ? `[${extras.join(',')}]` : ''}${specifiers.join(',')}`;
  return { ok: true, spec: { name, normalizedName, extras, specifiers, requirement } };
}
