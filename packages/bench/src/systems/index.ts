/**
 * Every system the bench knows, by name, loaded only in its own child process (so a peer's
 * engine never shares a process with Cotangent). To add a variant of Cotangent, e.g. one
 * that jit-compiles each timed function:
 *
 *   cotangentSystem({ name: "cotangent-jit", compile: jit }), as `cotangent-jit` below.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { loadBundled } from "./bundle.js";
import type { System } from "./system.js";

type TfjsModule = typeof import("./tfjs.js");
const tfjsWasmDir = () => dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm")) + "/";

export const SYSTEMS: Record<string, () => Promise<System>> = {
  cotangent: async () => (await import("./cotangent.js")).default,
  "cotangent-jit": async () => {
    const [{ cotangentSystem }, { jit }] = await Promise.all([import("./cotangent.js"), import("@cotangent/core")]);
    return cotangentSystem({
      name: "cotangent-jit",
      compile: (f, o) => jit(f, o?.donate ? { donateArgnums: o.donate } : {}) as unknown as typeof f,
      note: "with each timed function under jit (W3's step donates its parameters and optimizer state, as a JAX training step does)",
    });
  },
  // Not run by default: the one-thread figure the kernels issue asks for (`--systems cotangent-1thread,tfjs-wasm`).
  "cotangent-1thread": async () => {
    const { cotangentSystem } = await import("./cotangent.js");
    return cotangentSystem({ name: "cotangent-1thread", compile: (f) => f, threads: 1 });
  },
  "tfjs-wasm": async () => (await loadBundled<TfjsModule>("./tfjs.ts")).tfjsSystem("wasm", tfjsWasmDir()),
  "tfjs-cpu": async () => (await loadBundled<TfjsModule>("./tfjs.ts")).tfjsSystem("cpu"),
  "jax-js": async () => (await import("./jaxjs.js")).jaxjsSystem(false),
  "jax-js-jit": async () => (await import("./jaxjs.js")).jaxjsSystem(true),
};

/** The systems `pnpm bench` runs when `--systems` is not given, in this order. */
export const DEFAULT_SYSTEMS = Object.keys(SYSTEMS).filter((s) => s !== "cotangent-1thread");
