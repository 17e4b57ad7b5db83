/**
 * The fast-check seed from FC_SEED: unset gives the fixed default, "random" a fresh one,
 * an integer itself. Anything else is an error: `Number("abc")` is NaN, and fast-check
 * would run with that NaN seed as if it were a valid one, so a typo would silently stop
 * exploring the cases the user asked for.
 */
export const parseSeed = (raw: string | undefined, fallback: number): number => {
  if (raw === undefined || raw === "") return fallback;
  if (raw === "random") return Date.now() ^ (Math.random() * 0x7fffffff);
  const seed = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(raw)}`);
  }
  return seed;
};
