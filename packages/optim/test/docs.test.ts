/**
 * Runs every `ts` block of docs/optim.md, in order and in one scope, and checks each
 * `console.log(...); // expected` line against its comment (numbers to 1e-9, a trailing
 * parenthesised remark ignored). The page's examples cannot drift from the library.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as core from "@cotangent/core";
import * as optim from "@cotangent/optim";
import { expect, it } from "vitest";

const page = readFileSync(fileURLToPath(new URL("../../../docs/optim.md", import.meta.url)), "utf8");
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

const show = (x: unknown): string => (Array.isArray(x) ? `[${x.join(", ")}]` : String(x));
const sameTokens = (got: string, want: string) => {
  const [g, w] = [got.split(/\s+/), want.split(/\s+/)];
  expect(g.length, `"${got}" vs "${want}"`).toBe(w.length);
  g.forEach((t, i) => {
    const [a, b] = [Number(t), Number(w[i])];
    if (t !== "" && !Number.isNaN(a) && !Number.isNaN(b)) expect(Math.abs(a - b), `"${got}" vs "${want}"`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
    else expect(t).toBe(w[i]);
  });
};

it("docs/optim.md: every example runs and prints what its comment says", () => {
  expect(blocks.length).toBeGreaterThan(8);
  let checks = 0;
  const check = (want: string, ...args: unknown[]) => {
    checks++;
    sameTokens(args.map(show).join(" "), want.replace(/\s*\([^()]*\)$/, "").trim());
  };
  const code = blocks
    .join("\n;\n")
    .split("\n")
    .filter((l) => !/^import /.test(l))
    .map((l) => {
      const m = /^(\s*)console\.log\((.*)\);\s*\/\/\s*(.*)$/.exec(l);
      return m ? `${m[1]}__check(${JSON.stringify(m[3])}, ${m[2]});` : l;
    })
    .join("\n");
  const { np, grad, tree, makeJaxpr, vmap } = core;
  new Function("np", "grad", "tree", "makeJaxpr", "vmap", "optim", "__check", code)(np, grad, tree, makeJaxpr, vmap, optim, check);
  expect(checks).toBeGreaterThan(10);
});
