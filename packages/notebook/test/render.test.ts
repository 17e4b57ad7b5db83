import { describe, expect, it } from "vitest";
import { checkpoint, grad, lax, makeJaxpr, np } from "@cotangent/core";
import { type MimeBundle, graphBundle, showGraph, heatmapSpec, histogramSpec, lineSpec, plotLine, progress, scatterSpec, setDisplaySink, specBundle } from "@cotangent/notebook";

/** The fill colour of every node's shape (ellipse or polygon; plain-text nodes have none), lower-cased. */
const nodeFills = (svg: string): string[] =>
  [...svg.matchAll(/<g id="node\d+" class="node">([\s\S]*?)<\/g>/g)].flatMap((g) =>
    [...g[1]!.matchAll(/<(?:ellipse|polygon|path)[^>]*fill="([^"]+)"/g)].map((m) => m[1]!.toLowerCase()),
  );

describe("showGraph", () => {
  it("showGraph displays the SVG with the DOT source as text", async () => {
    const shown: MimeBundle[] = [];
    const prev = setDisplaySink((b) => shown.push(b));
    try {
      await showGraph((x: any) => np.sin(x), np.ones([2]));
    } finally {
      setDisplaySink(prev);
    }
    expect(shown).toHaveLength(1);
    expect(shown[0]!["text/plain"]).toMatch(/^digraph "jaxpr"/);
    expect(shown[0]!["image/svg+xml"]).toContain(">sin<");
  });
  it("renders the IR to SVG with no black-filled nodes", async () => {
    const f = (x: any) => np.sum(np.tanh(np.multiply(x, x)));
    const b = await graphBundle(grad(f), [np.ones([3])]);
    expect(b["text/plain"]).toMatch(/^digraph/);
    const svg = b["image/svg+xml"]!;
    expect(svg).toContain("<svg");
    const fills = nodeFills(svg);
    expect(fills.length).toBeGreaterThan(5);
    for (const c of fills) expect(["black", "#000000", "#000"]).not.toContain(c);
    expect(svg).toContain("tanh");
  });
  it("draws sub-jaxprs (checkpoint, scan) as clusters", async () => {
    const inner = checkpoint((x: any) => np.sin(np.sin(x)));
    const j = makeJaxpr((x: any) => {
      const [c] = lax.scan((c: any, _x: any) => [np.cos(c), c], x, null, { length: 2 }) as any;
      return inner(c);
    })(np.ones([2]));
    const b = await graphBundle(j);
    expect((b["image/svg+xml"]!.match(/class="cluster"/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(b["text/plain"]).toContain("subgraph cluster_0");
    for (const c of nodeFills(b["image/svg+xml"]!)) expect(c).not.toBe("black");
  });
});

describe("plots (Vega-Lite rendered by vega)", () => {
  it("line: several series on a log axis", async () => {
    const spec = lineSpec({ train: [1, 0.1, 0.01], test: np.array([2, 0.5, 0.2]) }, { logY: true, title: "loss" });
    expect((spec.encoding as any).y.scale).toEqual({ type: "log" });
    expect((spec.data as any).values).toHaveLength(6);
    const b = await specBundle(spec);
    expect(b["text/plain"]).toBe('<line chart "loss": 6 points>');
    expect(b["image/svg+xml"]).toMatch(/^<svg/);
    // Both series are drawn as paths, and the legend names them.
    expect((b["image/svg+xml"]!.match(/class="mark-line/g) ?? []).length).toBe(2);
    expect(b["image/svg+xml"]).toContain(">train<");
    expect(b["image/svg+xml"]).toContain(">test<");
    expect(b["image/svg+xml"]).toContain(">0.01<");
  });
  it("histogram: one chart per named array", async () => {
    const spec = histogramSpec({ layer0: np.linspace(0, 1, 50), layer1: [1, 2, 2, 3] });
    expect((spec.facet as any).sort).toEqual(["layer0", "layer1"]);
    const svg = (await specBundle(spec))["image/svg+xml"]!;
    expect(svg).toContain(">layer0<");
    expect(svg).toContain(">layer1<");
    expect(svg).toContain('class="mark-rect');
  });
  it("scatter and heat map", async () => {
    const s = await specBundle(scatterSpec([1, 2, 3], np.array([3, 1, 2]), { color: ["a", "b", "a"] }));
    expect((s["image/svg+xml"]!.match(/<path[^>]*class="?[^>]*/g) ?? []).length).toBeGreaterThan(0);
    expect(s["image/svg+xml"]).toContain('class="mark-symbol');
    const h = heatmapSpec(np.arange(6).reshape([2, 3]));
    expect((h.data as any).values).toEqual([0, 1, 2, 3, 4, 5].map((v) => ({ row: Math.floor(v / 3), col: v % 3, v })));
    const hb = await specBundle(h);
    expect(hb["image/svg+xml"]).toContain('class="mark-rect');
  });
  it("plotLine displays the chart", async () => {
    const shown: MimeBundle[] = [];
    const prev = setDisplaySink((b) => shown.push(b));
    try {
      expect(await plotLine([3, 2, 1])).toBeUndefined();
      expect(shown).toEqual([await specBundle(lineSpec([3, 2, 1]))]);
    } finally {
      setDisplaySink(prev);
    }
  });
});

describe("progress", () => {
  it("updates one output in place, with the loss and rate, and redraws the loss curve", async () => {
    const shown: { b: MimeBundle; id: string | null; update: boolean }[] = [];
    const prev = setDisplaySink((b, id, update) => shown.push({ b, id, update }));
    let t = 0;
    try {
      const p = progress(4, { label: "train", plotEvery: 2, now: () => (t += 250) });
      for (let i = 1; i <= 4; i++) p.update(i, { loss: 1 / i });
      await p.close();
      const bar = shown.filter((s) => s.b["text/html"]?.includes("<progress"));
      expect(new Set(bar.map((s) => s.id)).size).toBe(1);
      expect(bar[0]!.update).toBe(false);
      expect(bar.slice(1).every((s) => s.update)).toBe(true);
      expect(bar.at(-1)!.b["text/plain"]).toMatch(/^train \[#{30}\] 4\/4  loss 0\.2500  [\d.]+ it\/s  done in [\d.]+ s$/);
      const plots = shown.filter((s) => s.b["image/svg+xml"]);
      expect(plots).toHaveLength(2);
      expect(plots[0]!.id).toBe(plots[1]!.id);
      expect(plots.map((s) => s.update)).toEqual([false, true]);
      expect(p.losses).toEqual([1, 0.5, 1 / 3, 0.25]);
    } finally {
      setDisplaySink(prev);
    }
  });
});
