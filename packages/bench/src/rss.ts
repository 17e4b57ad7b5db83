/**
 * `pnpm --filter @cotangent/bench rss [--jit] [--grads] [--steps N]`: W3's Adam step (MLP
 * 784-256-256-10, batch 128; with `--grads`, the step that also returns its gradients, 1 MB
 * of new arrays a step) run 1,000 times in Cotangent, printing the process's resident set size
 * after 100 and after 1,000 steps. Kernel scratch memory is reused, and arrays are garbage-collected, so
 * RSS must plateau: the script exits non-zero when the 1,000-step figure exceeds the
 * 100-step one by more than 10% (the kernels issue's bound).
 */
import { SYSTEMS } from "./systems/index.js";
import { caseById } from "./workloads.js";

const argv = process.argv.slice(2);
const steps = argv.includes("--steps") ? Number(argv[argv.indexOf("--steps") + 1]) : 1000;
const systemName = argv.includes("--jit") ? "cotangent-jit" : "cotangent";
const system = await SYSTEMS[systemName]!();
await system.setup();
const id = argv.includes("--grads") ? "W3.adam-step-grads" : "W3.adam-step";
const spec = caseById(id);
const impl = system.cases[id];
if (typeof impl !== "function") throw new Error(`${systemName} has no W3 step`);
const runner = await impl(spec.data(false), false);
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const marks = new Map<number, number>();
const t0 = performance.now();
for (let i = 1; i <= steps; i++) {
  runner.run();
  if (i === 100 || i === steps || i % 250 === 0) {
    marks.set(i, process.memoryUsage().rss);
    process.stderr.write(`step ${i}: rss ${mib(marks.get(i)!)} MiB, heap ${mib(process.memoryUsage().heapUsed)} MiB, ${((performance.now() - t0) / i).toFixed(1)} ms/step\n`);
  }
}
const at100 = marks.get(100)!;
const atEnd = marks.get(steps)!;
const ratio = atEnd / at100;
console.log(`${systemName} ${id}: RSS after 100 steps ${mib(at100)} MiB, after ${steps} steps ${mib(atEnd)} MiB (${((ratio - 1) * 100).toFixed(1)}%)`);
process.exit(ratio <= 1.1 ? 0 : 1);
