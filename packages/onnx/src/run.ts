/**
 * Running ONNX models on ONNX Runtime: `onnxruntime-node` (native CPU) or
 * `onnxruntime-web` (WebAssembly; runs in browsers and in Node). Both are optional peer
 * dependencies, loaded on first use.
 */
import { type ArrayBase, type DType, NDArray, np } from "@cotangent/core";
import { OnnxRuntimeError } from "./errors.js";

export type OnnxEngine = "node" | "web";

export interface RunOnnxOptions {
  /** Which ONNX Runtime build to run on. Default "node". */
  engine?: OnnxEngine;
  /** Threads ONNX Runtime may use inside one op (node engine). Default: its own choice (the core count). */
  threads?: number;
}

type Ort = typeof import("onnxruntime-node");
type OrtSession = import("onnxruntime-node").InferenceSession;

const engines = new Map<OnnxEngine, Promise<Ort>>();

const loadEngine = (engine: OnnxEngine): Promise<Ort> => {
  let p = engines.get(engine);
  if (!p) {
    p = (async () => {
      try {
        if (engine === "node") return (await import("onnxruntime-node")) as unknown as Ort;
        const web = (await import("onnxruntime-web")) as unknown as Ort & { env: { wasm: { numThreads: number } } };
        // One thread: no worker pool to start (and nothing left running after the call).
        web.env.wasm.numThreads = 1;
        return web;
      } catch (e) {
        engines.delete(engine);
        throw new OnnxRuntimeError(`cannot load onnxruntime-${engine}: ${(e as Error).message}`, {
          op: "runOnnx",
          source: null,
          hint: `install it beside @cotangent/onnx: npm i onnxruntime-${engine}`,
        });
      }
    })();
    engines.set(engine, p);
  }
  return p;
};

const ORT_TYPE: Record<DType, string> = { float32: "float32", float64: "float64", int32: "int32", bool: "bool" };
const FROM_ORT: Record<string, DType> = { float32: "float32", float64: "float64", int32: "int32", bool: "bool" };

/** A model loaded once and run many times. */
export class OnnxSession {
  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
  ) {}
  static async load(model: Uint8Array, options: RunOnnxOptions = {}): Promise<OnnxSession> {
    const engine = options.engine ?? "node";
    if (engine !== "node" && engine !== "web") {
      throw new OnnxRuntimeError(`engine must be "node" or "web", got ${JSON.stringify(engine)}`, { op: "runOnnx" });
    }
    const ort = await loadEngine(engine);
    try {
      const threads = options.threads;
      const sessionOptions = threads && engine === "node" ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};
      return new OnnxSession(ort, await ort.InferenceSession.create(model, sessionOptions));
    } catch (e) {
      throw new OnnxRuntimeError(`ONNX Runtime (${engine}) refused the model: ${(e as Error).message}`, { op: "runOnnx", source: null });
    }
  }
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }
  /** Runs the model on flat inputs (graph input order) or inputs by name; returns the outputs in graph order. */
  async run(inputs: readonly ArrayBase[] | Readonly<Record<string, ArrayBase>>): Promise<NDArray[]> {
    const names = this.session.inputNames;
    const byName: Record<string, ArrayBase> = Array.isArray(inputs) ? {} : { ...(inputs as Record<string, ArrayBase>) };
    if (Array.isArray(inputs)) {
      if (inputs.length !== names.length) {
        throw new OnnxRuntimeError(`the model takes ${names.length} inputs (${names.join(", ")}), got ${inputs.length}`, { op: "runOnnx" });
      }
      names.forEach((n, i) => (byName[n] = inputs[i]!));
    }
    const feeds: Record<string, InstanceType<Ort["Tensor"]>> = {};
    for (const n of names) {
      const x = byName[n];
      if (!(x instanceof NDArray)) throw new OnnxRuntimeError(`input '${n}' is missing or not a concrete array`, { op: "runOnnx" });
      const data = x.dtype === "bool" ? Uint8Array.from(x.toTypedArray()) : x.toTypedArray();
      feeds[n] = new this.ort.Tensor(ORT_TYPE[x.dtype] as "float32", data as Float32Array, x.shape.slice());
    }
    let results: Record<string, { type: string; data: unknown; dims: readonly number[] }>;
    try {
      results = (await this.session.run(feeds)) as never;
    } catch (e) {
      throw new OnnxRuntimeError(`ONNX Runtime failed: ${(e as Error).message}`, { op: "runOnnx", source: null });
    }
    return this.session.outputNames.map((n) => {
      const t = results[n]!;
      const dtype = FROM_ORT[t.type];
      if (!dtype) throw new OnnxRuntimeError(`output '${n}' has element type ${t.type}, which Cotangent has no dtype for`, { op: "runOnnx" });
      const data = t.data as ArrayLike<number | boolean>;
      // A typed array goes straight in (a JS array of a million numbers is validated element by element).
      const flat = ArrayBuffer.isView(data) ? np.array(data as Float32Array, { dtype }) : np.array(Array.from(data, Number), { dtype });
      return np.reshape(flat, t.dims.slice()) as NDArray;
    });
  }
}

/** Loads `model` on ONNX Runtime and runs it once; returns the outputs as Cotangent arrays, in graph order. */
export const runOnnx = async (
  model: Uint8Array,
  inputs: readonly ArrayBase[] | Readonly<Record<string, ArrayBase>>,
  options: RunOnnxOptions = {},
): Promise<NDArray[]> => (await OnnxSession.load(model, options)).run(inputs);
