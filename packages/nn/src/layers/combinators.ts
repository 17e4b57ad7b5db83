/** Putting layers together: `sequential`, `residual`, and the small glue layers `flatten` and `activation`. */
import { type ArrayBase, ShapeError, ValueError, describeValue, np, random } from "@cotangent/core";
import { type ApplyOptions, type Layer, fromFunction } from "./layer.js";

/** A layer, or a plain function of the input (an activation) that becomes a parameter-free layer. */
export type LayerLike = Layer<any> | ((x: ArrayBase) => ArrayBase);

const asLayer = (op: string, l: LayerLike, i: number): Layer<any> => {
  if (typeof l === "function") return fromFunction(l.name || "function", (x) => l(x));
  if (l && typeof l === "object" && typeof l.init === "function" && typeof l.apply === "function") return l;
  throw new ValueError(`argument ${i} is not a layer (an object with init and apply) or a function`, { op, hint: "e.g. sequential(dense(4, 8), relu, dense(8, 1))" });
};

/** The options one child of a container sees: its own key, folded from the container's by position. */
const childOptions = (options: ApplyOptions, i: number): ApplyOptions =>
  options.key === undefined || options.key === null ? options : { ...options, key: random.foldIn(options.key, i) };

/** A parameter-free layer that applies `f` (e.g. `activation(nn.gelu)`); plain functions in `sequential` are wrapped this way. */
export const activation = (f: (x: ArrayBase) => ArrayBase, name?: string): Layer<null> => {
  if (typeof f !== "function") throw new ValueError(`f must be a function, got ${describeValue(f)}`, { op: "nn.activation" });
  return fromFunction(name ?? (f.name || "activation"), (x) => f(x));
};

/**
 * `sequential(...layers)`: the layers applied one after another. Params are the list of
 * each layer's params (null for parameter-free ones); `init` gives layer i the key
 * `split(key, n)[i]`, and in training `apply` passes layer i the key `foldIn(key, i)`.
 * Plain functions (activations) may stand in for layers.
 */
export const sequential = (...layers: LayerLike[]): Layer<unknown[]> => {
  const op = "nn.sequential";
  const ls = layers.map((l, i) => asLayer(op, l, i));
  return {
    name: "sequential",
    init: (key) => {
      if (ls.length === 0) return [];
      const keys = [...random.split(key, ls.length)];
      return ls.map((l, i) => l.init(keys[i]!));
    },
    apply: (params, x, options = {}) => {
      if (!Array.isArray(params) || params.length !== ls.length) {
        throw new ValueError(`params must be a list of ${ls.length} entries (one per layer: ${ls.map((l) => l.name).join(", ")}), got ${Array.isArray(params) ? `a list of ${params.length}` : typeof params}`, {
          op,
          hint: "use the params that this model's init returned",
        });
      }
      return ls.reduce((h, l, i) => l.apply(params[i], h, childOptions(options, i)), x);
    },
  };
};

/**
 * `residual(layer)`: `x + layer(x)` (He et al. 2016), so the identity path carries the
 * gradient past the layer. The layer must keep the input's shape.
 */
export const residual = <P>(layer: LayerLike): Layer<P> => {
  const op = "nn.residual";
  const inner = asLayer(op, layer, 0) as Layer<P>;
  return {
    name: `residual(${inner.name})`,
    init: (key) => inner.init(key),
    apply: (params, x, options = {}) => {
      const y = inner.apply(params, x, options);
      if (y.shape.join() !== x.shape.join()) {
        throw new ShapeError(`the inner ${inner.name} maps shape [${x.shape.join(", ")}] to [${y.shape.join(", ")}]; a residual block must keep the shape`, {
          op,
          hint: "add a projection inside the block, or make its output size equal its input size",
        });
      }
      return np.add(x, y);
    },
  };
};

/** `flatten()`: [N, ...] to [N, product of the rest], e.g. between convolutions and dense layers. */
export const flatten = (): Layer<null> =>
  fromFunction("flatten", (x) => {
    if (x.ndim === 0) throw new ShapeError("needs a batch axis, got a scalar", { op: "nn.flatten" });
    return np.reshape(x, [x.shape[0]!, x.shape.slice(1).reduce((a, b) => a * b, 1)]);
  });
