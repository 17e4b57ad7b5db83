import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  FloatingPointError,
  CotangentError,
  ValueError,
  config,
  grad,
  jvp,
  lax,
  np,
  vmap,
  checkpoint,
  customVjp,
  withConfig,
  withDebugInfs,
  withDebugNans,
} from "@cotangent/core";
import { nanCheckCounter } from "../src/nan_check.js";

/** `debug_nans.test.ts:<line>` of the line holding `// @marker`, as error messages name it. */
const lines = readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n");
const at = (marker: string): string => {
  const i = lines.findIndex((l) => l.includes(`// @${marker}`));
  if (i < 0) throw new Error(`no marker ${marker}`);
  return `debug_nans.test.ts:${i + 1}`;
};

/** The FloatingPointError `work` throws. */
const fpe = (work: () => unknown): FloatingPointError => {
  try {
    work();
  } catch (e) {
    expect(e).toBeInstanceOf(FloatingPointError);
    expect(e).toBeInstanceOf(CotangentError);
    return e as FloatingPointError;
  }
  throw new Error("expected a FloatingPointError, but nothing was thrown");
};

afterEach(() => {
  config.update("debugNans", false);
  config.update("debugInfs", false);
});

describe("config", () => {
  it("updates and reads the flags", () => {
    expect(config.read("debugNans")).toBe(false);
    config.update("debugNans", true);
    expect(config.read("debugNans")).toBe(true);
    config.update("debugNans", false);
    expect(config.read("debugInfs")).toBe(false);
  });
  it("rejects an unknown key with a did-you-mean, and a non-boolean value", () => {
    expect(() => config.update("debugNan" as any, true)).toThrow(ValueError);
    expect(() => config.update("debugNan" as any, true)).toThrow(/unknown setting 'debugNan'[\s\S]*did you mean 'debugNans'/);
    expect(() => config.read("debug_infs" as any)).toThrow(/did you mean 'debugInfs'/);
    expect(() => config.update("jax_debug_nans" as any, true)).toThrow(/did you mean 'debugNans'/);
    expect(() => config.update("colour" as any, true)).toThrow(/the settings are 'debugNans', 'debugInfs'/);
    expect(() => config.update("debugNans", "yes" as any)).toThrow(/setting 'debugNans' takes true or false, got 'yes'/);
    expect(() => withConfig({ debugNams: true } as any, () => 0)).toThrow(/did you mean 'debugNans'/);
  });
  it("scopes withDebugNans / withDebugInfs, restoring the flags after a throw", () => {
    expect(withDebugNans(() => config.read("debugNans"))).toBe(true);
    expect(config.read("debugNans")).toBe(false);
    expect(() => withDebugInfs(() => { throw new Error("boom"); })).toThrow("boom");
    expect(config.read("debugInfs")).toBe(false);
    expect(withConfig({ debugNans: true, debugInfs: true }, () => [config.read("debugNans"), config.read("debugInfs")])).toEqual([true, true]);
  });
});

describe("debugNans in eager code and the interpreter", () => {
  it("names the primitive, the equation and the user's line of a forward NaN", () => {
    const x = np.array([1, -1]);
    const e = fpe(() => withDebugNans(() => np.sum(np.log(x)))); // @eager-log
    expect(e.primitive).toBe("log");
    expect(e.equation).toBe("b:f32[2] = log a");
    expect(e.forwardEquation).toBeNull();
    expect(e.source).toContain(at("eager-log"));
    expect(e.message).toContain("log: invalid value (nan) encountered in log: 1 of 2 elements of the output of log");
    expect(e.message).toContain("equation: b:f32[2] = log a");
  });
  it("leaves NaNs alone when the flag is off, and makes no check at all", () => {
    const before = nanCheckCounter.checks;
    const y = np.log(np.array([-1]));
    const g = grad((x: any) => np.sum(np.sqrt(x)))(np.array([-1, 4]));
    expect(Number.isNaN(y.item())).toBe(true);
    expect(g.toArray()[1]).toBeCloseTo(0.25);
    expect(nanCheckCounter.checks).toBe(before);
    withDebugNans(() => np.exp(np.array([1])));
    expect(nanCheckCounter.checks).toBeGreaterThan(before);
  });
  it("debugNans ignores infinities; debugInfs catches them", () => {
    const x = np.array([1000]);
    expect(withDebugNans(() => np.exp(x)).item()).toBe(Infinity);
    const e = fpe(() => withDebugInfs(() => np.exp(x))); // @eager-exp
    expect(e.message).toContain("infinite value (inf) encountered in exp");
    expect(e.source).toContain(at("eager-exp"));
    config.update("debugInfs", true);
    expect(() => np.log(np.array([0]))).toThrow(FloatingPointError);
  });
  it("catches a NaN in the forward pass of grad as a forward equation, not as part of a derivative", () => {
    const f = (x: any) => np.sum(np.log(x)); // @grad-fwd
    const e = fpe(() => withDebugNans(() => grad(f)(np.array([2, -1]))));
    expect(e.primitive).toBe("log");
    expect(e.equation).toMatch(/^[a-z]+:f32\[2\] = log [a-z]+$/);
    expect(e.forwardEquation).toBeNull();
    expect(e.message).not.toContain("jvp rule");
    expect(e.source).toContain(at("grad-fwd"));
  });
  it("names the forward equation of a value its jvp rule computes in the forward pass of grad", () => {
    // arcsin(1) is finite, its derivative 1 / sqrt(1 - x^2) is not; the rule computes it in the forward pass.
    const f = (x: any) => np.sum(np.arcsin(x)); // @grad-res
    const e = fpe(() => withDebugInfs(() => grad(f)(np.array([1]))));
    expect(e.forwardEquation).toMatch(/= asin [a-z]+$/);
    expect(e.forwardSource).toContain(at("grad-res"));
    expect(e.message).toContain("emitted by the jvp rule");
  });
  it("catches a NaN of the backward pass, naming the forward equation whose gradient it is", () => {
    // sqrt at 0 has an infinite derivative; the masked branch multiplies it by a zero cotangent.
    const f = (x: any) => {
      const safe = np.greater(x, 0);
      const r = np.sqrt(x); // @bwd-sqrt
      return np.sum(np.where(safe, r, 0));
    };
    const x = np.array([4, 0]);
    expect(Number.isNaN(grad(f)(x).toArray()[1])).toBe(true);
    const e = fpe(() => withDebugNans(() => grad(f)(x)));
    // sqrt's derivative rule divides the tangent by 2 sqrt(x): 0 / 0 in the backward pass.
    expect(e.primitive).toBe("div");
    expect(e.equation).toMatch(/^[a-z]+:f32\[2\] = div [a-z]+ [a-z]+$/);
    expect(e.forwardEquation).toMatch(/^[a-z]+:f32\[2\] = sqrt [a-z]+$/);
    expect(e.forwardSource).toContain(at("bwd-sqrt"));
    expect(e.source).toContain(at("bwd-sqrt"));
    expect(e.message).toContain("in the backward pass: this equation computes part of the gradient of the forward equation");
    expect(e.message).toMatch(/sqrt [a-z]+ \(at [^)]*debug_nans\.test\.ts:\d+\)/);
  });
  it("catches a NaN in a jvp tangent", () => {
    const f = (x: any) => np.sqrt(x); // @jvp-sqrt
    const e = fpe(() => withDebugNans(() => jvp(f, [np.array([0])], [np.array([0])])));
    expect(e.forwardEquation).toMatch(/sqrt/);
    expect(e.message).toContain("emitted by the jvp rule");
    expect(e.forwardSource).toContain(at("jvp-sqrt"));
  });
  it("checks under vmap (the batched equation is checked)", () => {
    const e = fpe(() => withDebugNans(() => vmap((x: any) => np.log(x))(np.array([[1], [-1]])))); // @vmap-log
    expect(e.primitive).toBe("log");
    expect(e.source).toContain(at("vmap-log"));
  });
});

describe("debugNans with custom rules", () => {
  it("a NaN in a customVjp backward names the custom_vjp_call equation on one line", () => {
    const f = customVjp((x: any) => np.sin(x));
    f.defVjp(
      (x: any) => [np.sin(x), x],
      (res: any, g: any) => [np.divide(g, np.subtract(res, res))],
    );
    const e = fpe(() => withDebugNans(() => grad((x: any) => np.multiply(f(x), 0))(np.array(1)))); // @custom-vjp
    expect(e.primitive).toBe("div");
    expect(e.message).toMatch(/in the backward pass[^\n]*\n    [a-z]+:f32\[\] = custom_vjp_call\[…\] [a-z]+ \(at [^)]*debug_nans\.test\.ts:\d+\)/);
    expect(e.forwardEquation).toContain("custom_vjp_call[");
    expect(e.forwardSource).toContain(at("custom-vjp"));
  });
});

describe("debugNans inside control flow", () => {
  it("scan body", () => {
    const run = () =>
      lax.scan(
        (c: any, x: any) => [np.add(c, np.log(x)), c], // @scan-body
        np.array(0),
        np.array([1, 2, -1]),
      ); // @scan-call
    expect(() => run()).not.toThrow();
    const e = fpe(() => withDebugNans(run));
    expect(e.primitive).toBe("log");
    expect(e.equation).toMatch(/= log [a-z]+$/);
    expect(e.source).toContain(at("scan-body"));
    expect(e.message).toMatch(/inside scan at [^\n]*debug_nans\.test\.ts:\d+/);
  });
  it("cond branches", () => {
    const run = (p: boolean) => lax.cond(np.array(p), (x: any) => np.sqrt(x), (x: any) => np.log(x), np.array(-2)); // @cond
    const e1 = fpe(() => withDebugNans(() => run(true)));
    expect(e1.primitive).toBe("sqrt");
    const e2 = fpe(() => withDebugNans(() => run(false)));
    expect(e2.primitive).toBe("log");
    expect(e2.source).toContain(at("cond"));
    expect(e2.message).toContain("inside cond at");
  });
  it("whileLoop body", () => {
    const run = () =>
      lax.whileLoop(
        (c: any) => np.less(c, 3),
        (c: any) => np.add(c, np.divide(np.subtract(c, 1), np.subtract(c, 1))), // @while-body
        np.array(0),
      );
    const e = fpe(() => withDebugNans(run));
    expect(e.primitive).toBe("div");
    expect(e.source).toContain(at("while-body"));
    expect(e.message).toContain("inside while at");
  });
  it("backward pass of a scan body", () => {
    const f = (xs: any) => {
      const [c] = lax.scan(
        (c: any, x: any) => [np.add(c, np.where(np.greater(x, 0), np.sqrt(x), 0)), null], // @scan-bwd
        np.array(0),
        xs,
      );
      return c;
    };
    const e = fpe(() => withDebugNans(() => grad(f)(np.array([1, 0, 4]))));
    expect(e.forwardEquation).toMatch(/= sqrt [a-z]+$/);
    expect(e.forwardSource).toContain(at("scan-bwd"));
    expect(e.message).toContain("in the backward pass");
    expect(e.message).toContain("inside scan at");
  });
  it("checkpointed function under grad", () => {
    const f = checkpoint((x: any) => np.sum(np.where(np.greater(x, 0), np.sqrt(x), 0))); // @ckpt
    const e = fpe(() => withDebugNans(() => grad(f)(np.array([1, 0]))));
    expect(e.forwardEquation).toMatch(/= sqrt [a-z]+$/);
    expect(e.forwardSource).toContain(at("ckpt"));
  });
});
