/**
 * Memory of the gradient of a 16-block residual MLP (block: x + W2·gelu(W1·x); width 256,
 * hidden 1024, batch 512, float32), without checkpointing, with `checkpoint` around each
 * block, and with the `dotsSaveable` policy. Reports peak live bytes (`memoryProfile`) and
 * the residuals the backward pass keeps (`savedResiduals`).
 *
 *   pnpm example memory-mlp            # the sizes of the issue
 *   pnpm example memory-mlp --small    # a quick run (batch 64)
 */
import { type ArrayBase, checkpoint, checkpointPolicies, grad, memoryProfile, np, random, savedResiduals, type CheckpointPolicy } from "@cotangent/core";

const gelu = (x: ArrayBase) =>
  // tanh approximation of GELU (Hendrycks & Gimpel, 2016)
  np.multiply(np.multiply(x, 0.5), np.add(1, np.tanh(np.multiply(Math.sqrt(2 / Math.PI), np.add(x, np.multiply(0.044715, np.power(x, 3)))))));

interface Block {
  w1: ArrayBase;
  w2: ArrayBase;
}

const block = (p: Block, x: ArrayBase) => np.add(x, np.matmul(gelu(np.matmul(x, p.w1)), p.w2));

const lossWith = (mode: "none" | CheckpointPolicy) => (params: Block[], x: ArrayBase) => {
  let h = x;
  for (const p of params) h = mode === "none" ? block(p, h) : checkpoint(block, { policy: mode })(p, h);
  return np.mean(np.square(h));
};

const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export const main = (args: string[]) => {
  const small = args.includes("--small");
  const [depth, width, hidden, batch] = [16, 256, 1024, small ? 64 : 512];
  let key = random.key(0);
  const params: Block[] = [];
  for (let i = 0; i < depth; i++) {
    const [k, k1, k2] = random.split(key, 3);
    key = k!;
    params.push({ w1: np.multiply(random.normal(k1!, [width, hidden]), 1 / Math.sqrt(width)), w2: np.multiply(random.normal(k2!, [hidden, width]), 1 / Math.sqrt(hidden)) });
  }
  const x = random.normal(key, [batch, width]);
  console.log(`residual MLP: ${depth} blocks, width ${width}, hidden ${hidden}, batch ${batch}, float32`);
  const rows: [string, number, number][] = [];
  for (const [name, mode] of [
    ["no checkpoint", "none"],
    ["checkpoint per block (nothingSaveable)", checkpointPolicies.nothingSaveable],
    ["checkpoint per block (dotsSaveable)", checkpointPolicies.dotsSaveable],
  ] as const) {
    const loss = lossWith(mode);
    const saved = savedResiduals(loss, params, x);
    const wide = saved.filter((r) => r.shape.includes(hidden) && !r.origin.startsWith("argument"));
    const savedBytes = saved.filter((r) => !r.origin.startsWith("argument")).reduce((s, r) => s + r.shape.reduce((a, b) => a * b, 1) * 4, 0);
    const t0 = performance.now();
    const { peakBytes } = memoryProfile(() => grad(loss)(params, x));
    const secs = (performance.now() - t0) / 1000;
    rows.push([name, peakBytes, secs]);
    console.log(`\n${name}`);
    console.log(`  residuals kept: ${saved.length} (${saved.filter((r) => r.origin.startsWith("argument")).length} are the function's arguments), ${mb(savedBytes)} besides the arguments`);
    console.log(`  residuals of width ${hidden} (not arguments): ${wide.length}`);
    const kinds = new Map<string, number>();
    for (const r of saved.filter((r) => !r.origin.startsWith("argument"))) kinds.set(`${r.origin} [${r.shape.join(",")}]`, (kinds.get(`${r.origin} [${r.shape.join(",")}]`) ?? 0) + 1);
    for (const [k, n] of kinds) console.log(`    ${n} × ${k}`);
    console.log(`    + ${saved.filter((r) => r.origin.startsWith("argument")).length} argument leaves (x and the weights)`);
    console.log(`  peak live bytes of grad: ${mb(peakBytes)}  (${secs.toFixed(1)} s)`);
  }
  const base = rows[0]![1];
  console.log("\nsummary (peak live bytes relative to no checkpoint):");
  for (const [name, peak] of rows) console.log(`  ${name.padEnd(42)} ${mb(peak).padStart(10)}  ${(peak / base).toFixed(2)}×`);
};
