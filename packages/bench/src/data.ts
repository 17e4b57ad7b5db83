/**
 * The seeded generator every system draws its inputs from, so Cotangent and each peer see
 * the same numbers. Hand-written (a few lines) rather than a dependency: it must be
 * identical in every child process and independent of any system's own PRNG.
 */

/** mulberry32 (Tommy Ettinger's public-domain 32-bit generator): uniform floats in [0, 1). */
export const uniform01 = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** A stream of seeded draws: uniform and standard normal (Box–Muller) arrays, integer labels. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = uniform01(seed);
  }

  uniform(n: number, lo = 0, hi = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }

  normal(n: number, scale = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 2) {
      const u = 1 - this.next();
      const r = Math.sqrt(-2 * Math.log(u)) * scale;
      const t = 2 * Math.PI * this.next();
      out[i] = r * Math.cos(t);
      if (i + 1 < n) out[i + 1] = r * Math.sin(t);
    }
    return out;
  }

  labels(n: number, classes: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * classes);
    return out;
  }
}

/** A seed per workload, from its id, so adding a workload never changes another's data. */
export const seedOf = (id: string): number => {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
};
