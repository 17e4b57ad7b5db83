import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrayBase, grad, lax, np } from "@cotangent/core";

// Reference values computed with mpmath 1.3 at 50 significant digits (mpmath.erf, mpmath.erfc,
// mpmath.erfinv), rounded to float64.
const ERF: [number, number, number][] = [
  [-6.0, -1.0, 2.0],
  [-3.5, -0.9999992569016276, 1.9999992569016276],
  [-1.0, -0.8427007929497149, 1.8427007929497148],
  [-0.3, -0.3286267594591274, 1.3286267594591274],
  [1e-300, 1.1283791670955126e-300, 1.0],
  [1e-08, 1.1283791670955126e-08, 0.9999999887162083],
  [0.1, 0.1124629160182849, 0.887537083981715],
  [0.46875, 0.49261347321793797, 0.507386526782062],
  [0.5, 0.5204998778130465, 0.4795001221869535],
  [0.9, 0.7969082124228322, 0.20309178757716786],
  [1.5, 0.9661051464753108, 0.033894853524689274],
  [2.0, 0.9953222650189527, 0.004677734981047266],
  [3.0, 0.9999779095030014, 2.209049699858544e-05],
  [4.0, 0.9999999845827421, 1.541725790028002e-08],
  [4.5, 0.9999999998033839, 1.9661604415428876e-10],
  [5.5, 0.9999999999999927, 7.357847917974398e-15],
  [10.0, 1.0, 2.088487583762545e-45],
  [26.0, 1.0, 5.663192408856143e-296],
];
const ERF_INV: [number, number][] = [
  [1e-300, 8.86226925452758e-301],
  [1e-10, 8.862269254527581e-11],
  [0.001, 0.0008862271574665521],
  [0.1, 0.08885599049425769],
  [0.25, 0.2253120550121781],
  [0.5, 0.4769362762044699],
  [0.75, 0.8134198475976185],
  [0.9, 1.1630871536766743],
  [0.99, 1.8213863677184494],
  [0.999, 2.3267537655135246],
  [0.999999, 3.458910737275499],
  [0.9999999999, 4.572824958544925],
  [0.9999999999999998, 5.805018683193453],
  [0.9999999999999999, 5.8635847487551676],
];

const f64 = (v: number[]) => np.array(v, { dtype: "float64" });
const relErr = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.abs(b));

describe("erf, erfc and erf_inv accuracy", () => {
  it("erf and erfc agree with mpmath to a few ulp in float64 (erfc keeps relative accuracy in the tail)", () => {
    const x = f64(ERF.map(([v]) => v));
    const e = lax.erf(x).toArray() as number[];
    const c = lax.erfc(x).toArray() as number[];
    ERF.forEach(([, want, wantc], i) => {
      expect(relErr(e[i]!, want)).toBeLessThan(4e-16);
      expect(relErr(c[i]!, wantc)).toBeLessThan(4e-16);
    });
  });

  it("erf_inv agrees with mpmath to a few ulp in float64, out to the largest double below 1", () => {
    const y = f64(ERF_INV.flatMap(([v]) => [v, -v]));
    const got = lax.erfInv(y).toArray() as number[];
    ERF_INV.forEach(([, want], i) => {
      expect(relErr(got[2 * i]!, want)).toBeLessThan(4e-16);
      expect(got[2 * i + 1]).toBe(-got[2 * i]!);
    });
  });

  it("float32 results are the float64 values rounded once", () => {
    const y = np.array(ERF_INV.slice(0, 10).map(([v]) => v));
    const got = lax.erfInv(y).toArray() as number[];
    const exact = lax.erfInv(np.array(y, { dtype: "float64" })).toArray() as number[];
    got.forEach((g, i) => expect(g).toBe(Math.fround(exact[i]!)));
  });

  it("erf(erf_inv(y)) = y and erf_inv is monotone on random inputs", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true, minExcluded: true, maxExcluded: true }), { minLength: 1, maxLength: 20 }), (ys) => {
        const sorted = [...ys].sort((a, b) => a - b);
        const x = lax.erfInv(f64(sorted)).toArray() as number[];
        const back = lax.erf(f64(x)).toArray() as number[];
        sorted.forEach((v, i) => {
          expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(4e-16 * Math.max(Math.abs(v), 1e-300) + 1e-300);
          if (i > 0) expect(x[i]!).toBeGreaterThanOrEqual(x[i - 1]!);
        });
      }),
      { numRuns: 50 },
    );
  });

  it("derivatives: erf' = 2/sqrt(pi) exp(-x²), erf_inv' = sqrt(pi)/2 exp(erf_inv(y)²)", () => {
    const x = f64([-1, 0, 0.5, 2]);
    const g = grad((v: ArrayBase) => np.sum(lax.erf(v)))(x).toArray() as number[];
    [-1, 0, 0.5, 2].forEach((v, i) => expect(relErr(g[i]!, (2 / Math.sqrt(Math.PI)) * Math.exp(-v * v))).toBeLessThan(1e-15));
    const y = f64([-0.9, 0, 0.5]);
    const gi = grad((v: ArrayBase) => np.sum(lax.erfInv(v)))(y).toArray() as number[];
    const xi = lax.erfInv(y).toArray() as number[];
    xi.forEach((v, i) => expect(relErr(gi[i]!, (Math.sqrt(Math.PI) / 2) * Math.exp(v * v))).toBeLessThan(1e-15));
  });
});
