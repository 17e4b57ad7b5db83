/**
 * Errors as users see them: the stack starts at the user's call (the library's own frames
 * are dropped), and printing an error shows it once (no fields repeated after the stack).
 */
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { CotangentError, DecodeError, FloatingPointError, ShapeError, TransformError, codecs, grad, jit, np, vmap, withDebugNans } from "@cotangent/core";

const INTERNAL = /packages[\\/](core|optim|nn|onnx|notebook)[\\/](src|dist)[\\/]/;
// Frames are indented four spaces; the message's own `  at file:line` line two.
const frames = (e: Error): string[] => e.stack!.split("\n").filter((l) => /^ {4}at /.test(l));
const caught = (f: () => unknown): CotangentError => {
  try {
    f();
  } catch (e) {
    return e as CotangentError;
  }
  throw new Error("expected a throw");
};

// A user's helper, to check that the user's own frames stay, in order.
function userHelper(): unknown {
  return np.reshape(np.ones([6]), [4]);
}

describe("error stacks", () => {
  it("drop the library's frames and keep the user's, innermost first", () => {
    const e = caught(() => userHelper());
    expect(e).toBeInstanceOf(ShapeError);
    const fs = frames(e);
    expect(fs.filter((l) => INTERNAL.test(l))).toEqual([]);
    expect(fs[0]).toMatch(/at userHelper \(.*error_stacks\.test\.ts:\d+:\d+\)/);
    expect(fs[1]).toMatch(/error_stacks\.test\.ts/);
    // The header is the message, once.
    expect(e.stack!.startsWith(`ShapeError: ${e.message}\n`)).toBe(true);
  });

  it("inside transforms too: the frames of grad, vmap and jit (and the interpreter) are gone", () => {
    for (const run of [
      () => grad((x: any) => np.reshape(x, [4]))(np.ones([6])),
      () => vmap((x: any) => np.matmul(x, np.ones([3, 2])))(np.ones([5, 4])),
      () => jit((x: any) => np.add(x, np.ones([3])))(np.ones([4])),
    ]) {
      const e = caught(run);
      expect(e).toBeInstanceOf(CotangentError);
      const fs = frames(e);
      expect(fs.length).toBeGreaterThan(0);
      expect(fs.filter((l) => INTERNAL.test(l))).toEqual([]);
      expect(fs[0]).toMatch(/error_stacks\.test\.ts/);
    }
  });

  it("a message extended after construction shows in the stack (FloatingPointError inside a scan)", () => {
    const e = caught(() => withDebugNans(() => grad((x: any) => np.sum(np.log(np.subtract(x, 1))))(np.zeros([2]))));
    expect(e).toBeInstanceOf(FloatingPointError);
    expect(e.stack!.startsWith(`FloatingPointError: ${e.message}\n`)).toBe(true);
    const fp = new FloatingPointError("nan", { primitive: "log", equation: "b = log a", forwardEquation: null, forwardSource: null }, { op: "log", source: null });
    fp.addWithin("scan at main.ts:9");
    expect(fp.stack!.split("\n").slice(0, 2)).toEqual(["FloatingPointError: log: nan", "  inside scan at main.ts:9"]);
  });

  it("a stack the user sets is kept as set", () => {
    const e = new TransformError("x", { source: null });
    e.stack = "custom";
    expect(e.stack).toBe("custom");
  });
});

describe("errors print once", () => {
  it("inspect shows the stack, with no fields after it, for every kind of Cotangent error", () => {
    const decode = caught(() => codecs.decodeOrThrow(codecs.tree({ w: codecs.array({ shape: [2], dtype: "float32" }) }), { w: [1, 2, 3] }));
    expect(decode).toBeInstanceOf(DecodeError);
    for (const e of [caught(() => userHelper()), decode, new FloatingPointError("nan", { primitive: "log", equation: "b = log a", forwardEquation: null, forwardSource: null }, { op: "log", hint: "look" })]) {
      const printed = inspect(e);
      expect(printed).toBe(e.stack);
      expect(printed.split(e.message).length - 1).toBe(1);
      expect(printed).not.toMatch(/\{\s*$|failures:|primitive:|hint: undefined/m);
    }
  });
});
