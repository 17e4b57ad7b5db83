/**
 * The training example, stopped after one epoch and resumed from its save, ends exactly
 * (bit for bit) where an uninterrupted run ends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tree, type NDArray } from "@cotangent/core";
import { train } from "../packages/examples/src/mnist.js";
import { train as trainCnn } from "../packages/examples/src/mnist_cnn.js";

describe("mnist example", () => {
  it("a run stopped and resumed from its last save continues exactly as one that never stopped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cotangent-mnist-"));
    try {
      const small = { epochs: 3, limit: 512, batchSize: 64, hidden: [32], quiet: true };
      const straight = await train({ ...small, statePath: join(dir, "a.bin"), fresh: true });
      const first = await train({ ...small, statePath: join(dir, "b.bin"), fresh: true, stopAfterEpoch: 1 });
      expect(first.epochsRun).toBe(1);
      const resumed = await train({ ...small, statePath: join(dir, "b.bin") });
      expect(resumed.epochsRun).toBe(2);
      const a = tree.leaves<NDArray>(straight.params).map((x) => Array.from(x.toTypedArray()));
      const b = tree.leaves<NDArray>(resumed.params).map((x) => Array.from(x.toTypedArray()));
      expect(b).toEqual(a);
      expect(resumed.testAccuracy).toBe(straight.testAccuracy);
      expect(straight.flowTable).toContain("[0]");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs a one-epoch job, and refuses to resume from a save of another model size with a clear error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cotangent-mnist-"));
    try {
      const small = { limit: 128, batchSize: 64, quiet: true, statePath: join(dir, "s.bin") };
      // One epoch: the warmup must be shorter than the run, or the schedule is refused.
      const one = await train({ ...small, epochs: 1, hidden: [8], fresh: true });
      expect(one.epochsRun).toBe(1);
      await expect(train({ ...small, epochs: 2, hidden: [4] })).rejects.toThrow(/does not match the template[\s\S]*\[0\]\.w: shape \[784, 8\], expected \[784, 4\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("mnist-cnn example", () => {
  it("trains the LeNet-style network through the shared loop, and resumes bit for bit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cotangent-mnist-cnn-"));
    try {
      const small = { epochs: 2, limit: 96, batchSize: 32, quiet: true };
      const straight = await trainCnn({ ...small, statePath: join(dir, "a.bin"), fresh: true });
      await trainCnn({ ...small, statePath: join(dir, "b.bin"), fresh: true, stopAfterEpoch: 1 });
      const resumed = await trainCnn({ ...small, statePath: join(dir, "b.bin") });
      expect(resumed.epochsRun).toBe(1);
      const leaves = (p: unknown) => tree.leaves<NDArray>(p).map((x) => Array.from(x.toTypedArray()));
      expect(leaves(resumed.params)).toEqual(leaves(straight.params));
      // conv 5×5×1×8 + 8, conv 5×5×8×16 + 16, dense 784·128 + 128, 128·10 + 10
      expect(tree.leaves<NDArray>(straight.params).reduce((s, x) => s + x.size, 0)).toBe(105_194);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
