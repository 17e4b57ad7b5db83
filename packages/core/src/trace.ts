/**
 * Tracing. `bind` is the one entry point of every op: with no trace active it runs the
 * primitive's `impl` (eager mode); inside a trace it records an equation and returns
 * tracers. Traces nest: an op always records into the innermost active trace, and values
 * of enclosing traces (or concrete arrays) that it reads become constvars of that trace.
 */
import { ArrayBase, NDArray, bufferOf, fromBuffer } from "./array.js";
import { type ShapedArray, typedArrayFor } from "./dtype.js";
import { ConcretizationError, SourceInfo, UnexpectedTracerError, ValueError, captureSource } from "./errors.js";
import { debugFlags } from "./config.js";
import { type Atom, type DerivedFrom, Eqn, Jaxpr, Literal, Var } from "./ir/jaxpr.js";
import type { Params, Primitive } from "./ir/primitive.js";
import { checkedEagerImpl } from "./nan_check.js";

const CONCRETIZATION_HINT =
  "a traced value has no concrete value: use np.where(cond, a, b) for elementwise choices, " +
  "lax.cond / lax.switch for branches and lax.whileLoop / lax.foriLoop for loops";

/** A stand-in for an array while a function is traced: it has an aval but no value. */
export class Tracer extends ArrayBase {
  constructor(
    readonly trace: JaxprTrace,
    readonly variable: Var,
    /** The primitive that produced it, or null for a traced argument. */
    readonly producer: string | null,
    readonly source: SourceInfo | null,
    /** The equation that produced it (null for a traced argument), for rules that look one step back. */
    readonly eqn: Eqn | null = null,
  ) {
    super();
  }
  get aval(): ShapedArray {
    return this.variable.aval;
  }
  private concretize(how: string): never {
    const made = this.producer ? `the output of '${this.producer}'` : "a traced argument";
    throw new ConcretizationError(
      `${how} of a traced value (${this.aval}, ${made}${this.source?.location ? ` from ${this.source.location}` : ""}) is not available while tracing`,
      { op: this.producer ?? "traced argument", hint: this.trace.concretizationHint?.(this) ?? CONCRETIZATION_HINT },
    );
  }
  [Symbol.toPrimitive](hint: string): never {
    return this.concretize(hint === "string" ? "the string form" : "the numeric value");
  }
  override toString(): string {
    return this.concretize("the string form");
  }
  override valueOf(): never {
    return this.concretize("the numeric value");
  }
  /** Always throws ConcretizationError: a tracer has no value. */
  item(): number {
    return this.concretize("item()");
  }
  toArray(): never {
    return this.concretize("toArray()");
  }
  toTypedArray(): never {
    return this.concretize("toTypedArray()");
  }
  override toJSON(): never {
    return this.concretize("toJSON()");
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Traced<${this.aval}>`;
  }
}

/** A trace being recorded into a jaxpr. */
export class JaxprTrace {
  active = true;
  readonly eqns: Eqn[] = [];
  readonly invars: Var[] = [];
  private readonly constvars: Var[] = [];
  private readonly consts: ArrayBase[] = [];
  private readonly constIndex = new Map<ArrayBase, Var>();
  /** Where the trace began (the transform's call site), for error messages. */
  readonly source: SourceInfo;
  /** A better hint for ConcretizationError than the generic one (jit names `staticArgnums`). */
  readonly concretizationHint: ((t: Tracer) => string) | null = concretizationHint;

  constructor(
    readonly parent: JaxprTrace | null,
    source?: SourceInfo,
  ) {
    this.source = source ?? captureSource();
  }

  newArg(aval: ShapedArray): Tracer {
    const v = new Var(aval);
    this.invars.push(v);
    return new Tracer(this, v, null, null);
  }

  /** The atom standing for `x` in this trace, lifting outside values into constvars. */
  toAtom(x: ArrayBase): Atom {
    if (x instanceof Tracer) {
      if (x.trace === this) return x.variable;
      if (!x.trace.active) throw escapedTracer(x);
    } else if (x instanceof NDArray && x.aval.shape.length === 0) {
      return new Literal(bufferOf(x)[0]!, x.aval);
    }
    let v = this.constIndex.get(x);
    if (!v) {
      v = new Var(x.aval);
      this.constIndex.set(x, v);
      this.constvars.push(v);
      this.consts.push(x);
    }
    return v;
  }

  process(prim: Primitive, inputs: ArrayBase[], params: Params): Tracer[] {
    const atoms = inputs.map((x) => this.toAtom(x));
    const outAvals = prim.abstractEval(
      atoms.map((a) => a.aval),
      params,
    );
    const source = ambientSource ?? captureSource();
    const outs = outAvals.map((a) => new Var(a));
    const eqn = new Eqn(prim, atoms, params, outs, source, ambientDerived);
    this.eqns.push(eqn);
    return outs.map((v) => new Tracer(this, v, prim.name, source, eqn));
  }

  /** Closes the trace into a jaxpr whose outputs are `outs`. */
  finish(outs: ArrayBase[]): Jaxpr {
    const outAtoms = outs.map((x) => this.toAtom(x));
    return new Jaxpr(this.constvars.slice(), this.consts.slice(), this.invars.slice(), this.eqns.slice(), outAtoms);
  }
}

/**
 * The equation that produced `x` in the innermost active trace, with its inputs as values
 * of that trace, or null (a concrete array, an argument, or a value of another trace).
 * Rules use it to see through a producer, e.g. to multiply by a scalar instead of by its
 * broadcast.
 */
export const producerOf = (x: ArrayBase): { eqn: Eqn; inputs: ArrayBase[] } | null => {
  if (!(x instanceof Tracer) || !x.eqn || x.trace !== current) return null;
  const t = x.trace;
  const inputs = x.eqn.inputs.map((a): ArrayBase => {
    if (a instanceof Literal) {
      const b = typedArrayFor(a.aval.dtype, 1);
      b[0] = a.value;
      return fromBuffer(b, [], a.aval.dtype);
    }
    return new Tracer(t, a, null, null);
  });
  return { eqn: x.eqn, inputs };
};

const escapedTracer = (x: Tracer): UnexpectedTracerError =>
  new UnexpectedTracerError(
    `a tracer (${x.aval}, ${x.producer ? `made by '${x.producer}'` : "a traced argument"}${
      x.source?.location ? ` at ${x.source.location}` : ""
    }) was used after the transform that created it (begun at ${x.trace.source.location ?? "<unknown>"}) had finished`,
    {
      op: x.producer ?? "tracer",
      hint: "a traced value escaped its function, e.g. stored in an outer variable; return it as an output instead",
    },
  );

/** A JS value passed where a primitive needs an array (lax functions do not coerce). */
const notAnArray = (op: string, x: unknown, i: number): ValueError =>
  new ValueError(`argument ${i} is ${x === null ? "null" : Array.isArray(x) ? "a JS array" : `a ${typeof x}`}, not an array`, {
    op,
    hint: "lax functions take arrays (e.g. np.array(2, { dtype: x.dtype })); the np.* functions also accept JS numbers and nested arrays",
  });

let current: JaxprTrace | null = null;
let ambientSource: SourceInfo | null = null;
let ambientDerived: DerivedFrom | null = null;
let concretizationHint: ((t: Tracer) => string) | null = null;

/** Runs `f` with every trace it begins giving `hint` for coercions of its tracers (jit uses it). */
export const withConcretizationHint = <T>(hint: (t: Tracer) => string, f: () => T): T => {
  const prev = concretizationHint;
  concretizationHint = hint;
  try {
    return f();
  } finally {
    concretizationHint = prev;
  }
};

/** The innermost active trace, or null in eager mode. */
export const currentTrace = (): JaxprTrace | null => current;

/**
 * Runs `f` with every equation it records attributed to `source`: transforms use it so
 * that rewritten equations keep the user's original line.
 */
export const withSource = <T>(source: SourceInfo | null, f: () => T): T => {
  const prev = ambientSource;
  ambientSource = source;
  try {
    return f();
  } finally {
    ambientSource = prev;
  }
};

/**
 * {@link withSource}, also marking the equations `f` records as derived from a forward
 * equation (`derivedFrom`): the jvp and transpose transforms use it around each rule, so
 * a NaN report for a gradient equation can name the user's equation it came from.
 */
export const withOrigin = <T>(source: SourceInfo | null, derivedFrom: DerivedFrom | null, f: () => T): T => {
  const prev = ambientSource;
  const prevDerived = ambientDerived;
  ambientSource = source;
  ambientDerived = derivedFrom;
  try {
    return f();
  } finally {
    ambientSource = prev;
    ambientDerived = prevDerived;
  }
};

/**
 * What a transform records about equation `e` of `jaxpr` while applying its `via` rule:
 * the forward equation at the root of the chain (an equation that was itself derived keeps
 * pointing at the user's equation), tagged with the latest rule.
 */
export const derivedVia = (e: Eqn, jaxpr: Jaxpr | null, via: DerivedFrom["via"]): DerivedFrom => {
  const d = e.derivedFrom;
  if (!d) return { eqn: e, jaxpr, via };
  return d.via === via ? d : { eqn: d.eqn, jaxpr: d.jaxpr, via };
};

/** How many equations the current trace holds: a mark for {@link relabelProducers}. */
export const traceMark = (): number => current?.eqns.length ?? 0;

/**
 * Gives the equations recorded since `mark` that produce one of `outs` the origin
 * `derivedFrom`. The jvp transform uses it for a rule's primal outputs: the equation that
 * recomputes the forward value is the forward equation again, not part of its derivative.
 */
export const relabelProducers = (mark: number, outs: readonly ArrayBase[], derivedFrom: DerivedFrom | null): void => {
  const t = current;
  if (!t || t.eqns.length === mark) return;
  const vars = new Set<Var>();
  for (const x of outs) if (x instanceof Tracer && x.trace === t) vars.add(x.variable);
  if (vars.size === 0) return;
  for (let k = mark; k < t.eqns.length; k++) {
    const e = t.eqns[k]!;
    if (e.derivedFrom !== derivedFrom && e.outputs.some((v) => vars.has(v))) t.eqns[k] = new Eqn(e.primitive, e.inputs, e.params, e.outputs, e.source, derivedFrom);
  }
};

/** Throws UnexpectedTracerError for a tracer among `xs` when no trace is active (it has escaped). */
export const requireConcrete = (xs: readonly ArrayBase[]): void => {
  if (current) return;
  for (const x of xs) if (x instanceof Tracer) throw escapedTracer(x);
};

/** Applies a primitive: the one way any op happens. */
export const bind = (prim: Primitive, inputs: ArrayBase[], params: object = {}): ArrayBase[] => {
  for (let i = 0; i < inputs.length; i++) if (!(inputs[i] instanceof ArrayBase)) throw notAnArray(prim.name, inputs[i], i);
  if (current) return current.process(prim, inputs, params as Params);
  for (const x of inputs) if (x instanceof Tracer) throw escapedTracer(x);
  prim.abstractEval(
    inputs.map((x) => x.aval),
    params,
  );
  if (debugFlags.check) return checkedEagerImpl(prim, inputs as NDArray[], params as Params);
  return prim.impl(inputs as NDArray[], params);
};

/** {@link bind} for single-output primitives. */
export const bind1 = (prim: Primitive, inputs: ArrayBase[], params: object = {}): ArrayBase =>
  bind(prim, inputs, params)[0]!;

/**
 * Traces `fn` on fresh tracers of `inAvals` in a new trace nested in the current one,
 * returning the jaxpr. Outside values that `fn` reads become constvars.
 *
 * `origin`, where the trace begins for its error messages: by default the call site, from a
 * stack trace. A transform or rule that re-traces a jaxpr (not the user's function) passes
 * `"rewrite"` (the enclosing trace's begin site, or the equation being rewritten, when there
 * is one) or the source of the equation it rewrites: a rule rewrites a sub-jaxpr at every
 * level of a nested program, and capturing a stack each time cost more than the rewrite.
 */
export const traceToJaxpr = (fn: (...args: Tracer[]) => ArrayBase[], inAvals: readonly ShapedArray[], origin: SourceInfo | "rewrite" | "call site" = "call site"): Jaxpr => {
  const trace = new JaxprTrace(current, origin === "call site" ? undefined : origin === "rewrite" ? (current?.source ?? ambientSource ?? undefined) : origin);
  const prev = current;
  const prevSource = ambientSource;
  const prevDerived = ambientDerived;
  current = trace;
  ambientSource = null; // the traced function's own ops carry their own call sites
  ambientDerived = null;
  try {
    const args = inAvals.map((a) => trace.newArg(a));
    return trace.finish(fn(...args));
  } finally {
    current = prev;
    ambientSource = prevSource;
    ambientDerived = prevDerived;
    trace.active = false;
  }
};

export const isTracer = (x: unknown): x is Tracer => x instanceof Tracer;
