/**
 * Random well-typed programs over Cotangent's primitive set, generated as TypeScript source.
 *
 * A program is the text of one arrow function over float64 arrays, plus its inputs. The
 * generator tracks every value's shape, so each op it emits type-checks; it draws from
 * elementwise math, broadcasting binary ops, shape ops (reshape, transpose, broadcast, slice,
 * pad, concatenate, rev, dynamic slice and update), reductions and cumulative sums, gather
 * and scatter-add, dot_general, convolution, select, and the higher-order primitives: cond,
 * switch, scan, foriLoop, whileLoop, checkpoint, customJvp and customVjp, whose bodies are
 * generated the same way and close over the enclosing values.
 *
 * Domains are kept safe by construction rather than by filtering: logs and roots only see
 * 1 + x², divisors are 1 + y², exponentials see tanh(x), so every program is smooth wherever
 * it is evaluated and finite differences are a fair reference.
 *
 * The text is the single source of truth: the checks compile exactly this text (with esbuild,
 * as a TypeScript module body) and the reproducer a failure prints is this text. Written by
 * hand: no library generates typed array programs, and fast-check's `gen` gives shrinking
 * for free (a smaller draw replays into a smaller program).
 */
import fc from "fast-check";

export interface Value {
  name: string;
  shape: number[];
}

export interface Program {
  /** TypeScript source: `const f = (...xs: any[]) => { const [x0, ...] = xs; ... };`. */
  source: string;
  /** Input shapes and values (float64, row-major). */
  inputs: { shape: number[]; values: number[] }[];
  /** Reverse mode applies (no whileLoop, whose reverse mode is refused as in JAX). */
  reverse: boolean;
  /** Forward mode applies (no customVjp, whose forward mode is refused as in JAX). */
  forward: boolean;
}

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** A float64 constant literal of the given shape (values printed to round-trip exactly). */
const constText = (shape: number[], values: number[]) =>
  `np.array(${JSON.stringify(values)}, { dtype: "float64", shape: ${shapeText(shape)} })`;

/** Shared state of one program's generation. */
class Ctx {
  counter = 0;
  salt = 0;
  inJvpRule = 0;
  reverse = true;
  forward = true;
  inputs: { name: string; shape: number[]; values: number[] }[] = [];
  constructor(readonly g: fc.GeneratorValue) {}
  int(min: number, max: number): number {
    return min >= max ? min : this.g(fc.integer, { min, max });
  }
  bool(): boolean {
    return this.int(0, 1) === 1;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
  fresh(prefix = "v"): string {
    return `${prefix}${this.counter++}`;
  }
  /** Values in [-1, 1] away from 0, from one drawn seed (cheap to draw, easy to shrink). */
  values(n: number): number[] {
    // Salted per call: two arrays drawn from the same (say, shrunk) seed still differ, so no
    // comparison between them ties where a finite difference would cross it.
    let s = this.int(1, 1 << 30) + 7919 * this.salt++;
    return Array.from({ length: n }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const u = (s >>> 8) / (1 << 24);
      return Math.round((u < 0.5 ? -0.1 - 1.8 * u : 0.1 + 1.8 * (u - 0.5)) * 1e6) / 1e6;
    });
  }
  shape(minRank = 0, maxRank = 3): number[] {
    const r = this.int(minRank, maxRank);
    return Array.from({ length: r }, () => this.int(1, 3));
  }
}

/** One function body under construction: its lines and the values in scope. */
class Scope {
  lines: string[] = [];
  vals: Value[];
  constructor(
    readonly ctx: Ctx,
    params: Value[],
    readonly outer: Scope | null,
    readonly depth: number,
    readonly top: boolean,
  ) {
    this.vals = params.slice();
  }
  /** Every value visible here: own values and (closed over) the enclosing scopes'. */
  visible(): Value[] {
    return [...this.vals, ...(this.outer ? this.outer.visible() : [])];
  }
  emit(expr: string, shape: number[]): Value {
    const v = { name: this.ctx.fresh(), shape };
    this.lines.push(`const ${v.name} = ${expr};`);
    this.vals.push(v);
    return v;
  }
  /** A value of exactly `shape`: an existing one, a new input (top level), or a constant. */
  operand(shape: number[]): Value {
    const have = this.visible().filter((v) => sameShape(v.shape, shape));
    const c = this.ctx.inputs.length === 0 ? 3 : this.ctx.int(0, 5);
    if (have.length > 0 && c <= 2) return this.ctx.pick(have);
    if (this.top && c <= 4 && this.ctx.inputs.length < 5) {
      const name = `x${this.ctx.inputs.length}`;
      this.ctx.inputs.push({ name, shape, values: this.ctx.values(sizeOf(shape)) });
      const v = { name, shape };
      this.vals.push(v);
      return v;
    }
    return this.emit(constText(shape, this.ctx.values(sizeOf(shape))), shape);
  }
  any(): Value {
    const vs = this.visible();
    // Prefer recent values so programs are chains more often than fans.
    const recent = vs.slice(Math.max(0, this.vals.length - 3), this.vals.length);
    return this.ctx.bool() && recent.length > 0 ? this.ctx.pick(recent) : this.ctx.pick(vs);
  }
  /** Values of this scope that no later line reads. */
  unread(): Value[] {
    return this.vals.filter((v) => !this.lines.some((l) => new RegExp(`\\b${v.name}\\b`).test(l.replace(/^const [^=]+=/, ""))));
  }
  /** A value of `shape` that depends on `v`: v itself, or `base + mean(v)`. */
  fit(v: Value, shape: number[], base: Value): Value {
    if (sameShape(v.shape, shape)) return v;
    return this.emit(`np.add(np.multiply(${base.name}, 0.5), np.mean(${v.name}))`, shape);
  }
}

type OpGen = (s: Scope) => Value | null;

const UNARY = [
  "np.sin(X)",
  "np.cos(X)",
  "np.tanh(X)",
  "lax.logistic(X)",
  "np.exp(np.tanh(X))",
  "np.log1p(np.square(X))",
  "np.log(np.add(np.square(X), 1))",
  "np.sqrt(np.add(np.square(X), 1))",
  "lax.rsqrt(np.add(np.square(X), 0.5))",
  "np.negative(X)",
  "np.multiply(X, 0.7)",
  "np.arctan(X)",
  "lax.erf(X)",
  "np.expm1(np.tanh(X))",
  "np.square(np.tanh(X))",
  "lax.integerPow(np.tanh(X), 3)",
  "np.sinh(np.tanh(X))",
  "lax.erfInv(np.multiply(np.tanh(X), 0.9))",
  "np.cbrt(np.add(np.square(X), 1))",
  "lax.atan(X)",
];

const BINARY = [
  "np.add(X, Y)",
  "np.subtract(X, Y)",
  "np.multiply(X, Y)",
  "np.divide(X, np.add(np.square(Y), 1))",
  "np.power(np.add(np.square(X), 0.5), np.tanh(Y))",
  "np.arctan2(X, np.add(np.square(Y), 1))",
  "np.maximum(X, np.add(Y, 0.37))",
  "np.where(np.greater(X, np.add(Y, 0.37)), np.sin(X), np.cos(Y))",
];

/** A shape that broadcasts against `s`: a suffix of it with some dimensions set to 1. */
const broadcastPartner = (ctx: Ctx, s: number[]): number[] => {
  const keep = ctx.int(0, s.length);
  return s.slice(s.length - keep).map((d) => (ctx.int(0, 3) === 0 ? 1 : d));
};
const broadcastShapes = (a: number[], b: number[]): number[] => {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    return x === 1 ? y : x;
  });
};
const axisOf = (ctx: Ctx, v: Value) => ctx.int(0, v.shape.length - 1);

const unary: OpGen = (s) => {
  const x = s.any();
  return s.emit(s.ctx.pick(UNARY).replaceAll("X", x.name), x.shape);
};

const binary: OpGen = (s) => {
  const x = s.any();
  const y = s.operand(broadcastPartner(s.ctx, x.shape));
  const [a, b] = s.ctx.bool() ? [x, y] : [y, x];
  return s.emit(s.ctx.pick(BINARY).replaceAll("X", a.name).replaceAll("Y", b.name), broadcastShapes(a.shape, b.shape));
};

const reduce: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length === 0) return null;
  const axis = axisOf(s.ctx, x);
  const keep = s.ctx.bool();
  const out = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  const opts = `{ axis: ${axis}${keep ? ", keepdims: true" : ""} }`;
  const kind = s.ctx.int(0, 8);
  if (kind >= 6) return s.emit(`${["np.cumsum", "np.cumprod", "lax.cummax"][kind - 6]}(${x.name}, ${kind === 8 ? axis : `{ axis: ${axis} }`})`, x.shape);
  const fn = ["np.sum", "np.mean", "np.max", "np.prod", "np.logsumexp", "np.min"][kind]!;
  return s.emit(`${fn}(${x.name}, ${opts})`, out);
};

const reshapeOp: OpGen = (s) => {
  const x = s.any();
  const n = sizeOf(x.shape);
  const options: number[][] = [[n], [1, ...x.shape], x.shape.filter((d) => d !== 1)];
  if (x.shape.length >= 2) options.push([x.shape[0]! * x.shape[1]!, ...x.shape.slice(2)]);
  const to = s.ctx.pick(options);
  return s.emit(`np.reshape(${x.name}, ${shapeText(to)})`, to);
};

const transposeOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length < 2) return null;
  const perm = x.shape.map((_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = s.ctx.int(0, i);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return s.emit(`np.transpose(${x.name}, ${shapeText(perm)})`, perm.map((p) => x.shape[p]!));
};

const broadcastOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length >= 3) return null;
  const d = s.ctx.int(1, 3);
  const at = s.ctx.int(0, x.shape.length);
  const out = [...x.shape.slice(0, at), d, ...x.shape.slice(at)];
  const dims = x.shape.map((_, i) => (i < at ? i : i + 1));
  return s.emit(`lax.broadcastInDim(${x.name}, ${shapeText(out)}, ${shapeText(dims)})`, out);
};

const sliceOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length === 0) return null;
  const start = x.shape.map((d) => s.ctx.int(0, d - 1));
  const limit = x.shape.map((d, i) => s.ctx.int(start[i]! + 1, d));
  const strides = x.shape.map(() => s.ctx.int(1, 2));
  const out = start.map((st, i) => Math.ceil((limit[i]! - st) / strides[i]!));
  return s.emit(`lax.slice(${x.name}, ${shapeText(start)}, ${shapeText(limit)}, ${shapeText(strides)})`, out);
};

const padOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length === 0) return null;
  const cfg = x.shape.map((d) => {
    const interior = s.ctx.int(0, 1);
    const full = d + Math.max(0, d - 1) * interior;
    const lo = s.ctx.int(-Math.min(1, full - 1), 2);
    const hi = s.ctx.int(-Math.min(1, full - 1 - Math.max(0, -lo)), 2);
    return [lo, hi, interior];
  });
  const out = x.shape.map((d, i) => cfg[i]![0]! + cfg[i]![1]! + d + Math.max(0, d - 1) * cfg[i]![2]!);
  if (out.some((d) => d <= 0)) return null;
  const value = s.ctx.bool() ? s.operand([]) : s.emit(`np.sum(${s.any().name})`, []);
  return s.emit(`lax.pad(${x.name}, ${value.name}, ${JSON.stringify(cfg)})`, out);
};

const concatOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length === 0) return null;
  const axis = axisOf(s.ctx, x);
  const parts = [x];
  const k = s.ctx.int(1, 2);
  for (let i = 0; i < k; i++) parts.push(s.operand(x.shape.map((d, j) => (j === axis ? s.ctx.int(1, 2) : d))));
  if (s.ctx.bool()) parts.reverse();
  const out = x.shape.map((d, j) => (j === axis ? parts.reduce((t, p) => t + p.shape[j]!, 0) : d));
  return s.emit(`np.concatenate([${parts.map((p) => p.name).join(", ")}], { axis: ${axis} })`, out);
};

const revOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length === 0) return null;
  return s.emit(`lax.rev(${x.name}, [${axisOf(s.ctx, x)}])`, x.shape);
};

const dynamicSliceOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length === 0) return null;
  const sizes = x.shape.map((d) => s.ctx.int(1, d));
  const starts = x.shape.map(() => s.ctx.int(-1, 3));
  if (s.ctx.bool()) return s.emit(`lax.dynamicSlice(${x.name}, ${shapeText(starts)}, ${shapeText(sizes)})`, sizes);
  const u = s.operand(sizes);
  return s.emit(`lax.dynamicUpdateSlice(${x.name}, ${u.name}, ${shapeText(starts)})`, x.shape);
};

const gatherOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length === 0) return null;
  const axis = axisOf(s.ctx, x);
  const n = s.ctx.int(1, 4);
  const idx = Array.from({ length: n }, () => s.ctx.int(0, x.shape[axis]! - 1));
  if (s.ctx.bool()) return s.emit(`np.take(${x.name}, ${JSON.stringify(idx)}, { axis: ${axis} })`, x.shape.map((d, i) => (i === axis ? n : d)));
  const u = s.operand(x.shape.map((d, i) => (i === axis ? n : d)));
  return s.emit(`np.scatterAdd(${x.name}, ${JSON.stringify(idx)}, ${u.name}, { axis: ${axis} })`, x.shape);
};

const dotOp: OpGen = (s) => {
  const x = s.any();
  if (x.shape.length === 0 || x.shape.length > 3) return null;
  const k = axisOf(s.ctx, x);
  const m = s.ctx.int(1, 3);
  const batch = x.shape.length >= 2 && k !== 0 && s.ctx.bool();
  if (batch) {
    const y = s.operand([x.shape[0]!, x.shape[k]!, m]);
    const out = [x.shape[0]!, ...x.shape.filter((_, i) => i !== 0 && i !== k), m];
    return s.emit(`lax.dotGeneral(${x.name}, ${y.name}, [[[${k}], [1]], [[0], [0]]])`, out);
  }
  const y = s.operand([x.shape[k]!, m]);
  return s.emit(`lax.dotGeneral(${x.name}, ${y.name}, [[[${k}], [0]], [[], []]])`, [...x.shape.filter((_, i) => i !== k), m]);
};

const convOp: OpGen = (s) => {
  const x = s.any();
  const n = sizeOf(x.shape);
  const kw = s.ctx.int(1, 3);
  const o = s.ctx.int(1, 2);
  const w = s.operand([o, 1, kw]);
  const stride = s.ctx.int(1, 2);
  const [lo, hi] = [s.ctx.int(0, 1), s.ctx.int(0, 1)];
  const width = Math.floor((n + lo + hi - kw) / stride) + 1;
  if (width <= 0) return null;
  return s.emit(`lax.convGeneralDilated(np.reshape(${x.name}, [1, 1, ${n}]), ${w.name}, [${stride}], [[${lo}, ${hi}]])`, [1, o, width]);
};

/** A function literal `(p0: any, ...) => { ...; return out; }` with params of `shapes`, returning `outShape`. */
const lambda = (s: Scope, shapes: number[][], outShape: number[] | null, closes = true): { text: string; out: Value } => {
  const params = shapes.map((shape) => ({ name: s.ctx.fresh("p"), shape }));
  const body = new Scope(s.ctx, params, closes ? s : null, s.depth + 1, false);
  const ops = s.ctx.int(1, 3);
  let last: Value = params[0]!;
  for (let i = 0; i < ops; i++) last = step(body) ?? last;
  const out = outShape ? body.fit(last, outShape, params[0]!) : last;
  const pad = "  ".repeat(s.depth + 2);
  const text = `(${params.map((p) => `${p.name}: any`).join(", ")}) => {\n${body.lines.map((l) => pad + l).join("\n")}\n${pad}return ${out.name};\n${"  ".repeat(s.depth + 1)}}`;
  return { text, out };
};

const condOp: OpGen = (s) => {
  const a = s.any();
  const b = s.ctx.bool() ? s.any() : null;
  const ops = b ? [a, b] : [a];
  const shapes = ops.map((o) => o.shape);
  const p = s.any();
  if (s.ctx.bool()) {
    const t = lambda(s, shapes, a.shape);
    const f = lambda(s, shapes, a.shape);
    const thr = s.ctx.pick([-0.3, 0, 0.4]);
    return s.emit(`lax.cond(np.greater(np.sum(${p.name}), ${thr}), ${t.text}, ${f.text}, ${ops.map((o) => o.name).join(", ")})`, a.shape);
  }
  const branches = [0, 1, 2].map(() => lambda(s, shapes, a.shape).text);
  return s.emit(`lax.switch(np.argmax(np.ravel(${p.name})), [${branches.join(", ")}], ${ops.map((o) => o.name).join(", ")})`, a.shape);
};

const scanOp: OpGen = (s) => {
  const xs = s.any();
  if (xs.shape.length === 0) return null;
  const carry = s.any();
  const params = [carry.shape, xs.shape.slice(1)];
  const body = new Scope(s.ctx, params.map((shape) => ({ name: s.ctx.fresh("p"), shape })), s, s.depth + 1, false);
  const [c, x] = body.vals as [Value, Value];
  let last: Value = x;
  const n = s.ctx.int(1, 3);
  for (let i = 0; i < n; i++) last = step(body) ?? last;
  const nc = body.emit(`np.tanh(${body.fit(last, c.shape, c).name})`, c.shape);
  const y = body.ctx.bool() ? last : body.emit(`np.multiply(${c.name}, 2)`, c.shape);
  const pad = "  ".repeat(s.depth + 2);
  const fn = `(${c.name}: any, ${x.name}: any) => {\n${body.lines.map((l) => pad + l).join("\n")}\n${pad}return [${nc.name}, ${y.name}];\n${"  ".repeat(s.depth + 1)}}`;
  const reverse = s.ctx.int(0, 3) === 0 ? ", { reverse: true }" : "";
  const outC = { name: s.ctx.fresh(), shape: carry.shape };
  const outY = { name: s.ctx.fresh(), shape: [xs.shape[0]!, ...y.shape] };
  s.lines.push(`const [${outC.name}, ${outY.name}] = lax.scan(${fn}, ${carry.name}, ${xs.name}${reverse});`);
  s.vals.push(outC, outY);
  return s.ctx.bool() ? outC : outY;
};

const loopOp: OpGen = (s) => {
  const x = s.any();
  const trips = s.ctx.int(1, 3);
  const body = lambda(s, [x.shape], x.shape);
  const bounded = `(i: any, c: any) => np.tanh((${body.text})(c))`;
  if (s.ctx.bool()) return s.emit(`lax.foriLoop(0, ${trips}, ${bounded}, ${x.name})`, x.shape);
  s.ctx.reverse = false;
  const i = s.ctx.fresh("i");
  const c = s.ctx.fresh("c");
  return s.emit(
    `lax.whileLoop(([${i}]: any) => np.less(${i}, ${trips}), ([${i}, ${c}]: any) => [np.add(${i}, 1), np.tanh((${body.text})(${c}))], [np.array(0, { dtype: "int32" }), ${x.name}])[1]`,
    x.shape,
  );
};

const POLICIES = ["nothingSaveable", "everythingSaveable", "dotsSaveable"];

const higherOp: OpGen = (s) => {
  const a = s.any();
  const b = s.ctx.bool() ? s.any() : null;
  const ops = b ? [a, b] : [a];
  // Inside a customJvp function, whose rule here is the function's own jvp, a customVjp would
  // need forward mode, which it refuses (as in JAX): none there.
  const kind = s.ctx.int(0, s.ctx.inJvpRule > 0 ? 1 : 2);
  // A custom rule cannot see derivatives of values its function closes over (a typed error,
  // as in JAX), so custom functions get only their arguments; checkpoint bodies close over.
  if (kind === 1) s.ctx.inJvpRule++;
  const fn = lambda(s, ops.map((o) => o.shape), null, kind === 0);
  if (kind === 1) s.ctx.inJvpRule--;
  const args = ops.map((o) => o.name).join(", ");
  if (kind === 0) {
    const policy = s.ctx.pick(POLICIES);
    return s.emit(`checkpoint(${fn.text}, { policy: checkpointPolicies.${policy} })(${args})`, fn.out.shape);
  }
  const name = s.ctx.fresh(kind === 1 ? "cj" : "cv");
  const body = s.ctx.fresh("body");
  s.lines.push(`const ${body} = ${fn.text};`);
  if (kind === 1) {
    // The rule is the function's own jvp: the custom_jvp machinery must carry it exactly.
    s.lines.push(`const ${name} = customJvp(${body});`);
    s.lines.push(`${name}.defJvp((ps: any[], ts: any[]) => jvp(${body}, ps, ts));`);
  } else {
    s.ctx.forward = false;
    s.lines.push(`const ${name} = customVjp(${body});`);
    const qs = ops.map((_, i) => `q${i}`);
    s.lines.push(`${name}.defVjp((${qs.map((q) => `${q}: any`).join(", ")}) => [${body}(${qs.join(", ")}), [${qs.join(", ")}]], (ps: any[], ct: any) => vjp(${body}, ...ps)[1](ct));`);
  }
  return s.emit(`${name}(${args})`, fn.out.shape);
};

/** Weighted op table: cheap ops often, higher-order ones now and then (and only two levels deep). */
const step = (s: Scope): Value | null => {
  const leaf: [number, OpGen][] = [
    [5, unary],
    [5, binary],
    [3, reduce],
    [2, reshapeOp],
    [2, transposeOp],
    [1, broadcastOp],
    [2, sliceOp],
    [2, padOp],
    [2, concatOp],
    [1, revOp],
    [2, dynamicSliceOp],
    [2, gatherOp],
    [2, dotOp],
    [1, convOp],
  ];
  const higher: [number, OpGen][] = s.depth < 2 ? [[2, condOp], [2, scanOp], [2, loopOp], [3, higherOp]] : [];
  const table = [...leaf, ...higher];
  const total = table.reduce((t, [w]) => t + w, 0);
  let r = s.ctx.int(0, total - 1);
  for (const [w, op] of table) {
    if (r < w) {
      const v = op(s);
      // Keep sizes small: finite differences cost two evaluations per input element.
      if (v && sizeOf(v.shape) > 36) return null;
      return v;
    }
    r -= w;
  }
  return null;
};

/** Generates a program: inputs, 1-6 top-level ops (bodies of higher-order ops nest inside). */
export const genProgram = (g: fc.GeneratorValue): Program => {
  const ctx = new Ctx(g);
  const top = new Scope(ctx, [], null, 0, true);
  const first = top.operand(ctx.shape(0, 3));
  let last = first;
  const n = ctx.int(1, 6);
  for (let i = 0; i < n; i++) last = step(top) ?? last;
  // Every computed value reaches the output (as a broadcast mean), so none is dead code that
  // the derivative checks would never see.
  const dead = top.unread().filter((v) => v !== last && !ctx.inputs.some((x) => x.name === v.name));
  if (dead.length > 0) last = top.emit(`np.add(${last.name}, np.multiply(${dead.map((v) => `np.mean(${v.name})`).reduce((a, b) => `np.add(${a}, ${b})`)}, 0.5))`, last.shape);
  // Variadic, so that snippets may call f(...someArray) under TypeScript's checks.
  const source = `const f = (...xs: any[]) => {\n  const [${ctx.inputs.map((x) => x.name).join(", ")}] = xs;\n${top.lines.map((l) => "  " + l).join("\n")}\n  return ${last.name};\n};`;
  return { source, inputs: ctx.inputs.map(({ shape, values }) => ({ shape, values })), reverse: ctx.reverse, forward: ctx.forward };
};

/** The inputs as TypeScript source: `const args = [np.array(...), ...];`. */
export const argsSource = (p: Program): string => `const args = [\n${p.inputs.map((x) => `  ${constText(x.shape, x.values)},`).join("\n")}\n];`;
