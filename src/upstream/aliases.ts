/**
 * Python identifiers for MCP server and tool names (docs/servers.md): the sandbox exposes
 * `mcp_<serverAlias>` and `mcp.servers.<serverAlias>.<toolAlias>`.
 */

/** `keyword.kwlist` of Python 3.11, lower-cased names only (False/None/True lose their case). */
const PYTHON_KEYWORDS: ReadonlySet<string> = new Set([
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
]);

/** Lower-case; runs outside `[a-z0-9_]` → `_`; `_` prefix before a digit; `_` when empty. */
export function identifierFor(name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  if (base === '') return '_';
  return /^[0-9]/.test(base) ? `_${base}` : base;
}

/** Aliases for names in input order; a taken alias gets `_2`, `_3`… */
function dedupe(names: readonly string[], aliasOf: (name: string) => string): Map<string, string> {
  const aliases = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of names) {
    if (aliases.has(name)) continue;
    const base = aliasOf(name);
    let alias = base;
    for (let n = 2; taken.has(alias); n += 1) alias = `${base}_${n}`;
    taken.add(alias);
    aliases.set(name, alias);
  }
  return aliases;
}

/** Server name → alias, for `mcp_<alias>` and `mcp.servers.<alias>`. */
export function serverAliases(names: readonly string[]): Map<string, string> {
  return dedupe(names, identifierFor);
}

/** Tool name → alias within one server; Python keywords get a `_` suffix (`import_`). */
export function toolAliases(names: readonly string[]): Map<string, string> {
  return dedupe(names, (name) => {
    const alias = identifierFor(name);
    return PYTHON_KEYWORDS.has(alias) ? `${alias}_` : alias;
  });
}
