/** Levenshtein distance, for "did you mean" lists; names are short, so O(n·m) is fine. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = previous[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, (previous[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

/** `candidates` sorted closest to `target` first (case-insensitive), ties by name. */
export function closestFirst(target: string, candidates: readonly string[]): string[] {
  const wanted = target.toLowerCase();
  return [...candidates].sort(
    (a, b) =>
      editDistance(wanted, a.toLowerCase()) - editDistance(wanted, b.toLowerCase()) ||
      a.localeCompare(b),
  );
}
