/**
 * Memoised jaxpr rewrites. A higher-order rule rewrites its sub-jaxprs, and may need more
 * than one thing from the same rewrite: cond's partial evaluation splits each branch once
 * to learn which outputs are unknown and again with those outputs instantiated; scan's jvp
 * asks which tangents are non-zero, then for the jvp itself; vmap of a loop asks where the
 * batch axes land, then for the batched body. Each such request recurses into the nested
 * rules, so without a cache a program nested d deep costs 2^d (JAX caches these rewrites
 * the same way, by jaxpr identity). Jaxprs are immutable and each rewrite depends only on
 * its jaxpr and its signature, so a cached result is as good as a fresh one.
 */
import type { Jaxpr } from "../ir/jaxpr.js";

/**
 * `fn` cached per jaxpr (held weakly: a cache entry lives as long as its jaxpr) and per
 * `key(...args)`, the rewrite's signature as a string. Thrown errors are not cached.
 */
export const memoOnJaxpr = <A extends unknown[], R>(fn: (jaxpr: Jaxpr, ...args: A) => R, key: (...args: A) => string): ((jaxpr: Jaxpr, ...args: A) => R) => {
  const cache = new WeakMap<Jaxpr, Map<string, R>>();
  return (jaxpr, ...args) => {
    let byKey = cache.get(jaxpr);
    if (!byKey) cache.set(jaxpr, (byKey = new Map()));
    const k = key(...args);
    const hit = byKey.get(k);
    if (hit !== undefined) return hit;
    const r = fn(jaxpr, ...args);
    byKey.set(k, r);
    return r;
  };
};

/** A mask as a key: "0110". */
export const maskKey = (mask: readonly boolean[]): string => mask.map((b) => (b ? "1" : "0")).join("");

const ids = new WeakMap<object, number>();
let nextId = 0;
/** A stable number for an object or function, for keys that depend on its identity. */
export const identityKey = (o: object): number => {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
};
