/**
 * `debug.print` and `debug.callback`, as in JAX: inside traced code (grad, vmap, scan,
 * checkpoint, ...) they run on the concrete values when the program runs, not at trace
 * time. Both bind the effectful `debug_callback` primitive, so they survive every transform
 * and dead-code elimination.
 *
 * - Under `grad`/`vjp`/`jvp`: they show the primal (forward) values, once per call.
 * - Under `vmap`: once per batch element, in order (JAX's behaviour); unmapped values are
 *   shown whole each time. A `cond` with a mapped predicate runs both branches, and a
 *   `whileLoop` with one runs until every element is done, so their callbacks run for those.
 * - Inside `lax.scan`, `lax.foriLoop`, `lax.whileLoop`: once per iteration.
 * - Inside `checkpoint` under `grad`: once (recomputation in the backward pass does not
 *   repeat it).
 */
import { ArrayBase, type NDArray } from "./array.js";
import { ValueError } from "./errors.js";
import { debugCallbackP } from "./primitives/debug_callback.js";
import { bind } from "./trace.js";
import { type TreeDef, flatten, unflatten } from "./tree.js";

/** Splits the values into array leaves (passed to the primitive) and a rebuild function for the rest. */
const splitValues = (values: unknown[]): [ArrayBase[], (arrays: NDArray[]) => unknown[]] => {
  const [leaves, def]: [unknown[], TreeDef] = flatten(values);
  const arrayAt = leaves.map((l) => l instanceof ArrayBase);
  const arrays = leaves.filter((l): l is ArrayBase => l instanceof ArrayBase);
  const rebuild = (concrete: NDArray[]) => {
    let k = 0;
    return unflatten<unknown[]>(
      def,
      leaves.map((l, i) => (arrayAt[i] ? concrete[k++] : l)),
    );
  };
  return [arrays, rebuild];
};

const named = <F extends Function>(f: F, name: string): F => Object.defineProperty(f, "name", { value: name });

/**
 * Calls `fn(...values)` with the values' concrete arrays when the program runs (pytrees of
 * arrays, numbers and other JS values; only the arrays are traced). Its return value is
 * ignored.
 */
export const callback = (fn: (...values: any[]) => unknown, ...values: unknown[]): void => {
  if (typeof fn !== "function") {
    throw new ValueError(`the callback must be a function, got ${fn === null ? "null" : typeof fn}`, { op: "debug.callback" });
  }
  const [arrays, rebuild] = splitValues(values);
  const cb = named((concrete: NDArray[]) => void fn(...rebuild(concrete)), fn.name || "callback");
  bind(debugCallbackP, arrays, { callback: cb });
};

// ---------------------------------------------------------------- formatting

type Segment = string | { index: number; spec: string };

/** Parses a Python-style format string: `{}` (next value), `{0}` (value 0), `{:.3f}`, and `{{`/`}}` for braces. */
const parseFormat = (op: string, fmt: string): Segment[] => {
  const out: Segment[] = [];
  let text = "";
  let auto = 0;
  let mode: "auto" | "manual" | null = null;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === "{" && fmt[i + 1] === "{") {
      text += "{";
      i++;
    } else if (c === "}" && fmt[i + 1] === "}") {
      text += "}";
      i++;
    } else if (c === "{") {
      const end = fmt.indexOf("}", i);
      if (end < 0) throw new ValueError(`unmatched '{' at position ${i} in the format string ${JSON.stringify(fmt)}`, { op, hint: "write {{ for a literal brace" });
      const field = fmt.slice(i + 1, end);
      const colon = field.indexOf(":");
      const name = colon < 0 ? field : field.slice(0, colon);
      const spec = colon < 0 ? "" : field.slice(colon + 1);
      let index: number;
      if (name === "") {
        if (mode === "manual") throw new ValueError(`cannot mix {} and {${"n"}} in ${JSON.stringify(fmt)}`, { op });
        mode = "auto";
        index = auto++;
      } else if (/^\d+$/.test(name)) {
        if (mode === "auto") throw new ValueError(`cannot mix {} and {${name}} in ${JSON.stringify(fmt)}`, { op });
        mode = "manual";
        index = Number(name);
      } else {
        throw new ValueError(`the field {${field}} in ${JSON.stringify(fmt)} is not supported`, {
          op,
          hint: "use {} or {0}, {1}, ... with positional values, optionally with a spec such as {:.3f}",
        });
      }
      if (spec && !/^\.\d+[feg]$/.test(spec)) {
        throw new ValueError(`format spec '${spec}' is not supported`, { op, hint: "supported specs: .Nf, .Ne, .Ng (e.g. {:.3f})" });
      }
      if (text) out.push(text);
      text = "";
      out.push({ index, spec });
      i = end;
    } else if (c === "}") {
      throw new ValueError(`single '}' at position ${i} in the format string ${JSON.stringify(fmt)}`, { op, hint: "write }} for a literal brace" });
    } else text += c;
  }
  if (text) out.push(text);
  return out;
};

/** A number with a spec such as `.3f`. */
const applySpec = (v: number, spec: string): string => {
  const digits = Number(spec.slice(1, -1));
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const kind = spec[spec.length - 1];
  return kind === "f" ? v.toFixed(digits) : kind === "e" ? v.toExponential(digits) : String(Number(v.toPrecision(Math.max(digits, 1))));
};

/** How a value prints: arrays as NumPy prints them (their toString), containers with their contents. */
const show = (v: unknown, spec: string): string => {
  if (spec) {
    // Checked when print was called: a number or a one-element array.
    return applySpec(v instanceof ArrayBase ? v.toTypedArray()[0]! : (v as number), spec);
  }
  if (v instanceof ArrayBase) return v.toString();
  if (Array.isArray(v)) return `[${v.map((x) => show(x, "")).join(", ")}]`;
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${k}: ${show((v as Record<string, unknown>)[k], "")}`)
      .join(", ")}}`;
  }
  return String(v);
};

/**
 * Prints `fmt` with `{}` placeholders filled by `values` when the program runs, as JAX's
 * `jax.debug.print`: `debug.print("step {} loss {:.4f}", i, loss)`. Values are pytrees;
 * arrays print as NumPy prints them. Output goes to `console.log`.
 */
export const print = (fmt: string, ...values: unknown[]): void => {
  const op = "debug.print";
  if (typeof fmt !== "string") throw new ValueError(`the format must be a string, got ${fmt === null ? "null" : typeof fmt}`, { op });
  const segments = parseFormat(op, fmt);
  for (const s of segments) {
    if (typeof s !== "string" && s.index >= values.length) {
      throw new ValueError(`the format string ${JSON.stringify(fmt)} refers to value ${s.index}, but ${values.length} value${values.length === 1 ? " was" : "s were"} given`, { op });
    }
    if (typeof s !== "string" && s.spec) {
      const v = values[s.index];
      if (!(typeof v === "number" || (v instanceof ArrayBase && v.size === 1))) {
        throw new ValueError(`format spec '${s.spec}' needs a number or a one-element array, but value ${s.index} is ${v instanceof ArrayBase ? v.aval : typeof v}`, { op });
      }
    }
  }
  const [arrays, rebuild] = splitValues(values);
  const cb = named((concrete: NDArray[]) => {
    const vs = rebuild(concrete);
    console.log(segments.map((s) => (typeof s === "string" ? s : show(vs[s.index], s.spec))).join(""));
  }, "print");
  bind(debugCallbackP, arrays, { callback: cb });
};
