/**
 * `typecheck(jaxpr)`: every var is bound once before use, and every equation's output
 * avals equal its primitive's abstract evaluation. Sub-jaxprs are checked too.
 */
import { type SourceInfo, TypecheckError } from "../errors.js";
import type { Atom, Jaxpr, Var } from "./jaxpr.js";
import { printJaxpr } from "./print.js";

export const typecheck = (jaxpr: Jaxpr): void => {
  const bound = new Set<Var>();
  const fail = (msg: string, where: SourceInfo | null = null): never => {
    throw new TypecheckError(`${msg}\nin jaxpr:\n${printJaxpr(jaxpr)}`, { op: "typecheck", source: where });
  };
  const bind = (v: Var, what: string) => {
    if (bound.has(v)) fail(`variable of type ${v.aval} bound twice (${what})`);
    bound.add(v);
  };
  const read = (a: Atom, what: string) => {
    if ("value" in a) {
      if (a.aval.shape.length !== 0) fail(`literal ${a.value} in ${what} is not a scalar`);
      return;
    }
    if (!bound.has(a)) fail(`variable of type ${a.aval} used in ${what} before it is bound`);
  };
  jaxpr.constvars.forEach((v, i) => {
    bind(v, "constvar");
    const c = jaxpr.consts[i]!;
    if (!c.aval.equals(v.aval)) fail(`constvar ${i} has type ${v.aval} but its value has type ${c.aval}`);
  });
  jaxpr.invars.forEach((v) => bind(v, "invar"));
  jaxpr.eqns.forEach((e, k) => {
    const what = `equation ${k} (${e.primitive.name})`;
    const src = e.source; // read lazily: formatting a stack is costly
    e.inputs.forEach((a) => read(a, what));
    let expected;
    try {
      expected = e.primitive.abstractEval(
        e.inputs.map((a) => a.aval),
        e.params,
      );
    } catch (err) {
      fail(`${what} rejects its input types: ${(err as Error).message}`, src);
    }
    if (expected!.length !== e.outputs.length) {
      fail(`${what} binds ${e.outputs.length} outputs but its primitive produces ${expected!.length}`, src);
    }
    e.outputs.forEach((v, i) => {
      if (!expected![i]!.equals(v.aval)) {
        fail(`${what} output ${i} is declared ${v.aval} but abstract evaluation gives ${expected![i]}`, src);
      }
      bind(v, what);
    });
    for (const sub of e.primitive.subJaxprs?.(e.params) ?? []) typecheck(sub);
  });
  jaxpr.outvars.forEach((a) => read(a, "outputs"));
};
