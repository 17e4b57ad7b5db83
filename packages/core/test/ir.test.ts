import { describe, expect, it } from "vitest";
import { Eqn, Jaxpr, ShapedArray, TypecheckError, Var, grad, makeJaxpr, memoryProfile, np, toDot, typecheck, vmap, checkpoint, customJvp, linearTranspose } from "@cotangent/core";

const x3 = np.array([1, 2, 3]);

describe("printing", () => {
  it("prints in JAX's format", () => {
    const j = makeJaxpr((x: any) => np.sum(np.sin(x)))(x3);
    expect(j.toString()).toBe(`{ lambda ; a:f32[3]. let
    b:f32[3] = sin a
    c:f32[] = reduce_sum[axes=(0,)] b
  in (c,) }`);
    typecheck(j);
  });
  it("prints constvars, literals and pytrees of inputs", () => {
    const w = np.array([[1, 2], [3, 4]]);
    const j = makeJaxpr((p: any) => np.add(np.multiply(p.a, w), p.b))({ a: np.ones([2, 2]), b: 1.5 });
    expect(j.toString()).toBe(`{ lambda a:f32[2,2]; b:f32[2,2] c:f32[]. let
    d:f32[2,2] = mul b a
    e:f32[2,2] = add d c
  in (e,) }`);
    typecheck(j);
  });
  it("prints the backward pass of grad", () => {
    const j = makeJaxpr(grad((x: any) => np.sum(np.multiply(np.sin(x), x))))(x3);
    typecheck(j);
    expect(j.toString()).toContain("cos");
    expect(j.toString()).toMatch(/in \([a-z]+,\) }$/);
  });
  it("prints nested sub-jaxprs indented", () => {
    const j = makeJaxpr((x: any) => np.sum(checkpoint((y: any) => np.sin(np.sin(y)))(x)))(x3);
    typecheck(j);
    expect(j.toString()).toBe(`{ lambda ; a:f32[3]. let
    b:f32[3] = checkpoint[
      jaxpr={ lambda ; c:f32[3]. let
          d:f32[3] = sin c
          e:f32[3] = sin d
        in (e,) }
      policy=nothing_saveable
    ] a
    f:f32[] = reduce_sum[axes=(0,)] b
  in (f,) }`);
  });
  it("prints vmapped jaxprs", () => {
    const j = makeJaxpr(vmap((x: any) => np.sum(np.multiply(x, x))))(np.ones([4, 3]));
    typecheck(j);
    expect(j.toString()).toBe(`{ lambda ; a:f32[4,3]. let
    b:f32[4,3] = mul a a
    c:f32[4] = reduce_sum[axes=(1,)] b
  in (c,) }`);
  });
  it("exports Graphviz", () => {
    const dot = toDot(makeJaxpr((x: any) => np.sum(np.sin(x)))(x3));
    expect(dot).toMatch(/^digraph "jaxpr" \{/);
    expect(dot).toContain('label="sin');
    expect(dot).toContain("-> o0;");
  });
  it("toDot: 6-digit colours only (Graphviz before 2.50 draws #rgb as black), sub-jaxprs as clusters, options", () => {
    const inner = checkpoint((x: any) => np.sin(np.sin(x)));
    const j = makeJaxpr((x: any) => np.sum(inner(np.multiply(x, 2))))(x3);
    const dot = toDot(j);
    const colours = [...dot.matchAll(/(?:fill)?color="([^"]*)"/g)].map((m) => m[1]);
    expect(colours.length).toBeGreaterThan(5);
    for (const c of colours) expect(c).toMatch(/^#[0-9a-f]{6}$/);
    expect(dot).toContain("subgraph cluster_0 {");
    expect(dot).toMatch(/label="checkpoint: jaxpr"/);
    expect(dot.match(/label="sin/g)).toHaveLength(2);
    expect(dot).toMatch(/ir\.test\.ts:\d+/);
    const collapsed = toDot(j, { collapse: true, sources: false, params: true });
    expect(collapsed).not.toContain("subgraph");
    expect(collapsed).not.toContain('label="sin');
    expect(collapsed).not.toMatch(/ir\.test\.ts/);
    expect(collapsed).toContain("axes=(0)");
    expect(toDot(j, "g")).toMatch(/^digraph "g" \{/);
  });
  it("arrays print like NumPy", () => {
    expect(np.array([[1, 2.5], [3, 4]]).toString()).toBe("[[1. , 2.5],\n [3. , 4. ]]");
    expect(np.array([[-1, 20], [3, 0.25]]).toString()).toBe("[[-1.  , 20.  ],\n [ 3.  ,  0.25]]");
    expect(np.array([1, 2, 3], { dtype: "int32" }).toString()).toBe("[1, 2, 3]");
    expect(np.array([true, false]).toString()).toBe("[ true, false]");
    expect(np.zeros([2000]).toString()).toContain("...");
  });
});

describe("typecheck", () => {
  const f32 = (...s: number[]) => new ShapedArray(s, "float32");
  it("rejects a var used before it is bound", () => {
    const j = makeJaxpr((x: any) => np.sin(x))(x3);
    const broken = new Jaxpr([], [], j.invars, j.eqns, [new Var(f32(3))]);
    expect(() => typecheck(broken)).toThrow(TypecheckError);
    expect(() => typecheck(broken)).toThrow(/typecheck: variable of type f32\[3\] used in outputs before it is bound/);
  });
  it("rejects a var bound twice", () => {
    const j = makeJaxpr((x: any) => np.sin(x))(x3);
    const e = j.eqns[0]!;
    const broken = new Jaxpr([], [], j.invars, [e, new Eqn(e.primitive, e.inputs, e.params, e.outputs, null)], j.outvars);
    expect(() => typecheck(broken)).toThrow(/bound twice/);
  });
  it("rejects an output type that disagrees with abstract evaluation", () => {
    const j = makeJaxpr((x: any) => np.sin(x))(x3);
    const e = j.eqns[0]!;
    const bad = new Var(f32(4));
    const broken = new Jaxpr([], [], j.invars, [new Eqn(e.primitive, e.inputs, e.params, [bad], null)], [bad]);
    expect(() => typecheck(broken)).toThrow(/equation 0 \(sin\) output 0 is declared f32\[4\] but abstract evaluation gives f32\[3\]/);
  });
  it("rejects inputs the primitive refuses", () => {
    const j = makeJaxpr((x: any, y: any) => np.add(x, y))(x3, x3);
    const e = j.eqns[0]!;
    const y = new Var(f32(5));
    const broken = new Jaxpr([], [], [j.invars[0]!, y], [new Eqn(e.primitive, [e.inputs[0]!, y], e.params, e.outputs, null)], j.outvars);
    expect(() => typecheck(broken)).toThrow(/equation 0 \(add\) rejects its input types/);
  });
});

describe("interpreter memory", () => {
  it("peak live bytes of a chain of elementwise ops does not grow with its length", () => {
    const x = np.ones([100_000]);
    const chain = (n: number) => (x: any) => {
      for (let i = 0; i < n; i++) x = np.sin(x);
      return x;
    };
    // Evaluate the traced jaxpr (eager ops are not counted): wrap in a custom rule-free call.
    const peak = (n: number) => memoryProfile(() => vmap(chain(n), { inAxes: null, outAxes: null, axisSize: 1 })(x)).peakBytes;
    const p10 = peak(10);
    const p100 = peak(100);
    expect(p10).toBeGreaterThan(0);
    expect(p100).toBe(p10);
    expect(p100).toBeLessThanOrEqual(3 * 400_000);
  });
});

describe("transform errors", () => {
  it("grad of a non-scalar output", () => {
    expect(() => grad((x: any) => np.sin(x))(x3)).toThrow(/grad: grad requires a scalar output, but the function returned f32\[3\][\s\S]*hint: reduce the output/);
  });
  it("grad of a tuple or object output names its structure; a JS number output is a constant", () => {
    expect(() => grad((x: any) => [np.sum(x), x])(x3)).toThrow(/grad requires a scalar output, but the function returned \[\*, \*\][\s\S]*hasAux/);
    expect(() => grad((x: any) => [np.sum(x)])(x3)).toThrow(/grad requires a scalar output, but the function returned \[\*\]/);
    expect(() => grad((x: any) => ({ loss: np.sum(x) }))(x3)).toThrow(/grad requires a scalar output, but the function returned \{loss: \*\}/);
    expect(Array.from(grad(() => 3)(x3).toTypedArray())).toEqual([0, 0, 0]);
  });
  it("grad with respect to an integer input", () => {
    expect(() => grad((x: any) => np.sum(x))(np.array([1, 2], { dtype: "int32" }))).toThrow(/cannot differentiate with respect to argument 0: it holds i32\[2\]/);
  });
  it("argnums out of range", () => {
    expect(() => grad((x: any) => np.sum(x), { argnums: 2 })(x3)).toThrow(/argnums 2 is out of range: the function was called with 1 argument/);
  });
  it("hasAux without a pair", () => {
    expect(() => grad((x: any) => np.sum(x), { hasAux: true })(x3)).toThrow(/with hasAux: true the function must return a pair \[value, aux\]/);
  });
  it("vmap with inconsistent sizes names each argument", () => {
    expect(() => vmap((a: any, b: any) => np.add(a, b))(np.ones([3, 2]), np.ones([4, 2]))).toThrow(
      /inconsistent sizes for the mapped axis: argument 1 of shape \[4, 2\] has size 4 along axis 0, but argument 0 of shape \[3, 2\] has size 3 along axis 0/,
    );
  });
  it("vmap axis out of range", () => {
    expect(() => vmap((a: any) => a, { inAxes: 2 })(np.ones([3, 2]))).toThrow(/inAxes 2 is out of range for argument 0 of shape \[3, 2\]/);
  });
  it("a primitive lacking a rule names the primitive and the transform", () => {
    const f = customJvp((x: any) => np.sin(x));
    f.defJvp(([x], [t]) => [f(x), t]);
    // custom_jvp_call has no transpose rule: linearity comes from its jvp; a direct transpose must fail clearly.
    expect(() => linearTranspose((x: any) => f(x), x3)(x3)).toThrow(/primitive 'custom_jvp_call' has no transpose rule, so transpose \(reverse-mode differentiation\) cannot pass through it/);
  });
});
