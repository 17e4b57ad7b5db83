/**
 * "Did you mean" for misspelt names (option keys, settings, choices): the one edit-distance
 * helper of Cotangent, used by the argument validator (`api/args.ts`), `config.update` and
 * optim's option checks. Written here (a dozen lines) because core depends on no string library.
 */

/** Levenshtein distance between `a` and `b` (insertions, deletions and substitutions cost 1). */
export const editDistance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
};

/**
 * The name in `known` closest to `key`, or undefined when none is close: equal ignoring case,
 * underscores and a leading `jax_` (JAX's spellings `keep_dims`, `jax_debug_nans`) first, then
 * the smallest edit distance (ignoring case) within max(2, a third of the key's length).
 * Never throws: a non-string key or list gives undefined.
 */
export const closestName = (key: unknown, known: readonly string[]): string | undefined => {
  if (typeof key !== "string" || !Array.isArray(known)) return undefined;
  const bare = (s: string) => s.toLowerCase().replace(/^jax_/, "").replace(/_/g, "");
  const names = known.filter((k): k is string => typeof k === "string");
  const exact = names.find((k) => bare(k) === bare(key));
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of names) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
};
