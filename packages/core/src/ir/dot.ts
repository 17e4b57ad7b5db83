/** `toDot(jaxpr)`: the dataflow graph of a jaxpr in Graphviz's DOT language. */
import { ShapedArray } from "../dtype.js";
import type { Atom, Eqn, Jaxpr, Var } from "./jaxpr.js";

/** What {@link toDot} draws. */
export interface DotOptions {
  /** The graph's name. Default "jaxpr". */
  name?: string;
  /** Writes each equation's user source line under its primitive. Default true. */
  sources?: boolean;
  /** Writes each equation's (non-jaxpr) params under its primitive. Default false. */
  params?: boolean;
  /** Draws a higher-order equation (scan, cond, checkpoint, ...) as one node, without its sub-jaxprs. Default false. */
  collapse?: boolean;
}

/**
 * Fill colours, all 6-digit hex: Graphviz reads `#rrggbb` (and X11 names) but not CSS's
 * 3-digit form, and draws an unreadable colour as black.
 */
export const DOT_COLORS = { eqn: "#e3e9f7", input: "#e3f2e3", output: "#fbefd5", const: "#eeeeee", cluster: "#f6f6f6", clusterLine: "#9a9a9a" } as const;

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

const isJaxpr = (x: unknown): x is Jaxpr => typeof x === "object" && x !== null && "eqns" in x && "invars" in x && "outvars" in x;

const subJaxprs = (e: Eqn): [string, Jaxpr][] =>
  Object.entries(e.params).flatMap(([k, v]): [string, Jaxpr][] =>
    isJaxpr(v) ? [[k, v]] : Array.isArray(v) ? v.filter(isJaxpr).map((j, i): [string, Jaxpr] => [`${k}[${i}]`, j]) : [],
  );

const paramText = (v: unknown): string => {
  if (Array.isArray(v)) return `(${v.map(paramText).join(",")})`;
  if (v instanceof ShapedArray) return v.toString();
  if (typeof v === "function") return v.name || "<fn>";
  if (typeof v === "object" && v !== null) return "name" in v && typeof v.name === "string" ? v.name : "{…}";
  return String(v);
};

/**
 * The jaxpr's dataflow graph: inputs, one node per equation and per intermediate value,
 * outputs; the sub-jaxprs of higher-order equations drawn inside clusters beside them.
 * Render it with Graphviz (`dot -Tsvg`) or `@cotangent/notebook`'s `showGraph`.
 */
export const toDot = (jaxpr: Jaxpr, options: DotOptions | string = {}): string => {
  const opts: DotOptions = typeof options === "string" ? { name: options } : options;
  const lines = [
    `digraph ${JSON.stringify(opts.name ?? "jaxpr")} {`,
    "  rankdir=TB;",
    "  compound=true;",
    '  node [fontname="monospace", fontsize=10, style=filled, fillcolor="#ffffff"];',
  ];
  let n = 0;
  let clusters = 0;
  const draw = (j: Jaxpr, ind: string, prefix: string): { first: string } => {
    const ids = new Map<Var, string>();
    let first = "";
    const node = (v: Var, label: string, shape: string, fill: string) => {
      const id = `${prefix}v${n++}`;
      if (!first) first = id;
      ids.set(v, id);
      lines.push(`${ind}${id} [label="${esc(label)}", shape=${shape}, fillcolor="${fill}"];`);
    };
    j.constvars.forEach((v, i) => node(v, `const ${i}\n${v.aval}`, "box", DOT_COLORS.const));
    j.invars.forEach((v, i) => node(v, `in ${i}\n${v.aval}`, "invhouse", DOT_COLORS.input));
    const src = (a: Atom): string => {
      if ("value" in a) {
        const id = `${prefix}l${n++}`;
        lines.push(`${ind}${id} [label="${a.value}", shape=plaintext, style=""];`);
        return id;
      }
      return ids.get(a) ?? "";
    };
    j.eqns.forEach((e) => {
      const id = `${prefix}e${n++}`;
      if (!first) first = id;
      const subs = opts.collapse ? [] : subJaxprs(e);
      const label = [e.primitive.name];
      if (opts.params) {
        const ps = Object.entries(e.params).filter(([, v]) => v !== undefined && !isJaxpr(v) && !(Array.isArray(v) && v.some(isJaxpr)));
        if (ps.length) label.push(ps.map(([k, v]) => `${k}=${paramText(v)}`).join(" "));
      }
      const loc = opts.sources === false ? null : e.source?.location;
      if (loc) label.push(loc);
      lines.push(`${ind}${id} [label="${esc(label.join("\n"))}", shape=ellipse, fillcolor="${DOT_COLORS.eqn}"];`);
      for (const a of e.inputs) {
        const s = src(a);
        if (s) lines.push(`${ind}${s} -> ${id};`);
      }
      for (const [k, sub] of subs) {
        const c = clusters++;
        lines.push(`${ind}subgraph cluster_${c} {`);
        lines.push(`${ind}  label="${esc(`${e.primitive.name}: ${k}`)}"; style="rounded,filled"; fillcolor="${DOT_COLORS.cluster}"; color="${DOT_COLORS.clusterLine}"; fontname="monospace"; fontsize=10;`);
        const inner = draw(sub, ind + "  ", `c${c}_`);
        lines.push(`${ind}}`);
        if (inner.first) lines.push(`${ind}${id} -> ${inner.first} [style=dashed, arrowhead=none, lhead=cluster_${c}];`);
      }
      e.outputs.forEach((v) => {
        node(v, v.aval.toString(), "box", "#ffffff");
        lines.push(`${ind}${id} -> ${ids.get(v)};`);
      });
    });
    j.outvars.forEach((a, i) => {
      const id = `${prefix}o${i}`;
      lines.push(`${ind}${id} [label="out ${i}", shape=house, fillcolor="${DOT_COLORS.output}"];`);
      const s = src(a);
      if (s) lines.push(`${ind}${s} -> ${id};`);
    });
    return { first };
  };
  draw(jaxpr, "  ", "");
  lines.push("}");
  return lines.join("\n");
};
