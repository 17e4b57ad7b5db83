/**
 * The tiny-transformer example (`pnpm example tiny-transformer`), shrunk: a few jitted Adam
 * steps make the next-character loss fall from log(vocabulary), and sampling gives text
 * from the vocabulary after the prompt.
 */
import { describe, expect, it } from "vitest";
import { np, random } from "@cotangent/core";
import { loadText, train, transformer, vocabulary, DEFAULTS } from "../packages/examples/src/tiny_transformer.js";

describe("tiny-transformer example", () => {
  it("trains: the loss falls well below uniform guessing, and it samples from the vocabulary", () => {
    const r = train({ steps: 40, dModel: 16, numHeads: 2, numLayers: 1, context: 16, batchSize: 8, learningRate: 1e-2, logEvery: 10, sampleLength: 20, quiet: true });
    const vocab = vocabulary(loadText());
    expect(r.initialLoss).toBeCloseTo(Math.log(vocab.size), 1);
    expect(r.losses).toHaveLength(4);
    expect(r.losses[3]!).toBeLessThan(r.initialLoss - 0.8);
    expect(r.losses[3]!).toBeLessThan(r.losses[0]!);
    expect(r.sample.startsWith("Shall I")).toBe(true);
    expect(r.sample).toHaveLength("Shall I".length + 20);
    expect([...r.sample].every((ch) => loadText().includes(ch))).toBe(true);
  });
  it("is causal: changing a later character leaves the logits of earlier positions unchanged", () => {
    const c = { ...DEFAULTS, dModel: 16, numHeads: 2, numLayers: 1, context: 8 };
    const model = transformer(c, 10);
    const p = model.init(random.key(0));
    const a = np.array([[1, 2, 3, 4, 5, 6, 7, 8]], { dtype: "int32" });
    const b = np.array([[1, 2, 3, 4, 5, 9, 9, 9]], { dtype: "int32" });
    const first = (x: ReturnType<typeof model.apply>) => np.index(x, [0, np.sl(0, 5)]).toArray();
    expect(first(model.apply(p, b))).toEqual(first(model.apply(p, a)));
  });
});
