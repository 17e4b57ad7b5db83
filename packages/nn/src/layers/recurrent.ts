/**
 * Recurrent cells (`lstmCell`, `gruCell`, as Flax's `LSTMCell` and `GRUCell`) and `rnn`,
 * which runs a cell over a sequence with `lax.scan` (one traced step, however long the
 * sequence), as Flax's `nn.RNN`.
 */
import { type ArrayBase, type DType, ShapeError, type Signature, ValueError, describeValue, lax, np, parseArgs, random, signature } from "@cotangent/core";
import { sigmoid, tanh } from "../activations.js";
import { type Initializer, lecunNormal, orthogonal, zeros } from "../initializers.js";
import type { Key } from "../initializers.js";
import { type Layer, checkFloatInput, checkParam, checkParamDType, checkParamsObject, checkSize } from "./layer.js";

/**
 * A recurrent cell: one step `apply(params, carry, x) -> [carry, y]` of a recurrence, with
 * `initCarry(batchShape)` the zero state. Pure, like a layer; `rnn` loops it over time.
 */
export interface RecurrentCell<P = unknown, C = unknown> {
  readonly name: string;
  /** The input size (last axis of x). */
  readonly inFeatures: number;
  /** The hidden size (last axis of the carry and of y). */
  readonly hiddenFeatures: number;
  init(key: Key): P;
  /** The zero carry for inputs of batch shape `batchShape` (`[]` for one unbatched sequence). */
  initCarry(batchShape?: readonly number[], dtype?: DType): C;
  /** One step: x [...batch, inFeatures] and the carry to the next carry and the output [...batch, hiddenFeatures]. */
  apply(params: P, carry: C, x: ArrayBase): [C, ArrayBase];
}

export interface RecurrentCellOptions {
  /** Initializer of each gate's input kernel [in, hidden]. Default LeCun normal, as Flax. */
  kernelInit?: Initializer;
  /** Initializer of each gate's recurrent kernel [hidden, hidden]. Default orthogonal, as Flax. */
  recurrentKernelInit?: Initializer;
  /** Default zeros. */
  biasInit?: Initializer;
  dtype?: DType;
}

/** LSTM params: gates stacked in the order input, forget, cell, output (i, f, g, o) along the last axis. */
export interface LstmParams {
  /** Input kernel [in, 4·hidden]. */
  wi: ArrayBase;
  /** Recurrent kernel [hidden, 4·hidden]. */
  wh: ArrayBase;
  /** Bias [4·hidden]. */
  b: ArrayBase;
}

/** The LSTM's carry: cell state `c` and hidden state `h`, both [...batch, hidden]. */
export interface LstmCarry {
  c: ArrayBase;
  h: ArrayBase;
}

/** GRU params: gates stacked in the order reset, update, candidate (r, z, n). */
export interface GruParams {
  /** Input kernel [in, 3·hidden]. */
  wi: ArrayBase;
  /** Input bias [3·hidden]. */
  bi: ArrayBase;
  /** Recurrent kernel [hidden, 3·hidden]. */
  wh: ArrayBase;
  /** Bias of the candidate's recurrent term [hidden] (inside the reset gate's product, as Flax). */
  bhn: ArrayBase;
}

const cellSig = (name: string): Signature =>
  signature(`nn.${name}`, ["inFeatures:count!", "hiddenFeatures:count!", "kernelInit:function=", "recurrentKernelInit:function=", "biasInit:function=", "dtype:dtype="]);
const lstmSig = cellSig("lstmCell");
const gruSig = cellSig("gruCell");

/** The checks and defaults both cells share: sizes, parameter dtype and initializers. */
const cellSetup = (op: string, sig: Signature, inFeatures: number, hiddenFeatures: number, options: RecurrentCellOptions) => {
  parseArgs(sig, [inFeatures, hiddenFeatures, options]);
  checkSize(op, "inFeatures", inFeatures);
  return {
    H: checkSize(op, "hiddenFeatures", hiddenFeatures),
    dtype: checkParamDType(op, options.dtype),
    kernelInit: options.kernelInit ?? lecunNormal(),
    recurrentInit: options.recurrentKernelInit ?? orthogonal(),
    biasInit: options.biasInit ?? zeros,
  };
};

/** Each gate's kernel drawn on its own (so fans and orthogonality are per gate, as Flax), stacked along the last axis. */
const stackedKernel = (init: Initializer, key: Key, gates: number, rows: number, cols: number, dtype: DType): ArrayBase =>
  np.concatenate([...random.split(key, gates)].map((k) => init(k, [rows, cols], dtype)), -1);

/** The pieces of `a`'s last axis, `n` equal parts. */
const gatesOf = (a: ArrayBase, n: number): ArrayBase[] => np.split(a, n, -1);

const checkStep = (op: string, x: ArrayBase, inFeatures: number, carries: [string, unknown][], hidden: number): void => {
  checkFloatInput(op, x);
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inFeatures) {
    throw new ShapeError(`input of shape [${x.shape.join(", ")}] must be [...batch, ${inFeatures}]`, { op });
  }
  const want = [...x.shape.slice(0, -1), hidden];
  for (const [what, c] of carries) checkParam(op, what, c, want, `the carry has the input's batch shape: cell.initCarry([${x.shape.slice(0, -1).join(", ")}])`);
};

const zerosCarry = (op: string, batchShape: readonly number[] | undefined, hidden: number, dtype: DType | undefined): ArrayBase => {
  const b = batchShape ?? [];
  if (!Array.isArray(b) || !b.every((n) => Number.isInteger(n) && n >= 0)) throw new ValueError(`batchShape must be a list of sizes, got ${describeValue(batchShape)}`, { op });
  return np.zeros([...b, hidden], { dtype: checkParamDType(op, dtype ?? "float32") });
};

/**
 * `lstmCell(inFeatures, hiddenFeatures)`: the long short-term memory cell (Hochreiter &
 * Schmidhuber 1997, with a forget gate as Gers et al. 2000), as Flax's `LSTMCell`:
 *
 *     i = σ(x·Wi_i + h·Wh_i + b_i)    f = σ(x·Wi_f + h·Wh_f + b_f)
 *     g = tanh(x·Wi_g + h·Wh_g + b_g)  o = σ(x·Wi_o + h·Wh_o + b_o)
 *     c' = f ⊙ c + i ⊙ g               h' = o ⊙ tanh(c')
 *
 * The carry is `{ c, h }`, the output is `h'`. The four gates' kernels are stacked in one
 * matrix (one matmul per step); each gate's block is initialized on its own.
 */
export const lstmCell = (inFeatures: number, hiddenFeatures: number, options: RecurrentCellOptions = {}): RecurrentCell<LstmParams, LstmCarry> => {
  const op = "nn.lstmCell";
  const { H, dtype, kernelInit, recurrentInit, biasInit } = cellSetup(op, lstmSig, inFeatures, hiddenFeatures, options);
  return {
    name: "lstmCell",
    inFeatures,
    hiddenFeatures,
    init: (key) => {
      const [ki, kh, kb] = random.split(key, 3);
      return { wi: stackedKernel(kernelInit, ki!, 4, inFeatures, H, dtype), wh: stackedKernel(recurrentInit, kh!, 4, H, H, dtype), b: biasInit(kb!, [4 * H], dtype) };
    },
    initCarry: (batchShape, carryDtype) => {
      const z = zerosCarry(op, batchShape, H, carryDtype ?? dtype);
      return { c: z, h: z };
    },
    apply: (params, carry, x) => {
      checkParamsObject(op, "params", params);
      checkParamsObject(op, "carry", carry);
      checkStep(op, x, inFeatures, [["carry.c", carry.c], ["carry.h", carry.h]], H);
      const wi = checkParam(op, "params.wi", params.wi, [inFeatures, 4 * H]);
      const wh = checkParam(op, "params.wh", params.wh, [H, 4 * H]);
      const b = checkParam(op, "params.b", params.b, [4 * H]);
      const z = np.add(np.add(np.matmul(x, wi), np.matmul(carry.h, wh)), b);
      const [i, f, g, o] = gatesOf(z, 4) as [ArrayBase, ArrayBase, ArrayBase, ArrayBase];
      const c = np.add(np.multiply(sigmoid(f), carry.c), np.multiply(sigmoid(i), tanh(g)));
      const h = np.multiply(sigmoid(o), tanh(c));
      return [{ c, h }, h];
    },
  };
};

/**
 * `gruCell(inFeatures, hiddenFeatures)`: the gated recurrent unit (Cho et al. 2014), as
 * Flax's `GRUCell`:
 *
 *     r = σ(x·Wi_r + bi_r + h·Wh_r)    z = σ(x·Wi_z + bi_z + h·Wh_z)
 *     n = tanh(x·Wi_n + bi_n + r ⊙ (h·Wh_n + bhn))
 *     h' = (1 - z) ⊙ n + z ⊙ h
 *
 * The carry is `h` itself, and so is the output.
 */
export const gruCell = (inFeatures: number, hiddenFeatures: number, options: RecurrentCellOptions = {}): RecurrentCell<GruParams, ArrayBase> => {
  const op = "nn.gruCell";
  const { H, dtype, kernelInit, recurrentInit, biasInit } = cellSetup(op, gruSig, inFeatures, hiddenFeatures, options);
  return {
    name: "gruCell",
    inFeatures,
    hiddenFeatures,
    init: (key) => {
      const [ki, kh, kb, kn] = random.split(key, 4);
      return {
        wi: stackedKernel(kernelInit, ki!, 3, inFeatures, H, dtype),
        bi: biasInit(kb!, [3 * H], dtype),
        wh: stackedKernel(recurrentInit, kh!, 3, H, H, dtype),
        bhn: biasInit(kn!, [H], dtype),
      };
    },
    initCarry: (batchShape, carryDtype) => zerosCarry(op, batchShape, H, carryDtype ?? dtype),
    apply: (params, h, x) => {
      checkParamsObject(op, "params", params);
      checkStep(op, x, inFeatures, [["carry", h]], H);
      const wi = checkParam(op, "params.wi", params.wi, [inFeatures, 3 * H]);
      const bi = checkParam(op, "params.bi", params.bi, [3 * H]);
      const wh = checkParam(op, "params.wh", params.wh, [H, 3 * H]);
      const bhn = checkParam(op, "params.bhn", params.bhn, [H]);
      const [xr, xz, xn] = gatesOf(np.add(np.matmul(x, wi), bi), 3) as [ArrayBase, ArrayBase, ArrayBase];
      const [hr, hz, hn] = gatesOf(np.matmul(h, wh), 3) as [ArrayBase, ArrayBase, ArrayBase];
      const r = sigmoid(np.add(xr, hr));
      const z = sigmoid(np.add(xz, hz));
      const n = tanh(np.add(xn, np.multiply(r, np.add(hn, bhn))));
      const next = np.add(np.multiply(np.subtract(1, z), n), np.multiply(z, h));
      return [next, next];
    },
  };
};

export interface RnnOptions<C> {
  /** The carry to start from. Default: the cell's zero carry for the input's batch shape, in the input's dtype. */
  initialCarry?: C;
  /** Run from the last step to the first. Outputs stay aligned with their inputs (Flax's `keep_order=True`). Default false. */
  reverse?: boolean;
  /** The input is [time, ...batch, features] instead of [...batch, time, features]. Default false, as Flax. */
  timeMajor?: boolean;
}

const rnnSig: Signature = signature("nn.rnn", ["cell:object!", "params:any!", "inputs:array!", "initialCarry:any=", "reverse:bool=", "timeMajor:bool="]);

const isCell = (u: unknown): u is RecurrentCell => {
  const c = u as RecurrentCell;
  return typeof c === "object" && c !== null && typeof c.init === "function" && typeof c.apply === "function" && typeof c.initCarry === "function" && Number.isInteger(c.inFeatures);
};

/**
 * `rnn(cell, params, inputs, { initialCarry, reverse, timeMajor })`: the cell applied along
 * the time axis of `inputs` ([...batch, time, features] by default) with `lax.scan`.
 * Returns `[finalCarry, outputs]`, outputs [...batch, time, hiddenFeatures] (time-major in
 * and out with `timeMajor`). One step is traced once, whatever the length, so `grad`,
 * `vmap` and `jit` see a single scan. A bidirectional RNN is two calls, one with
 * `reverse: true`, and a concatenation of their outputs.
 */
export const rnn = <P, C>(cell: RecurrentCell<P, C>, params: P, inputs: np.ArrayLike, options: RnnOptions<C> = {}): [C, ArrayBase] => {
  const op = "nn.rnn";
  parseArgs(rnnSig, [cell, params, inputs, options]);
  if (!isCell(cell)) throw new ValueError("cell must be a recurrent cell (from lstmCell, gruCell, or an object with init, initCarry, apply and inFeatures)", { op });
  const x = np.asArray(inputs);
  checkFloatInput(op, x);
  if (x.ndim < 2 || x.shape[x.ndim - 1] !== cell.inFeatures) {
    throw new ShapeError(`inputs must be [...batch, time, ${cell.inFeatures}]${options.timeMajor ? " (time-major: [time, ...batch, features])" : ""}, got shape [${x.shape.join(", ")}]`, {
      op,
      hint: x.ndim < 2 ? "a sequence needs a time axis: [time, features]" : undefined,
    });
  }
  const timeAxis = options.timeMajor ? 0 : x.ndim - 2;
  const xs = timeAxis === 0 ? x : np.moveaxis(x, timeAxis, 0);
  const carry0 = options.initialCarry ?? cell.initCarry(xs.shape.slice(1, -1), x.dtype);
  const [carry, ys] = lax.scan((c: C, xt: ArrayBase) => cell.apply(params, c, xt), carry0, xs, { reverse: options.reverse ?? false });
  return [carry, timeAxis === 0 ? (ys as ArrayBase) : np.moveaxis(ys as ArrayBase, 0, timeAxis)];
};

const rnnLayerSig: Signature = signature("nn.rnnLayer", ["cell:object!", "reverse:bool=", "timeMajor:bool="]);

/**
 * `rnnLayer(cell, { reverse, timeMajor })`: `rnn` as a layer (Flax's `nn.RNN` module), so a
 * recurrence goes into `sequential`: params are the cell's, `apply(params, xs)` returns the
 * outputs at every step (from the zero carry; call `rnn` for the final carry or another start).
 */
export const rnnLayer = <P, C>(cell: RecurrentCell<P, C>, options: Omit<RnnOptions<C>, "initialCarry"> = {}): Layer<P> => {
  const op = "nn.rnnLayer";
  parseArgs(rnnLayerSig, [cell, options]);
  if (!isCell(cell)) throw new ValueError("cell must be a recurrent cell (from lstmCell, gruCell, or an object with init, initCarry, apply and inFeatures)", { op });
  return {
    name: `rnn(${cell.name})`,
    init: (key) => cell.init(key),
    apply: (params, x) => rnn(cell, params, x, options)[1],
  };
};
