/**
 * A jaxpr's structure as a string: two jaxprs with the same key are the same program up to
 * renaming variables and the values of their constants (which are inputs of the program, not
 * part of it). Eager `grad` traces the user's function at every call, and an eager training
 * loop traces the same program each step: the key lets it reuse the rewrites of the first
 * trace (see `linearizeAt` in vjp.ts) instead of redoing them. Literals, params and every
 * variable's shape and dtype are part of the key; a jaxpr whose params are not plain data
 * (sub-jaxprs, functions, class instances) has no key, and is rewritten every time.
 */
import type { ShapedArray } from "../dtype.js";
import { type Atom, Jaxpr, Literal, type Var } from "../ir/jaxpr.js";
import { identityKey } from "./memo.js";

/** A number as text that tells -0 and NaN apart from 0 and null. */
const numberKey = (x: number): string => (Object.is(x, -0) ? "-0" : String(x));

/** Plain data as text, or null for anything else (functions, jaxprs, class instances). */
const plainKey = (v: unknown): string | null => {
  if (v === null) return "null";
  switch (typeof v) {
    case "number":
      return numberKey(v);
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "T" : "F";
    case "undefined":
      return "U";
    case "object": {
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (const x of v) {
          const k = plainKey(x);
          if (k === null) return null;
          parts.push(k);
        }
        return `[${parts.join(",")}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return null;
      const parts: string[] = [];
      for (const name of Object.keys(v).sort()) {
        const k = plainKey((v as Record<string, unknown>)[name]);
        if (k === null) return null;
        parts.push(`${JSON.stringify(name)}:${k}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      return null;
  }
};

const avalKey = (a: ShapedArray): string => `${a.dtype}[${a.shape.join(",")}]`;

/** The key of `jaxpr` (see the module comment), or null when it has none. */
export const structureKey = (jaxpr: Jaxpr): string | null => {
  const ids = new Map<Var, number>();
  const parts: string[] = [];
  const bind = (v: Var): string => {
    ids.set(v, ids.size);
    return avalKey(v.aval);
  };
  const atom = (a: Atom): string | null => {
    if (a instanceof Literal) return `L${a.aval.dtype}:${numberKey(a.value)}`;
    const id = ids.get(a);
    return id === undefined ? null : `v${id}`;
  };
  for (const v of jaxpr.constvars) parts.push(`c${bind(v)}`);
  for (const v of jaxpr.invars) parts.push(`i${bind(v)}`);
  for (const e of jaxpr.eqns) {
    const params = plainKey(e.params);
    if (params === null) return null;
    const ins: string[] = [];
    for (const a of e.inputs) {
      const k = atom(a);
      if (k === null) return null;
      ins.push(k);
    }
    parts.push(`${identityKey(e.primitive)}${params}(${ins.join(",")})=${e.outputs.map(bind).join(",")}`);
  }
  const outs: string[] = [];
  for (const a of jaxpr.outvars) {
    const k = atom(a);
    if (k === null) return null;
    outs.push(k);
  }
  parts.push(`->${outs.join(",")}`);
  return parts.join(";");
};

/**
 * `jaxpr` with its constants as leading inputs: a rewrite of it holds no arrays and serves
 * any constants of the same shapes (pass `[...jaxpr.consts, ...args]` to evaluate it).
 */
export const liftConsts = (jaxpr: Jaxpr): Jaxpr => new Jaxpr([], [], [...jaxpr.constvars, ...jaxpr.invars], jaxpr.eqns, jaxpr.outvars);

/**
 * A bounded map from structure keys (plus whatever else the rewrite depends on) to rewrites,
 * least recently used first out. Keys are strings; a null key is never stored or found.
 */
export class StructureCache<T> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly capacity: number) {}
  get(key: string | null): T | undefined {
    if (key === null) return undefined;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }
  set(key: string | null, value: T): void {
    if (key === null) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }
  clear(): void {
    this.entries.clear();
  }
}
