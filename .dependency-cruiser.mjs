// dependency-cruiser, run by `npm run lint`: fails on any import cycle in src/ and on any
// import that the layer table in docs/architecture.md ("Layers") does not allow. The table
// is the one statement of the layers; this file reads it, and refuses a table that would
// allow a cycle between parts or leaves a part of src/ without a row.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ARCHITECTURE = 'docs/architecture.md';
const root = import.meta.dirname;

/** The rows of the "Layers" table: part name, its path pattern, what it may import. */
function readLayerTable() {
  const text = readFileSync(path.join(root, ARCHITECTURE), 'utf8');
  const section = /^## Layers\n([\s\S]*?)(?=^## )/m.exec(text);
  if (!section) throw new Error(`${ARCHITECTURE}: no "## Layers" section`);
  const rows = [];
  for (const line of section[1].split('\n')) {
    const cells = /^\|\s*`src\/([a-z-]+)(\/|\.ts)`\s*\|[^|]*\|([^|]*)\|\s*$/.exec(line);
    if (!cells) continue;
    const [, name, kind, mayImport] = cells;
    const imports = [...mayImport.matchAll(/`([a-z-]+)`( \(types only)?/g)].map((match) => ({
      name: match[1],
      typesOnly: match[2] !== undefined,
    }));
    if (imports.length === 0 && mayImport.trim() !== 'nothing')
      throw new Error(`${ARCHITECTURE}: cannot read what src/${name}${kind} may import`);
    rows.push({ name, pattern: kind === '/' ? `^src/${name}/` : `^src/${name}\\.ts$`, imports });
  }
  return rows;
}

/** Throws unless every part of src/ has a row and every name in the table is a part. */
function checkCoverage(rows) {
  const names = new Set(rows.map((row) => row.name));
  for (const entry of readdirSync(path.join(root, 'src'), { withFileTypes: true })) {
    const name = entry.isDirectory() ? entry.name : entry.name.replace(/\.ts$/, '');
    if (!names.has(name))
      throw new Error(`${ARCHITECTURE}: src/${entry.name} has no row in the Layers table`);
  }
  for (const row of rows) {
    for (const { name } of row.imports) {
      if (!names.has(name)) throw new Error(`${ARCHITECTURE}: src/${row.name} names "${name}"`);
    }
  }
}

/** Throws when the table itself allows a cycle between parts (e.g. a ↔ b). */
function checkAcyclic(rows) {
  const byName = new Map(rows.map((row) => [row.name, row]));
  const state = new Map(); // name → 'visiting' | 'done'
  const visit = (name, trail) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw new Error(
        `${ARCHITECTURE}: the Layers table allows a cycle: ${[...trail, name].join(' → ')}`,
      );
    state.set(name, 'visiting');
    for (const target of byName.get(name).imports) visit(target.name, [...trail, name]);
    state.set(name, 'done');
  };
  for (const row of rows) visit(row.name, []);
}

const rows = readLayerTable();
checkCoverage(rows);
checkAcyclic(rows);
const patternOf = new Map(rows.map((row) => [row.name, row.pattern]));

const layerRules = rows.flatMap((row) => {
  const allowed = row.imports.map((target) => patternOf.get(target.name));
  const typesOnly = row.imports.filter((target) => target.typesOnly);
  const listed = row.imports.map((target) => target.name).join(', ') || 'nothing';
  const rules = [
    {
      name: `layer-${row.name}`,
      comment: `src/${row.name} may import only: ${listed} (${ARCHITECTURE}, Layers)`,
      severity: 'error',
      from: { path: row.pattern },
      to: { path: '^src/', pathNot: [row.pattern, ...allowed] },
    },
  ];
  if (typesOnly.length > 0) {
    rules.push({
      name: `layer-${row.name}-types-only`,
      comment: `src/${row.name} may import only types from: ${typesOnly.map((t) => t.name).join(', ')} (${ARCHITECTURE}, Layers)`,
      severity: 'error',
      from: { path: row.pattern },
      to: {
        path: typesOnly.map((target) => patternOf.get(target.name)),
        dependencyTypesNot: ['type-only'],
      },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'An import cycle in src/ (type-only imports count): move what both need to a module of its own.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-stays-in-src',
      comment: 'src/ imports nothing from the tests, the bench or the scripts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|test|bench|scripts)/',
    // Type-only imports are dependencies too: a cycle of types is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
