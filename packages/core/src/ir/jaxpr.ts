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

export type Atom = Var | Literal;

/** One primitive application: `outputs = primitive[params] inputs`. */
export class Eqn {
  constructor(
    readonly primitive: Primitive,
    readonly inputs: Atom[],
    readonly params: Params,
    readonly outputs: Var[],
    /** The user's call site, for errors, NaN reports and printing. */
    readonly source: SourceInfo | null = null,
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
