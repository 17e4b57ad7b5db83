import { describe, expect, it } from "vitest";
import { ValueError, grad, makeJaxpr, np, random } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { type MimeBundle, arrayBundle, errorBundle, formatError, jaxprBundle, render, setDisplaySink, show } from "@cotangent/notebook";

const capture = <T>(fn: () => T): { result: T; shown: { bundle: MimeBundle; id: string | null; update: boolean }[] } => {
  const shown: { bundle: MimeBundle; id: string | null; update: boolean }[] = [];
  const prev = setDisplaySink((bundle, id, update) => shown.push({ bundle, id, update }));
  try {
    return { result: fn(), shown };
  } finally {
    setDisplaySink(prev);
  }
};

const cells = (html: string) => [...html.matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);

describe("show: arrays", () => {
  it("a matrix is a table with a dtype[shape] caption and a text fallback", () => {
    const x = np.arange(12).reshape([3, 4]).astype("float32");
    const b = arrayBundle(x);
    expect(b["text/html"]).toContain("<caption");
    expect(b["text/html"]).toContain("float32[3,4]");
    expect(cells(b["text/html"]!)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
    expect((b["text/html"]!.match(/<tr>/g) ?? []).length).toBe(3);
    expect(b["text/plain"]).toBe(`float32[3,4]\n${x.toString()}`);
  });
  it("large arrays are summarised as NumPy does: 3 items at each end of each axis", () => {
    const x = np.arange(100 * 50).reshape([100, 50]).astype("float32");
    const html = arrayBundle(x)["text/html"]!;
    expect((html.match(/<tr>/g) ?? []).length).toBe(7);
    const first = cells(html.split("</tr>")[0]!);
    expect(first).toEqual(["0", "1", "2", "…", "47", "48", "49"]);
    expect(html).toContain("⋮");
    expect(cells(html)).toContain("4999");
    expect(html.length).toBeLessThan(5000);
  });
  it("rank-3 arrays show one labelled matrix per leading index; heat maps colour cells", () => {
    const html = arrayBundle(np.ones([2, 2, 2]), { heatmap: true })["text/html"]!;
    expect(html).toContain("[0, :, :]");
    expect(html).toContain("[1, :, :]");
    expect(html).toContain("background:rgb(");
  });
  it("scalars, ints and bools format plainly; tiny and huge floats use exponents", () => {
    expect(cells(arrayBundle(np.array([true, false]))["text/html"]!)).toEqual(["true", "false"]);
    expect(cells(arrayBundle(np.array([1e-7, 2.5e8, 0.125], { dtype: "float64" }))["text/html"]!)).toEqual(["1.000e-7", "2.500e+8", "0.125"]);
    expect(arrayBundle(np.array(3, { dtype: "int32" }))["text/html"]).toContain("int32[]");
  });
});

describe("show: jaxprs, gradient flow, pytrees", () => {
  it("a jaxpr is a collapsible highlighted listing with its text as fallback", () => {
    const j = makeJaxpr((x: any) => np.sum(np.sin(x)))(np.ones([3]));
    const b = jaxprBundle(j);
    expect(b["text/plain"]).toBe(j.toString());
    expect(b["text/html"]).toMatch(/^<details open><summary[^>]*>jaxpr \(f32\[3\]\) -&gt; \(f32\[\]\) · 2 equations<\/summary>/);
    expect(b["text/html"]).toContain('<span style="color:#1f5fa8">sin</span>');
    expect(b["text/html"]).toContain('<span style="color:#1f5fa8">reduce_sum</span><span style="color:#888">[axes=(0,)]</span>');
    expect(b["text/html"]).toContain('<span style="color:#7a3e9d">lambda</span>');
  });
  it("a gradient-flow report shows as its chart", () => {
    const model = nn.mlp([4, 8, 1]);
    const params = model.init(random.key(0));
    const grads = grad((p: any) => np.sum(model.apply(p, np.ones([2, 4]))))(params);
    const b = render(nn.gradientFlow(params, grads));
    expect(b["image/svg+xml"]).toMatch(/^<svg/);
    expect(b["text/plain"]).toContain("|grad|");
  });
  it("pytrees of arrays and jaxprs render each leaf, with a text fallback", () => {
    const tree = { w: np.zeros([2, 2]), b: [np.ones([2]), 3] };
    const b = render(tree);
    expect(b["text/html"]).toContain("float32[2,2]");
    expect(b["text/html"]).toContain("float32[2]");
    expect(b["text/html"]).toContain("<pre>3</pre>");
    expect(b["text/plain"]).toContain("w: float32[2,2]");
    expect(b["text/plain"]).toContain("1: 3");
    expect(render("hello")).toEqual({ "text/plain": "hello" });
  });
  it("show sends the bundle to the display (the kernel, or a sink)", () => {
    const { result, shown } = capture(() => show(np.ones([2])));
    expect(result).toBeUndefined();
    expect(shown).toEqual([{ bundle: render(np.ones([2])), id: null, update: false }]);
  });
});

describe("errors", () => {
  it("are shown as Name: message, the hint, and user frames only", () => {
    let err: unknown;
    try {
      np.reshape(np.ones([6]), [4]);
    } catch (e) {
      err = e;
    }
    const text = formatError(err);
    expect(text.split("\n")[0]).toMatch(/^ShapeError: /);
    expect(text).not.toMatch(/packages\/core\/src|node_modules|node:internal/);
    expect(text).toMatch(/show\.test\.ts:\d+/);
    // The message's own `at` line is not repeated as a frame.
    const at = text.split("\n").find((l) => l.startsWith("  at "))!;
    expect(text.split("\n").filter((l) => l.trim() === at.trim())).toHaveLength(1);
    expect(text.match(/hint:/g)?.length ?? 0).toBeLessThanOrEqual(1);
    const html = errorBundle(new ValueError("bad", { op: "f", hint: "do this" }))["text/html"]!;
    expect(html).toContain('<b style="color:#b2182b">ValueError</b>: f: bad');
    expect(html.match(/do this/g)).toHaveLength(1);
    expect(formatError("x")).toBe("Thrown: x");
  });
});
