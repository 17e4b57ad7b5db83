/**
 * Every system the bench knows, by name, loaded only in its own child process (so a peer's
 * engine never shares a process with Cotangent). To add a variant of Cotangent, e.g. one
 * that jit-compiles each timed function:
 *
 *   "cotangent-jit": async () => (await import("./cotangent.js")).cotangentSystem({ name: "cotangent-jit", compile: jit, note: "jit" }),
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { loadBundled } from "./bundle.js";
import type { System } from "./system.js";

type TfjsModule = typeof import("./tfjs.js");
const tfjsWasmDir = () => dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm")) + "/";

export const SYSTEMS: Record<string, () => Promise<System>> = {
  cotangent: async () => (await import("./cotangent.js")).default,
  "tfjs-wasm": async () => (await loadBundled<TfjsModule>("./tfjs.ts")).tfjsSystem("wasm", tfjsWasmDir()),
  "tfjs-cpu": async () => (await loadBundled<TfjsModule>("./tfjs.ts")).tfjsSystem("cpu"),
  "jax-js": async () => (await import("./jaxjs.js")).jaxjsSystem(false),
  "jax-js-jit": async () => (await import("./jaxjs.js")).jaxjsSystem(true),
};

/** The systems `pnpm bench` runs when `--systems` is not given, in this order. */
export const DEFAULT_SYSTEMS = Object.keys(SYSTEMS);
