/**
 * What the browser test's pages run: a matmul, a grad and a vmap in Cotangent, bundled from
 * the core sources. The page reports plain numbers on `window.cotangentResults`; the test
 * (browser.test.ts) compares them with references computed in Node.
 */
import { grad, jit, np, threadsReady, vmap } from "@cotangent/core";

export interface PageResults {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  /** Threads the kernels use once the pool has started (1 without SharedArrayBuffer). */
  threads: number;
  /** A [64, 48] · [48, 32] matmul of the fixed inputs below, row-major. */
  matmul: number[];
  /** grad of sum(tanh(x)) at x = [-1, -0.5, 0, 0.5, 1]. */
  grad: number[];
  /** vmap(x => x · w) over the 4 rows of a [4, 3] matrix. */
  vmap: number[];
  /** Row 0 and row 255 of a [256, 256] · [256, 256] matmul (large enough to be split across threads). */
  bigMatmulRows: number[];
  /**
   * Column sums of max(big + bigᵀ, 0), and of jit(sqrt(|big| · 2 + 1)): the Wasm binary,
   * transpose, reduction and fused kernels (each large enough to take its Wasm path).
   */
  elementwise: number[];
  /** What the page's code printed with console.warn (a kernel falling back warns). */
  warnings: string[];
  error?: string;
}

/** The page and the test build their inputs the same way. */
export const inputs = () => {
  const a = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i) * 0.5);
  const b = Float32Array.from({ length: 48 * 32 }, (_, i) => Math.cos(i * 0.7));
  const big = Float32Array.from({ length: 256 * 256 }, (_, i) => Math.sin(i * 0.37));
  return { a, b, big, x: [-1, -0.5, 0, 0.5, 1], rows: [[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, 0, 1]], w: [0.5, -1, 2] };
};

const warnings: string[] = [];

const run = async (): Promise<PageResults> => {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" "));
    warn(...args);
  };
  const base = { crossOriginIsolated: globalThis.crossOriginIsolated === true, sharedArrayBuffer: typeof SharedArrayBuffer === "function", hardwareConcurrency: navigator.hardwareConcurrency, threads: 0, warnings };
  try {
    base.threads = await threadsReady();
    const d = inputs();
    const c = np.matmul(np.array(d.a, { shape: [64, 48] }), np.array(d.b, { shape: [48, 32] }));
    const g = grad((x) => np.sum(np.tanh(x)))(np.array(d.x));
    const w = np.array(d.w);
    const v = vmap((r) => np.dot(r, w))(np.array(d.rows));
    const big = np.array(d.big, { shape: [256, 256] });
    const rows = np.matmul(big, big).toTypedArray();
    const bigMatmulRows = [...rows.subarray(0, 256), ...rows.subarray(255 * 256)];
    const sums = np.sum(np.maximum(np.add(big, np.transpose(big)), 0), 0);
    const fused = np.sum(jit((x: typeof big) => np.sqrt(np.add(np.multiply(np.abs(x), 2), 1)))(big), 0);
    const elementwise = [...sums.toTypedArray(), ...fused.toTypedArray()];
    return { ...base, matmul: Array.from(c.toTypedArray()), grad: Array.from(g.toTypedArray()), vmap: Array.from(v.toTypedArray()), bigMatmulRows, elementwise };
  } catch (e) {
    return { ...base, matmul: [], grad: [], vmap: [], bigMatmulRows: [], elementwise: [], error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e) };
  }
};

if (typeof window !== "undefined") void run().then((r) => ((window as unknown as { cotangentResults: PageResults }).cotangentResults = r));
