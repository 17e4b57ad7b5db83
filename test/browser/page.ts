/**
 * What the browser test's pages run: a matmul, a grad and a vmap in Cotangent, bundled from
 * the core sources. The page reports plain numbers on `window.cotangentResults`; the test
 * (browser.test.ts) compares them with references computed in Node.
 */
import { grad, np, vmap } from "@cotangent/core";

export interface PageResults {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  /** A [64, 48] · [48, 32] matmul of the fixed inputs below, row-major. */
  matmul: number[];
  /** grad of sum(tanh(x)) at x = [-1, -0.5, 0, 0.5, 1]. */
  grad: number[];
  /** vmap(x => x · w) over the 4 rows of a [4, 3] matrix. */
  vmap: number[];
  error?: string;
}

/** The page and the test build their inputs the same way. */
export const inputs = () => {
  const a = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i) * 0.5);
  const b = Float32Array.from({ length: 48 * 32 }, (_, i) => Math.cos(i * 0.7));
  return { a, b, x: [-1, -0.5, 0, 0.5, 1], rows: [[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, 0, 1]], w: [0.5, -1, 2] };
};

const run = (): PageResults => {
  const base = { crossOriginIsolated: globalThis.crossOriginIsolated === true, sharedArrayBuffer: typeof SharedArrayBuffer === "function", hardwareConcurrency: navigator.hardwareConcurrency };
  try {
    const d = inputs();
    const c = np.matmul(np.array(d.a, { shape: [64, 48] }), np.array(d.b, { shape: [48, 32] }));
    const g = grad((x) => np.sum(np.tanh(x)))(np.array(d.x));
    const w = np.array(d.w);
    const v = vmap((r) => np.dot(r, w))(np.array(d.rows));
    return { ...base, matmul: Array.from(c.toTypedArray()), grad: Array.from(g.toTypedArray()), vmap: Array.from(v.toTypedArray()) };
  } catch (e) {
    return { ...base, matmul: [], grad: [], vmap: [], error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) };
  }
};

if (typeof window !== "undefined") (window as unknown as { cotangentResults: PageResults }).cotangentResults = run();
