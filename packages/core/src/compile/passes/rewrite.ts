/**
 * Shared plumbing of the jaxpr passes: renaming atoms while copying equations, rebuilding
 * higher-order equations around rewritten sub-jaxprs, and stable keys for params.
 */
import { type Atom, Eqn, Jaxpr, Literal, type Var } from "../../ir/jaxpr.js";
import type { Params } from "../../ir/primitive.js";
import { ShapedArray } from "../../dtype.js";

export const isVar = (a: Atom): a is Var => !(a instanceof Literal);

export const isJaxpr = (x: unknown): x is Jaxpr => x instanceof Jaxpr;

/** Params with every jaxpr in them (directly or in a list) replaced by `f(jaxpr)`; the same object when nothing changed. */
export const mapSubJaxprs = (params: Params, f: (j: Jaxpr) => Jaxpr): Params => {
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (isJaxpr(v)) {
      const n = f(v);
      if (n !== v) changed = true;
      out[k] = n;
    } else if (Array.isArray(v) && v.length > 0 && v.every(isJaxpr)) {
      const n = v.map(f);
      if (n.some((x, i) => x !== v[i])) changed = true;
      out[k] = n;
    } else out[k] = v;
  }
  return changed ? out : params;
};

/** True when an equation carries sub-jaxprs (a higher-order primitive). */
export const hasSubJaxprs = (e: Eqn): boolean => (e.primitive.subJaxprs?.(e.params).length ?? 0) > 0;

/**
 * Applies `pass` to every sub-jaxpr of every equation (recursively, through the pass
 * itself), keeping each sub-jaxpr's interface. Returns `jaxpr` itself when nothing changed.
 */
export const mapEqnsSubJaxprs = (jaxpr: Jaxpr, pass: (j: Jaxpr) => Jaxpr): Jaxpr => {
  let changed = false;
  const eqns = jaxpr.eqns.map((e) => {
    if (!hasSubJaxprs(e)) return e;
    const params = mapSubJaxprs(e.params, pass);
    if (params === e.params) return e;
    changed = true;
    return new Eqn(e.primitive, e.inputs, params, e.outputs, e.source, e.derivedFrom);
  });
  return changed ? new Jaxpr(jaxpr.constvars, jaxpr.consts, jaxpr.invars, eqns, jaxpr.outvars) : jaxpr;
};

/** A renaming of vars to atoms; reading an unrenamed atom gives it back. */
export class Renamer {
  readonly map = new Map<Var, Atom>();
  read = (a: Atom): Atom => (isVar(a) ? (this.map.get(a) ?? a) : a);
  set(v: Var, a: Atom): void {
    this.map.set(v, a);
  }
  get size(): number {
    return this.map.size;
  }
  /** `e` with its inputs renamed (the same object when none changes). */
  eqn(e: Eqn): Eqn {
    if (this.map.size === 0) return e;
    let changed = false;
    const inputs = e.inputs.map((a) => {
      const b = this.read(a);
      if (b !== a) changed = true;
      return b;
    });
    return changed ? new Eqn(e.primitive, inputs, e.params, e.outputs, e.source, e.derivedFrom) : e;
  }
}

const ids = new WeakMap<object, number>();
let nextId = 0;
/** A number standing for an object's identity (jaxprs, functions, vars in params). */
export const identityOf = (o: object): number => {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
};

/** A string equal for equal params: plain data by value, jaxprs, functions and other objects by identity. */
export const paramsKey = (p: unknown): string => {
  if (p === null) return "null";
  switch (typeof p) {
    case "undefined":
      return "u";
    case "number":
      return Object.is(p, -0) ? "-0" : String(p);
    case "string":
      return JSON.stringify(p);
    case "boolean":
      return p ? "T" : "F";
    case "function":
      return `#${identityOf(p)}`;
    case "object": {
      if (Array.isArray(p)) return `[${p.map(paramsKey).join(",")}]`;
      if (p instanceof ShapedArray) return `A${p}`;
      const proto = Object.getPrototypeOf(p);
      if (proto === Object.prototype || proto === null) {
        return `{${Object.keys(p)
          .sort()
          .map((k) => `${k}:${paramsKey((p as Record<string, unknown>)[k])}`)
          .join(",")}}`;
      }
      return `#${identityOf(p)}`;
    }
    default:
      return String(p);
  }
};
