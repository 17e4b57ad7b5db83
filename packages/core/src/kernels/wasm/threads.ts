/**
 * A pool of worker threads that run Wasm kernels over the shared kernel memory.
 *
 * Workers are made from generated source (a `data:`-free `eval` worker in Node, a Blob URL in
 * browsers), so the ESM, CJS and browser bundles all work and core never imports Node
 * modules statically: `node:worker_threads` and `node:os` are loaded with a dynamic import,
 * only in Node. A worker holds an instance of every kernel module (posted to it as a compiled
 * `WebAssembly.Module`) over the same shared `WebAssembly.Memory` as the main thread.
 *
 * A parallel kernel call posts one job per worker, runs its own share on the calling thread,
 * then waits on a shared counter (`Atomics.wait` in Node; a spin on `Atomics.load` on a
 * browser's main thread, where waiting is not allowed). Kernels stay synchronous for the
 * caller. Workers are `unref`'d: they never keep a Node process alive. A worker that throws
 * or exits mid-job marks its slot, so the call fails with an error naming the op instead of
 * hanging. With no `SharedArrayBuffer` (a page that is not cross-origin isolated), or before
 * the pool has started, kernels run on the calling thread only.
 */
import { KernelError, ValueError } from "../../errors.js";
import { kernelMemory } from "./runtime.js";

/** The worker's whole program: receive modules and jobs, run them, report through `ctrl`. */
const WORKER_SOURCE = `
const isNode = typeof self === "undefined";
const port = isNode ? require("node:worker_threads").parentPort : self;
let memory, ctrl, slot;
const modules = new Map();
const finish = (status) => {
  Atomics.store(ctrl, 2 + slot, status);
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
};
if (isNode) process.on("exit", () => { if (ctrl && Atomics.load(ctrl, 2 + slot) === 0) finish(3); else if (ctrl) Atomics.store(ctrl, 2 + slot, 3); });
const onMessage = (msg) => {
  if (msg.type === "init") { memory = msg.memory; ctrl = new Int32Array(msg.ctrl); slot = msg.slot; if (!isNode) self.postMessage({ type: "ready" }); return; }
  if (msg.type === "module") { modules.set(msg.id, new WebAssembly.Instance(msg.module, { env: { memory } }).exports); return; }
  if (msg.type === "call") {
    if (msg.fault === "exit") { if (isNode) process.exit(1); else { finish(3); self.close(); } return; }
    try {
      if (msg.fault === "throw") throw new Error("injected fault");
      modules.get(msg.id)[msg.fn](...msg.args);
      finish(1);
    } catch (e) {
      finish(2);
    }
  }
};
if (isNode) port.on("message", onMessage); else self.onmessage = (e) => onMessage(e.data);
`;

interface AnyWorker {
  postMessage(msg: unknown): void;
  terminate(): unknown;
}

const isNode = typeof process === "object" && typeof process.versions?.node === "string";

/**
 * A Node built-in, loaded only when running in Node. The specifier is a variable so bundlers
 * targeting browsers neither resolve nor include it.
 */
const nodeBuiltin = <T>(name: string): Promise<T> => {
  const specifier = `node:${name}`;
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
};

let desired: number | undefined;
let cores = 1;
let workers: AnyWorker[] = [];
let starting: Promise<number> | undefined;
const modules = new Map<string, WebAssembly.Module>();
/** ctrl[0]: jobs finished in the current call; ctrl[1]: unused; ctrl[2 + w]: status of worker w (0 running, 1 done, 2 threw, 3 exited). */
let ctrl: Int32Array | undefined;
/** A fault to inject into the next job of worker 0 (tests). */
let injectFault: "throw" | "exit" | undefined;

/**
 * Sets how many threads kernels use, counting the calling thread (1 = no workers). The default
 * is the number of cores available. Takes effect for the next kernel call; workers start in
 * the background (await {@link threadsReady} to wait for them).
 */
export const setThreads = (n: number): void => {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new ValueError(`the thread count must be a positive integer, got ${typeof n === "number" ? n : typeof n}`, {
      op: "setThreads",
      hint: "use 1 to run every kernel on the calling thread",
    });
  }
  desired = n;
  generation++;
  if (workers.length > n - 1) {
    for (const w of workers.slice(n - 1)) void w.terminate();
    workers = workers.slice(0, n - 1);
  }
  starting = undefined;
  void startPool();
};

/** The thread count in effect now (the calling thread plus the workers that are ready). */
export const activeThreads = (): number => (ctrl ? workers.length + 1 : 1);

/** Resolves when the pool has started, with the number of threads in effect. */
export const threadsReady = (): Promise<number> => startPool();

/** Test hook: the next parallel call's first worker throws or exits mid-job. */
export const injectWorkerFault = (fault: "throw" | "exit"): void => {
  injectFault = fault;
};

/** Starts a worker and sends it `init` (the shared memory, the control words, its slot). */
const spawn = async (init: unknown): Promise<AnyWorker> => {
  if (isNode) {
    const { Worker } = await nodeBuiltin<typeof import("node:worker_threads")>("worker_threads");
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.postMessage(init);
    return w as unknown as AnyWorker;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  const w = new Worker(url);
  w.postMessage(init);
  // In a browser a worker starts, and takes in the shared memory, only while the page's event
  // loop turns: one joined to the pool before that would never answer a kernel's spin-wait on
  // the main thread (a deadlock, seen in chromium). Wait until it says it has its memory.
  await new Promise<void>((resolve, reject) => {
    w.onmessage = (e: MessageEvent) => e.data?.type === "ready" && resolve();
    w.onerror = (e: ErrorEvent) => reject(new KernelError(`a kernel worker thread failed to start: ${e.message}`, { op: "setThreads" }));
  });
  w.onmessage = null;
  URL.revokeObjectURL(url);
  return w as unknown as AnyWorker;
};

/** Bumped whenever the pool is reconfigured, so an older start still in flight stops adding workers. */
let generation = 0;

const startPool = (): Promise<number> => {
  starting ??= (async (gen: number) => {
    const { memory, shared } = kernelMemory();
    if (!shared) return 1;
    if (desired === undefined) {
      if (isNode) {
        const os = await nodeBuiltin<typeof import("node:os")>("os");
        cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
      } else cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
    }
    const want = Math.max(0, (desired ?? cores) - 1);
    if (!ctrl) ctrl = new Int32Array(new SharedArrayBuffer(4 * 66));
    while (workers.length < Math.min(want, 64)) {
      const w = await spawn({ type: "init", memory, ctrl: ctrl.buffer, slot: workers.length });
      if (gen !== generation) {
        void w.terminate();
        break;
      }
      for (const [id, module] of modules) w.postMessage({ type: "module", id, module });
      workers.push(w);
    }
    return workers.length + 1;
  })(generation);
  return starting;
};

/** Makes a compiled kernel module available to every worker (now and later), under `id`. */
export const shareModule = (id: string, module: WebAssembly.Module): void => {
  if (modules.has(id)) return;
  modules.set(id, module);
  for (const w of workers) w.postMessage({ type: "module", id, module });
};

/** Drops every worker (one died) and starts a fresh pool in the background. */
const rebuild = (): void => {
  generation++;
  for (const w of workers) void w.terminate();
  workers = [];
  starting = undefined;
  ctrl = undefined;
  void startPool();
};

/**
 * Splits one kernel call into `parts` = the number of threads available now: part 0 runs on
 * the calling thread through `runHere`, part p > 0 as `fn(...argsOf(p, parts))` of module `id`
 * on worker p - 1. Returns when every part is done. With no workers (or the module not
 * shared) the single part runs here.
 */
export const parallelFor = (op: string, id: string, fn: string, argsOf: (part: number, parts: number) => number[], runHere: (args: number[]) => void): void => {
  void startPool();
  const c = ctrl;
  if (c && workers.some((_, w) => Atomics.load(c, 2 + w) === 3)) rebuild();
  const n = ctrl && modules.has(id) ? workers.length + 1 : 1;
  if (n === 1 || !c) {
    runHere(argsOf(0, 1));
    return;
  }
  Atomics.store(c, 0, 0);
  for (let w = 0; w < n - 1; w++) Atomics.store(c, 2 + w, 0);
  for (let w = 0; w < n - 1; w++) {
    workers[w]!.postMessage({ type: "call", id, fn, args: argsOf(w + 1, n), fault: w === 0 ? injectFault : undefined });
  }
  injectFault = undefined;
  runHere(argsOf(0, n));
  waitFor(c, n - 1);
  const bad: number[] = [];
  let exited = false;
  for (let w = 0; w < n - 1; w++) {
    const s = Atomics.load(c, 2 + w);
    if (s === 2 || s === 3) bad.push(w);
    if (s === 3) exited = true;
  }
  if (exited) rebuild();
  if (bad.length > 0) {
    throw new KernelError(
      `a kernel worker thread ${exited ? "exited" : "failed"} while computing this op (worker ${bad.join(", ")} of ${n - 1}); the result was discarded`,
      { op, hint: "this is a bug or a crashed thread, not your input; setThreads(1) runs kernels on the calling thread only" },
    );
  }
};

const canBlock = (): boolean => {
  if (isNode) return true;
  // Browsers forbid Atomics.wait on the main (window) thread only.
  return typeof (globalThis as { document?: unknown }).document === "undefined";
};

const waitFor = (c: Int32Array, jobs: number): void => {
  const block = canBlock();
  for (;;) {
    const done = Atomics.load(c, 0);
    if (done >= jobs) return;
    if (block) Atomics.wait(c, 0, done, 50);
  }
};
