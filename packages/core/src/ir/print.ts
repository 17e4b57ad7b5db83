/** Prints jaxprs in JAX's text format, with sub-jaxprs nested and indented. */
import { ShapedArray } from "../dtype.js";
import type { Atom, Eqn, Jaxpr, Var } from "./jaxpr.js";

/** Names a, b, ..., z, ba, bb, ... as JAX does. */
export const nameOf = (i: number): string => {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let s = "";
  do {
    s = letters[i % 26] + s;
    i = Math.floor(i / 26);
  } while (i > 0);
  return s;
};

class Namer {
  private names = new Map<Var, string>();
  private next = 0;
  name(v: Var): string {
    let n = this.names.get(v);
    if (n === undefined) {
      n = nameOf(this.next++);
      this.names.set(v, n);
    }
    return n;
  }
}

const isJaxpr = (x: unknown): x is Jaxpr =>
  typeof x === "object" && x !== null && "eqns" in x && "invars" in x && "outvars" in x;

const formatLiteralValue = (value: number, dtype: string): string => {
  if (dtype === "bool") return value ? "True" : "False";
  if (dtype.startsWith("float")) {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return Number.isInteger(value) ? `${value}.0` : String(value);
  }
  return String(value);
};

const atomText = (a: Atom, namer: Namer): string =>
  "value" in a ? `${formatLiteralValue(a.value, a.aval.dtype)}:${a.aval.toString()}` : namer.name(a);

const paramText = (v: unknown, indent: string, namer: Namer): string => {
  if (isJaxpr(v)) return printWith(v, indent, namer);
  if (Array.isArray(v)) {
    const items = v.map((x) => paramText(x, indent, namer));
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  if (v instanceof ShapedArray) return v.toString();
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "function") return v.name || "<fn>";
  if (typeof v === "object") {
    if ("name" in v && typeof (v as { name: unknown }).name === "string") return (v as { name: string }).name;
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}=${paramText(x, indent, namer)}`)
      .join(", ")}}`;
  }
  return String(v);
};

/** One equation at indentation `ind`; params holding jaxprs go one per line, as JAX prints them. */
const eqnText = (e: Eqn, ind: string, namer: Namer, used: Set<Var>): string => {
  // Outputs nothing reads print as `_`, as JAX prints them.
  const outs = e.outputs.map((v) => `${used.has(v) ? namer.name(v) : "_"}:${v.aval.toString()}`).join(" ");
  const entries = Object.entries(e.params).filter(([, v]) => v !== undefined);
  const ins = e.inputs.map((a) => atomText(a, namer)).join(" ");
  const nested = entries.some(([, v]) => isJaxpr(v) || (Array.isArray(v) && v.some(isJaxpr)));
  let params = "";
  if (nested) {
    const pind = ind + "  ";
    params = `[\n${entries.map(([k, v]) => `${pind}${k}=${paramText(v, pind, namer)}`).join("\n")}\n${ind}]`;
  } else if (entries.length) {
    params = `[${entries.map(([k, v]) => `${k}=${paramText(v, ind, namer)}`).join(" ")}]`;
  }
  // An equation with no outputs (an effect such as debug_callback) prints without `=`, as in JAX.
  return `${ind}${outs ? `${outs} = ` : ""}${e.primitive.name}${params} ${ins}`.trimEnd();
};

/** A jaxpr whose first line starts at the current column and whose body is indented from `base`. */
const printWith = (j: Jaxpr, base: string, namer: Namer, capture?: { eqn: Eqn; text: string | null }): string => {
  const binders = (vs: Var[]) => vs.map((v) => `${namer.name(v)}:${v.aval.toString()}`).join(" ");
  const head = `{ lambda ${binders(j.constvars)}; ${binders(j.invars)}. let`;
  const used = new Set<Var>();
  for (const e of j.eqns) for (const a of e.inputs) if (!("value" in a)) used.add(a);
  for (const a of j.outvars) if (!("value" in a)) used.add(a);
  const body = j.eqns.map((e) => {
    const text = eqnText(e, base + "    ", namer, used);
    if (capture && e === capture.eqn) capture.text = text.trim();
    return text;
  });
  const outs = j.outvars.map((a) => atomText(a, namer));
  const tail = `${base}  in (${outs.join(", ")}${outs.length === 1 ? "," : ""}) }`;
  return [head, ...body, tail].join("\n");
};

/** JAX's text format: `{ lambda ; a:f32[3]. let b:f32[3] = sin a in (b,) }`. */
export const printJaxpr = (j: Jaxpr): string => printWith(j, "", new Namer());

/**
 * One equation as it prints inside `jaxpr` (with the names a printout of that jaxpr gives
 * its variables), or, without a jaxpr, with fresh names. For error messages: it prints the
 * whole jaxpr to name the variables consistently, so it is not for hot paths.
 */
export const printEqn = (e: Eqn, jaxpr: Jaxpr | null = null): string => {
  if (jaxpr) {
    const capture = { eqn: e, text: null as string | null };
    printWith(jaxpr, "", new Namer(), capture);
    if (capture.text !== null) return capture.text;
  }
  const namer = new Namer();
  for (const a of e.inputs) if (!("value" in a)) namer.name(a);
  return eqnText(e, "", namer, new Set(e.outputs)).trim();
};
