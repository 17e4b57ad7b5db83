/**
 * `pnpm --filter @cotangent/bench calls --case W7.fwd [--jit] [--calls N] [--threads T]`:
 * one bench case run N times (default 40) in Cotangent after its check, printing each call's
 * wall time and the minor page faults it took (`ms/faults`), then the median of all calls and
 * of the second half. It shows what `pnpm bench`'s warm-up hides: how much slower the first
 * calls of a process are, and whether fresh memory (page faults) is the reason
 * (docs/performance.md, "On a VM where page faults are costly").
 */
import { setThreads, threadsReady } from "@cotangent/core";
import { SYSTEMS } from "./systems/index.js";
import { median } from "./table.js";
import { once } from "./timing.js";
import { caseById } from "./workloads.js";

const argv = process.argv.slice(2);
const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const id = option("--case") ?? "W7.fwd";
const calls = Number(option("--calls") ?? 40);
const threads = option("--threads");
if (!Number.isInteger(calls) || calls < 2) throw new Error(`--calls takes an integer of at least 2, not ${option("--calls")}`);
const systemName = argv.includes("--jit") ? "cotangent-jit" : "cotangent";
const system = await SYSTEMS[systemName]!();
await system.setup();
if (threads !== undefined) setThreads(Number(threads));
await threadsReady();
const spec = caseById(id);
const impl = system.cases[id];
if (typeof impl !== "function") throw new Error(`${systemName} cannot run ${id}${typeof impl === "string" ? `: ${impl}` : ""}`);
const data = spec.data(false);
const runner = await impl(data, false);
spec.verify(await runner.outputs(), data);

const times: number[] = [];
const faults: number[] = [];
for (let i = 0; i < calls; i++) {
  const f0 = process.resourceUsage().minorPageFault;
  times.push(await once(runner));
  faults.push(process.resourceUsage().minorPageFault - f0);
}
const half = calls >> 1;
console.log(`${systemName} ${id}, ms/faults per call:`);
console.log(times.map((t, i) => `${t.toFixed(2)}/${faults[i]}`).join(" "));
console.log(`median ${median(times).toFixed(2)} ms (all ${calls} calls); second half: median ${median(times.slice(half)).toFixed(2)} ms, ${faults.slice(half).reduce((a, b) => a + b, 0)} faults; first half: ${faults.slice(0, half).reduce((a, b) => a + b, 0)} faults`);
process.exit(0);
