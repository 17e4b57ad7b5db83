/**
 * One system's run, in its own process: `child.ts --system NAME --cases ID,ID [--quick] --out FILE`.
 * Writes `{ system, description, results }` as JSON to FILE; progress goes to stderr.
 */
import { writeFileSync } from "node:fs";
import { SYSTEMS } from "./systems/index.js";
import { type CaseResult, runCase } from "./timing.js";
import { caseById } from "./workloads.js";

export interface ChildReport {
  system: string;
  description: string;
  results: CaseResult[];
}

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const name = flag("--system")!;
const ids = (flag("--cases") ?? "").split(",").filter(Boolean);
const quick = process.argv.includes("--quick");
const out = flag("--out")!;

const load = SYSTEMS[name];
if (!load) throw new Error(`unknown system ${name}`);
const system = await load();
await system.setup();
const results: CaseResult[] = [];
for (const id of ids) {
  const spec = caseById(id);
  process.stderr.write(`  ${name} ${id} ... `);
  const r = await runCase(name, spec, system.cases[id], quick);
  const med = r.samples.length ? [...r.samples].sort((a, b) => a - b)[r.samples.length >> 1]!.toFixed(2) + " ms" : r.value !== undefined ? `${r.value} B` : "";
  process.stderr.write(`${r.status} ${med}${r.note ? ` (${r.note})` : ""}\n`);
  results.push(r);
}
const report: ChildReport = { system: name, description: system.describe(), results };
writeFileSync(out, JSON.stringify(report));
// Peers may leave handles open (wasm thread pools): the report is written, so leave now.
process.exit(0);
