/**
 * Runs one example by name: `pnpm example <name> [args]`.
 * Each example is a module exporting `main(args)`.
 */
const examples: Record<string, () => Promise<{ main: (args: string[]) => Promise<void> | void }>> = {
  "memory-mlp": () => import("./memory_residual_mlp.js"),
  "memory-rnn": () => import("./memory_rnn_scan.js"),
  mnist: () => import("./mnist.js"),
  "jit-timings": () => import("./jit_timings.js"),
  "http-predict": () => import("./http_predict.js"),
  "export-onnx": () => import("./export_onnx.js"),
  "mnist-cnn": () => import("./mnist_cnn.js"),
  "tiny-transformer": () => import("./tiny_transformer.js"),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? examples[name] : undefined;
if (!load) {
  console.error(`usage: pnpm example <${Object.keys(examples).join(" | ")}> [args]`);
  process.exit(2);
}
const mod = await load();
await mod.main(args);
