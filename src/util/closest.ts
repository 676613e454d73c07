/**
 * Optimal-string-alignment distance (insert, delete, substitute, swap neighbours: a typo
 * costs one edit), or `limit + 1` as soon as it must exceed `limit`. For "did you mean"
 * lists and search-word guesses; names are short, so O(n·m) is fine.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] ?? i) + 1,
        (current[j - 1] ?? i) + 1,
        (previous[j - 1] ?? i) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (before[j - 2] ?? i) + 1);
      }
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return Math.min(previous[b.length] ?? limit + 1, limit + 1);
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
