/**
 * Words for the tool search: split identifiers and prose into lower-case words, drop filler
 * words and reduce word forms ("listing files" and "list_file" meet at "list fil").
 */

/** Words that say nothing about which tool is meant. */
const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the to of in on at by for from with into onto about as and or but if then than ' +
    'is are was were be been being am do does did can could should would will shall may ' +
    'i me my we our you your it its this that these those there here some any all each ' +
    'how what which who whom whose where when why please using via just also so'
  ).split(' '),
);

/** Short forms an agent types, read as the words they stand for. */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  pr: 'pull request',
  prs: 'pull requests',
  repo: 'repository',
  repos: 'repositories',
  dir: 'directory',
  dirs: 'directories',
  db: 'database',
  env: 'environment',
  vars: 'variables',
  msg: 'message',
  info: 'information',
  config: 'configuration',
  ls: 'list',
  cat: 'read',
  mkdir: 'create directory',
  rm: 'delete',
  mv: 'move',
  grep: 'search',
};

/**
 * Everyday verbs and nouns an agent types for the words tool authors use: each query word
 * also counts, at a lower weight, as any of these.
 */
const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  make: ['create'],
  new: ['create'],
  add: ['create'],
  create: ['add'],
  start: ['create'],
  record: ['add', 'create'],
  remove: ['delete'],
  delete: ['remove'],
  erase: ['delete'],
  drop: ['delete'],
  destroy: ['delete'],
  forget: ['delete'],
  read: ['get'],
  load: ['read', 'get'],
  fetch: ['get', 'read'],
  retrieve: ['get', 'read'],
  show: ['list', 'get', 'read'],
  view: ['get', 'read'],
  display: ['get', 'list'],
  list: ['get'],
  open: ['create', 'read'],
  find: ['search'],
  lookup: ['search'],
  look: ['search'],
  modify: ['update', 'edit'],
  change: ['update', 'edit'],
  edit: ['update'],
  close: ['update'],
  reopen: ['update'],
  save: ['write', 'create'],
  store: ['write', 'create'],
  overwrite: ['write'],
  upload: ['push', 'write'],
  execute: ['run'],
  exec: ['run'],
  invoke: ['run'],
  send: ['post'],
  repeat: ['echo'],
  several: ['multiple'],
  many: ['multiple'],
  batch: ['multiple'],
  bulk: ['multiple'],
  folder: ['directory'],
  select: ['sql'],
  database: ['sql'],
};

/** Splits camelCase, snake_case, kebab-case and prose into lower-case words. */
export function splitWords(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 1 && !/^[0-9]+$/.test(word));
}

/** A light English stemmer: plural, -ing, -ed and -ly endings, then a final `e`. */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(ss|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('ly') && w.length > 5) w = w.slice(0, -2);
  if (w.endsWith('ing') && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 4) w = undouble(w.slice(0, -2));
  if (w.endsWith('e') && w.length > 3) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  return /([b-df-hj-np-tv-z])\1$/.test(w) && !/(ll|ss|zz)$/.test(w) ? w.slice(0, -1) : w;
}

/**
 * Stemmed content words of a text, in order. Filler words are dropped, except from a name
 * (or query) made only of them: a tool called `do` can still be found.
 */
export function contentTerms(text: string, keepFillerOnly = false): string[] {
  const words = splitWords(text);
  const content = words.filter((word) => !STOPWORDS.has(word));
  return (content.length > 0 || !keepFillerOnly ? content : words).map(stem);
}

/** A query word, stemmed, with the stemmed words that may stand for it. */
export interface QueryTerm {
  term: string;
  alternatives: readonly string[];
  /** A filler word (the query had nothing else): it matches only itself. */
  exact: boolean;
}

const STEMMED_SYNONYMS: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(SYNONYMS).map(([word, alternatives]) => [stem(word), alternatives.map(stem)]),
);

/** Security: the query comes from sandboxed code; only its start is searched for. */
const MAX_QUERY_CHARS = 1000;
const MAX_QUERY_TERMS = 24;

/** The distinct content terms of a query, in order, abbreviations spelt out, with synonyms. */
export function queryTerms(query: string): QueryTerm[] {
  const spelt = splitWords(query.slice(0, MAX_QUERY_CHARS))
    .map((word) => ABBREVIATIONS[word] ?? word)
    .join(' ');
  const content = contentTerms(spelt);
  const exact = content.length === 0;
  const terms = exact ? contentTerms(spelt, true) : content;
  return [...new Set(terms)].slice(0, MAX_QUERY_TERMS).map((term) => ({
    term,
    alternatives: exact ? [] : (STEMMED_SYNONYMS.get(term) ?? []),
    exact,
  }));
}
