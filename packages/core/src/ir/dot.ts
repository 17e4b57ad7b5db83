/** `toDot(jaxpr)`: the dataflow graph of a jaxpr in Graphviz's DOT language. */
import type { Atom, Jaxpr, Var } from "./jaxpr.js";

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export const toDot = (jaxpr: Jaxpr, name = "jaxpr"): string => {
  const ids = new Map<Var, string>();
  const lines = [`digraph ${JSON.stringify(name)} {`, "  rankdir=TB;", '  node [fontname="monospace", fontsize=10];'];
  let n = 0;
  const node = (v: Var, label: string, shape: string) => {
    const id = `v${n++}`;
    ids.set(v, id);
    lines.push(`  ${id} [label="${esc(label)}", shape=${shape}];`);
  };
  jaxpr.constvars.forEach((v, i) => node(v, `const ${i}\n${v.aval}`, "box"));
  jaxpr.invars.forEach((v, i) => node(v, `in ${i}\n${v.aval}`, "invhouse"));
  const src = (a: Atom): string => {
    if ("value" in a) {
      const id = `l${n++}`;
      lines.push(`  ${id} [label="${a.value}", shape=plaintext];`);
      return id;
    }
    return ids.get(a)!;
  };
  jaxpr.eqns.forEach((e, k) => {
    const id = `e${k}`;
    const loc = e.source?.location ? `\n${e.source.location}` : "";
    lines.push(`  ${id} [label="${esc(e.primitive.name + loc)}", shape=ellipse, style=filled, fillcolor="#eef"];`);
    e.inputs.forEach((a) => lines.push(`  ${src(a)} -> ${id};`));
    e.outputs.forEach((v) => {
      node(v, v.aval.toString(), "box");
      lines.push(`  ${id} -> ${ids.get(v)};`);
    });
  });
  jaxpr.outvars.forEach((a, i) => {
    const id = `o${i}`;
    lines.push(`  ${id} [label="out ${i}", shape=house];`);
    lines.push(`  ${src(a)} -> ${id};`);
  });
  lines.push("}");
  return lines.join("\n");
};
