/** The IR: variables, literals, equations and jaxprs, as in JAX. */
import type { ArrayBase } from "../array.js";
import type { ShapedArray } from "../dtype.js";
import type { SourceInfo } from "../errors.js";
import { printJaxpr } from "./print.js";
import type { Params, Primitive } from "./primitive.js";

/** A variable: bound once, by an equation, an input or a constant. Identity is the object. */
export class Var {
  declare private readonly _isVar: true;
  constructor(readonly aval: ShapedArray) {}
}

/** A scalar constant written inline in an equation. */
export class Literal {
  constructor(
    readonly value: number,
    readonly aval: ShapedArray,
  ) {}
}

/** An equation input or a jaxpr output: a variable, or a scalar literal. */
export type Atom = Var | Literal;

/**
 * Where a transform-emitted equation came from: the forward (user) equation whose jvp or
 * transpose rule emitted it, and the jaxpr that equation sits in (to print it with the
 * names the user sees). A NaN report for a gradient names both.
 */
export interface DerivedFrom {
  readonly eqn: Eqn;
  readonly jaxpr: Jaxpr | null;
  /** The rule that emitted it: `jvp` (forward-mode and the primal part of linearize) or `transpose` (the backward pass). */
  readonly via: "jvp" | "transpose";
}

/** One primitive application: `outputs = primitive[params] inputs`. */
export class Eqn {
  constructor(
    readonly primitive: Primitive,
    readonly inputs: Atom[],
    readonly params: Params,
    readonly outputs: Var[],
    /** The user's call site, for errors, NaN reports and printing. */
    readonly source: SourceInfo | null = null,
    /** For an equation a jvp or transpose rule emitted: the forward equation it derives from. */
    readonly derivedFrom: DerivedFrom | null = null,
  ) {}
}

/**
 * A closed jaxpr: `{ lambda constvars ; invars . let eqns in (outvars) }`, with the values
 * of its constvars alongside (concrete arrays, or tracers of an enclosing trace).
 */
export class Jaxpr {
  constructor(
    readonly constvars: Var[],
    readonly consts: ArrayBase[],
    readonly invars: Var[],
    readonly eqns: Eqn[],
    readonly outvars: Atom[],
  ) {
    if (constvars.length !== consts.length) throw new Error("Jaxpr: constvars and consts differ in length");
  }
  get inAvals(): ShapedArray[] {
    return this.invars.map((v) => v.aval);
  }
  get outAvals(): ShapedArray[] {
    return this.outvars.map((v) => v.aval);
  }
  /** JAX's text format. */
  toString(): string {
    return printJaxpr(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return printJaxpr(this);
  }
}
