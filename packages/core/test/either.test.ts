/**
 * Errors as values: attempt and the E variants return, as Left, the very error the plain
 * function throws, and rethrow anything that is not a CotangentError.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isLeft, isRight } from "fp-ts/lib/Either.js";
import { CotangentError, ShapeError, ValueError, arrayE, attempt, deserializeE, loadE, np, saveE, serialize } from "@cotangent/core";

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
};

describe("attempt", () => {
  it("returns Right of the result and Left of the CotangentError, the same error the plain call throws", () => {
    const reshape = attempt(np.reshape);
    const ok = reshape(np.ones([6]), [2, 3]);
    expect(isRight(ok) && ok.right.shape).toEqual([2, 3]);
    const bad = reshape(np.ones([6]), [4, 2]);
    expect(isLeft(bad)).toBe(true);
    const e = thrown(() => np.reshape(np.ones([6]), [4, 2])) as Error;
    if (!isLeft(bad)) throw new Error("expected Left");
    expect(bad.left).toBeInstanceOf(ShapeError);
    expect(bad.left.constructor).toBe(e.constructor);
    expect(bad.left.message.split("\n")[0]).toBe(e.message.split("\n")[0]);
  });

  it("rethrows an error that is not a CotangentError (a bug, not bad input)", () => {
    const boom = attempt(() => {
      throw new TypeError("bug");
    });
    expect(() => boom()).toThrow(TypeError);
  });
});

describe("E variants", () => {
  it("arrayE and deserializeE", () => {
    expect(isRight(arrayE([[1, 2], [3, 4]]))).toBe(true);
    const ragged = arrayE([[1, 2], [3]] as never);
    expect(isLeft(ragged) && ragged.left).toBeInstanceOf(ValueError);
    const bytes = serialize({ w: np.ones([2]) });
    const back = deserializeE<{ w: ReturnType<typeof np.ones> }>(bytes);
    expect(isRight(back) && back.right.w.toArray()).toEqual([1, 1]);
    const cut = deserializeE(bytes.subarray(0, 20));
    expect(isLeft(cut) && cut.left.message).toMatch(/truncated/);
    const like = deserializeE(bytes, { like: { w: np.ones([3]) } });
    expect(isLeft(like) && like.left.message).toMatch(/shape \[2\], expected \[3\]/);
  });

  it("saveE and loadE are TaskEithers that resolve to Left on bad paths and files, never reject", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cotangent-either-"));
    try {
      const path = join(dir, "s.ctg");
      expect(isRight(await saveE(path, { a: np.arange(3) })())).toBe(true);
      const r = await loadE<{ a: ReturnType<typeof np.arange> }>(path)();
      expect(isRight(r) && r.right.a.toArray()).toEqual([0, 1, 2]);
      const missing = await loadE(join(dir, "nope.ctg"))();
      expect(isLeft(missing) && missing.left).toBeInstanceOf(CotangentError);
      const unsavable = await saveE(join(dir, "x.ctg"), { f: () => 1 })();
      expect(isLeft(unsavable) && unsavable.left).toBeInstanceOf(ValueError);
      const noDir = await saveE(join(dir, "missing", "x.ctg"), {})();
      expect(isLeft(noDir) && noDir.left.message).toMatch(/missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
