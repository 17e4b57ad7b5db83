/**
 * Gradient-flow diagnostics: the numbers against direct computation, each flag at its
 * documented threshold, the text table and the SVG chart, and bad inputs.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, ValueError, grad, np, random, tree } from "@cotangent/core";
import * as nn from "@cotangent/nn";

const norm = (...xs: ArrayBase[]) => Math.sqrt(xs.reduce((s, x) => s + (Array.from(x.toTypedArray()) as number[]).reduce((a, v) => a + v * v, 0), 0));
const full = (shape: number[], v: number) => np.full(shape, v, { dtype: "float64" });

describe("gradientFlow data", () => {
  it("computes per-layer norms and ratios like a direct computation", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.nat(1000), (nLayers, seed) => {
        const model = nn.mlp(Array.from({ length: nLayers + 1 }, (_, i) => 2 + ((seed + i) % 3)), { dtype: "float64" });
        const params = model.init(random.key(seed));
        const x = random.normal(random.key(seed + 1), [5, params[0]!.w.shape[0]!], { dtype: "float64" });
        const grads = grad((p: nn.DenseParams[]) => np.sum(np.square(model.apply(p, x))))(params);
        const updates = tree.map((g: ArrayBase) => np.multiply(g, -0.01), grads);
        const flow = nn.gradientFlow(params, grads, { updates });
        expect(flow.layers.map((l) => l.name)).toEqual(params.map((_, i) => `[${i}]`));
        flow.layers.forEach((l, i) => {
          const p = params[i]!;
          const g = grads[i]!;
          expect(l.size).toBe(p.w.size + p.b!.size);
          expect(l.paramNorm).toBeCloseTo(norm(p.w, p.b!), 12);
          expect(l.gradNorm).toBeCloseTo(norm(g.w, g.b!), 12);
          expect(l.updateNorm!).toBeCloseTo(0.01 * norm(g.w, g.b!), 12);
          expect(l.updateRatio!).toBeCloseTo((0.01 * norm(g.w, g.b!)) / norm(p.w, p.b!), 12);
        });
        expect(flow.globalGradNorm).toBeCloseTo(norm(...tree.leaves<ArrayBase>(grads)), 12);
      }),
      { numRuns: 15 },
    );
  });

  it("groups by key path at the requested depth and skips non-float leaves", () => {
    const params = { enc: { w: full([2, 2], 1), b: full([2], 0) }, dec: { w: full([3], 2) }, key: random.key(0), step: 3 };
    const grads = { enc: { w: full([2, 2], 0.5), b: full([2], 0.5) }, dec: { w: full([3], 1) }, key: random.key(0), step: 0 };
    const top = nn.gradientFlow(params, grads);
    expect(top.layers.map((l) => [l.name, l.size])).toEqual([["dec", 3], ["enc", 6]]);
    expect(top.layers[1]!.gradNorm).toBeCloseTo(Math.sqrt(6 * 0.25), 15);
    expect(top.layers[0]!.updateRatio).toBe(null);
    const deep = nn.gradientFlow(params, grads, { depth: 2 });
    expect(deep.layers.map((l) => l.name)).toEqual(["dec.w", "enc.b", "enc.w"]);
    const root = nn.gradientFlow(full([2], 3), full([2], 4));
    expect(root.layers).toEqual([{ name: "(root)", size: 2, paramNorm: Math.sqrt(18), gradNorm: Math.sqrt(32), updateNorm: null, updateRatio: null, flags: [] }]);
  });

  it("flags vanishing, exploding and non-finite gradients at the documented thresholds", () => {
    expect(nn.DEFAULT_THRESHOLDS).toEqual({ vanishingNorm: 1e-7, vanishingRatio: 1e-4, explodingNorm: 1e3 });
    const params = { a: full([1], 1), b: full([1], 1), c: full([1], 1), d: full([1], 1), e: full([4], 1), f: full([1], 1) };
    const grads = {
      a: full([1], 0.5), // fine
      b: full([1], 9e-8), // below the absolute floor
      c: full([1], 2e3), // exploding
      d: full([1], 1e-1), // 1e-1 / 2e3 = 5e-5 < 1e-4: vanishing relative to the largest
      e: np.array([1, NaN, 0, 0], { dtype: "float64" }),
      f: full([1], 0.3), // 0.3 / 2e3 = 1.5e-4: fine
    };
    const flow = nn.gradientFlow(params, grads);
    expect(Object.fromEntries(flow.layers.map((l) => [l.name, l.flags]))).toEqual({ a: [], b: ["vanishing"], c: ["exploding"], d: ["vanishing"], e: ["nonfinite"], f: [] });
    expect(Number.isNaN(flow.layers[4]!.gradNorm)).toBe(true);
    // Exactly at a threshold is not beyond it.
    const edge = nn.gradientFlow({ x: full([1], 1), y: full([1], 1) }, { x: full([1], 1e3), y: full([1], 1e-7) }, { thresholds: { vanishingRatio: 0 } });
    expect(edge.layers.map((l) => l.flags)).toEqual([[], []]);
    // Custom thresholds.
    const custom = nn.gradientFlow({ x: full([1], 1) }, { x: full([1], 5) }, { thresholds: { explodingNorm: 4 } });
    expect(custom.layers[0]!.flags).toEqual(["exploding"]);
  });

  it("reports the update ratio of zero params as 0 or Infinity", () => {
    const z = nn.gradientFlow({ a: full([2], 0), b: full([2], 0) }, { a: full([2], 1), b: full([2], 1) }, { updates: { a: full([2], 0), b: full([2], 1) } });
    expect(z.layers.map((l) => l.updateRatio)).toEqual([0, Infinity]);
  });

  it("errors", () => {
    const p = { w: full([2], 1) };
    expect(() => nn.gradientFlow(p, { v: full([2], 1) })).toThrow(ValueError);
    expect(() => nn.gradientFlow(p, { v: full([2], 1) })).toThrow(/nn.gradientFlow: grads have structure \{v: \*\}, which differs from the params' \{w: \*\}[^]*hint: pass the grads of these very params/);
    expect(() => nn.gradientFlow(p, p, { updates: [1] })).toThrow(/nn.gradientFlow: updates have structure \[\*\], which differs from the params' \{w: \*\}/);
    expect(() => nn.gradientFlow(p, { w: full([3], 1) })).toThrow(/nn.gradientFlow: the gradient at w has shape \[3\], but the parameter has shape \[2\]/);
    expect(() => nn.gradientFlow(p, { w: 1 })).toThrow(/the gradient at w is number, but the parameter has shape \[2\]/);
    expect(() => nn.gradientFlow(p, p, { depth: 0 })).toThrow(/nn.gradientFlow: depth must be a positive integer, got 0/);
    expect(() => nn.gradientFlow(p, p, { thresholds: { explodingNorm: -1 } })).toThrow(/nn.gradientFlow: threshold explodingNorm must be a non-negative number, got -1/);
  });
});

describe("formatGradientFlow", () => {
  const params = { "layer<1>": { w: full([300, 10], 0.1) }, out: { w: full([10], 1) } };
  const grads = { "layer<1>": { w: full([300, 10], 1e-12) }, out: { w: full([10], 0.5) } };
  const updates = tree.map((g: ArrayBase) => np.multiply(g, 0.1), grads);

  it("prints an aligned table with names, numbers, flags and thresholds", () => {
    const text = nn.formatGradientFlow(nn.gradientFlow(params, grads, { updates }));
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^layer\s+params\s+\|param\|\s+\|grad\|\s+\|update\|\/\|param\|\s+flags$/);
    expect(lines[1]).toMatch(/^layer<1>\s+3,000\s+5\.48e\+0\s+5\.48e-11\s+1\.00e-12\s+vanishing$/);
    expect(lines[2]).toMatch(/^out\s+10\s+3\.16e\+0\s+1\.58e\+0\s+5\.00e-2$/);
    // Numbers are right-aligned: each column ends at the same place on every row.
    for (const cell of ["params", "|param|", "|grad|", "|update|/|param|"]) {
      const end = lines[0]!.indexOf(cell) + cell.length;
      for (const row of lines.slice(1, 3)) expect(row[end - 1]).toMatch(/\d/);
      for (const row of lines.slice(1, 3)) expect(row[end] ?? " ").toBe(" ");
    }
    expect(lines[3]).toBe("global |grad| 1.58e+0");
    expect(lines[4]).toBe(
      "flags: vanishing if |grad| < 1.00e-7 or < 1.00e-4 x the largest |grad| (1.58e-4); exploding if |grad| > 1.00e+3; nonfinite if a gradient is NaN or infinite",
    );
  });

  it("leaves out the update column without updates", () => {
    const text = nn.formatGradientFlow(nn.gradientFlow(params, grads));
    expect(text).not.toContain("update");
    expect(text.split("\n")[0]).toMatch(/^layer\s+params\s+\|param\|\s+\|grad\|\s+flags$/);
  });
});

describe("gradientFlowSvg", () => {
  it("renders a well-formed SVG with every layer, its flags and the thresholds", () => {
    const params = { "a&b": full([2], 1), big: full([2], 1), nan: full([2], 1), zero: full([2], 1) };
    const grads = { "a&b": full([2], 1e-9), big: full([2], 5e3), nan: np.array([NaN, 1], { dtype: "float64" }), zero: full([2], 0) };
    const svg = nn.gradientFlowSvg(nn.gradientFlow(params, grads, { updates: grads }), { title: "Flow <test>", width: 600 });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="600"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("Flow &lt;test&gt;");
    expect(svg).toContain('data-name="a&amp;b" data-flags="vanishing"');
    expect(svg).toContain('data-name="big" data-flags="exploding"');
    expect(svg).toContain('data-name="nan" data-flags="nonfinite"');
    expect(svg).toContain('data-name="zero" data-flags="vanishing"');
    expect(svg).toContain(">a&amp;b</text>");
    expect(svg).toContain("vanishing &lt; 1.00e-7");
    expect(svg).toContain("exploding &gt; 1.00e+3");
    expect(svg).not.toMatch(/NaN"|Infinity"/); // no NaN coordinates
    // Tags balance (a small well-formedness check: every opened element is closed in order).
    const stack: string[] = [];
    for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      if (m[3]) continue;
      if (m[1]) expect(stack.pop()).toBe(m[2]);
      else stack.push(m[2]!);
    }
    expect(stack).toEqual([]);
    // Bars grow with the gradient norm.
    const width = (name: string) => Number(new RegExp(`data-name="${name}"[^]*?<rect x="[\\d.]+" y="[\\d.]+" width="([\\d.]+)"`).exec(svg)![1]);
    expect(width("big")).toBeGreaterThan(width("a&amp;b"));
    expect(width("zero")).toBe(0);
  });
  it("handles an empty report", () => {
    const svg = nn.gradientFlowSvg(nn.gradientFlow({ step: 1 }, { step: 0 }));
    expect(svg).toContain("no float parameters");
  });
});
