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

/**
 * Layout of the shared control words (an Int32Array): the calling thread and the workers
 * talk through these, not through messages, on the hot path.
 */
const DONE = 0; // jobs finished in the current call
const CHUNK = 1; // next chunk of a chunked call, taken with Atomics.add by every thread
const STATUS = 2; // + w: status of worker w (0 running, 1 done, 2 threw, 3 exited)
const MAIL = 66; // + w: bumped by the calling thread to hand worker w a job (Node)
const JOB = 130; // + w * JOB_WORDS: worker w's job [function index, argument count, chunk total, chunk size]
const JOB_WORDS = 4;
const CTRL_WORDS = JOB + 64 * JOB_WORDS;
/** Arguments per job (float64, so any number passes exactly); worker w's start at w * MAX_ARGS. */
export const MAX_ARGS = 128;

/**
 * The worker's whole program: receive modules, then run jobs and report through \`ctrl\`.
 * In Node a worker, once started, blocks in \`Atomics.wait\` on its mailbox word and takes its
 * job from shared memory: a message would cost a trip through both event loops per kernel
 * call (tens of microseconds, more on a busy machine), about a tenth of a 128x256x256 GEMM.
 * Modules and function names still arrive as messages, read synchronously with
 * \`receiveMessageOnPort\` when a job comes. A browser worker gets every job as a message.
 * A chunked job's last two arguments are a range [lo, hi): every thread takes chunks of
 * \`size\` from a shared counter until \`total\` is covered, so a thread that starts late or
 * is descheduled does less of the work instead of holding everyone up.
 */
const WORKER_SOURCE = `
const isNode = typeof self === "undefined";
const wt = isNode ? require("node:worker_threads") : null;
const port = isNode ? wt.parentPort : self;
const DONE = ${DONE}, CHUNK = ${CHUNK}, STATUS = ${STATUS}, MAIL = ${MAIL}, JOB = ${JOB}, JOB_WORDS = ${JOB_WORDS}, MAX_ARGS = ${MAX_ARGS};
let memory, ctrl, args, slot, seen = 0;
const modules = new Map();
const fns = [];
const finish = (status) => {
  Atomics.store(ctrl, STATUS + slot, status);
  Atomics.add(ctrl, DONE, 1);
  Atomics.notify(ctrl, DONE);
};
if (isNode) process.on("exit", () => { if (ctrl && Atomics.load(ctrl, STATUS + slot) === 0) finish(3); else if (ctrl) Atomics.store(ctrl, STATUS + slot, 3); });
const run = (fnIndex, a, total, size, fault) => {
  if (fault === "exit") { if (isNode) process.exit(1); else { finish(3); self.close(); } return; }
  try {
    if (fault === "throw") throw new Error("injected fault");
    const [id, name] = fns[fnIndex];
    const f = modules.get(id)[name];
    if (size > 0) {
      for (;;) {
        const lo = Atomics.add(ctrl, CHUNK, 1) * size;
        if (lo >= total) break;
        f(...a, lo, Math.min(total, lo + size));
      }
    } else f(...a);
    finish(1);
  } catch (e) {
    finish(2);
  }
};
const serve = () => {
  for (;;) {
    Atomics.wait(ctrl, MAIL + slot, seen);
    const mail = Atomics.load(ctrl, MAIL + slot);
    if (mail === seen) continue;
    seen = mail;
    for (let m; (m = wt.receiveMessageOnPort(port)); ) onMessage(m.message);
    const j = JOB + slot * JOB_WORDS;
    const fault = ctrl[j] < 0 ? (ctrl[j] === -1 ? "throw" : "exit") : undefined;
    const a = Array.from(args.subarray(slot * MAX_ARGS, slot * MAX_ARGS + ctrl[j + 1]));
    run(fault ? 0 : ctrl[j], a, ctrl[j + 2], ctrl[j + 3], fault);
  }
};
const onMessage = (msg) => {
  if (msg.type === "init") {
    memory = msg.memory; ctrl = new Int32Array(msg.ctrl); args = new Float64Array(msg.args); slot = msg.slot; seen = msg.mail;
    if (isNode) setImmediate(serve); else self.postMessage({ type: "ready" });
    return;
  }
  if (msg.type === "module") { modules.set(msg.id, new WebAssembly.Instance(msg.module, { env: { memory } }).exports); return; }
  if (msg.type === "fn") { fns[msg.index] = [msg.id, msg.fn]; return; }
  if (msg.type === "call") run(msg.fn, msg.args, msg.total, msg.size, msg.fault);
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
/** Kernel functions by index, as `[module id, export name]`: a job names its function by index. */
const functions: [string, string][] = [];
const functionIndex = new Map<string, number>();
/** The control words (layout above) and the job arguments, shared with every worker. */
let ctrl: Int32Array | undefined;
let jobArgs: Float64Array | undefined;
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
    if (!ctrl || !jobArgs) {
      ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL_WORDS));
      jobArgs = new Float64Array(new SharedArrayBuffer(8 * 64 * MAX_ARGS));
    }
    while (workers.length < Math.min(want, 64)) {
      const slot = workers.length;
      const w = await spawn({ type: "init", memory, ctrl: ctrl.buffer, args: jobArgs.buffer, slot, mail: Atomics.load(ctrl, MAIL + slot) });
      if (gen !== generation) {
        void w.terminate();
        break;
      }
      for (const [id, module] of modules) w.postMessage({ type: "module", id, module });
      functions.forEach(([id, fn], index) => w.postMessage({ type: "fn", index, id, fn }));
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
  jobArgs = undefined;
  void startPool();
};

/** The index of kernel function `fn` of module `id`, made known to every worker on first use. */
const indexOf = (id: string, fn: string): number => {
  const key = `${id}\u0000${fn}`;
  let index = functionIndex.get(key);
  if (index === undefined) {
    index = functions.length;
    functions.push([id, fn]);
    functionIndex.set(key, index);
    for (const w of workers) w.postMessage({ type: "fn", index, id, fn });
  }
  return index;
};

/** One worker's part of a call: its arguments, and the chunking of a chunked call (size 0: none). */
interface Job {
  args: number[];
  total: number;
  size: number;
}

/**
 * Runs a kernel call on the workers and the calling thread: `jobOf(w)` is worker w's part,
 * `here` the calling thread's. Returns when every part is done; a worker that threw or
 * exited makes it a {@link KernelError} naming `op`.
 */
const launch = (op: string, id: string, fn: string, n: number, c: Int32Array, argv: Float64Array, jobOf: (w: number) => Job, here: () => void): void => {
  const index = indexOf(id, fn);
  Atomics.store(c, DONE, 0);
  Atomics.store(c, CHUNK, 0);
  for (let w = 0; w < n - 1; w++) Atomics.store(c, STATUS + w, 0);
  for (let w = 0; w < n - 1; w++) {
    const { args, total, size } = jobOf(w);
    const fault = w === 0 ? injectFault : undefined;
    if (isNode) {
      const j = JOB + w * JOB_WORDS;
      c[j] = fault === "throw" ? -1 : fault === "exit" ? -2 : index;
      c[j + 1] = args.length;
      c[j + 2] = total;
      c[j + 3] = size;
      argv.set(args, w * MAX_ARGS);
      Atomics.add(c, MAIL + w, 1);
      Atomics.notify(c, MAIL + w, 1);
    } else workers[w]!.postMessage({ type: "call", fn: index, args, total, size, fault });
  }
  injectFault = undefined;
  here();
  waitFor(c, n - 1);
  const bad: number[] = [];
  let exited = false;
  for (let w = 0; w < n - 1; w++) {
    const s = Atomics.load(c, STATUS + w);
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

/** The threads a call of module `id` can use now (1: run it here), after replacing a pool with a dead worker. */
const threadsFor = (id: string): number => {
  void startPool();
  const c = ctrl;
  if (c && workers.some((_, w) => Atomics.load(c, STATUS + w) === 3)) rebuild();
  return ctrl && jobArgs && modules.has(id) ? workers.length + 1 : 1;
};

/**
 * Splits one kernel call into `parts` = the number of threads available now: part 0 runs on
 * the calling thread through `runHere`, part p > 0 as `fn(...argsOf(p, parts))` of module `id`
 * on worker p - 1. Returns when every part is done. With no workers (or the module not
 * shared) the single part runs here.
 */
export const parallelFor = (op: string, id: string, fn: string, argsOf: (part: number, parts: number) => number[], runHere: (args: number[]) => void): void => {
  const n = threadsFor(id);
  if (n === 1) {
    runHere(argsOf(0, 1));
    return;
  }
  const parts = Array.from({ length: n }, (_, p) => argsOf(p, n));
  if (parts.some((a) => a.length > MAX_ARGS)) {
    // More arguments than a job slot holds: every part runs here, one after another.
    for (const args of parts) runHere(args);
    return;
  }
  launch(op, id, fn, n, ctrl!, jobArgs!, (w) => ({ args: parts[w + 1]!, total: 0, size: 0 }), () => runHere(parts[0]!));
};

/**
 * Runs `fn(...args, lo, hi)` of module `id` over the range [0, total) in chunks of `size`,
 * each thread (the calling one through `runHere(lo, hi)`) taking the next chunk from a shared
 * counter until none is left: the split follows how fast each thread actually runs. With no
 * workers the whole range runs here in one call.
 */
export const parallelChunks = (op: string, id: string, fn: string, args: number[], total: number, size: number, runHere: (lo: number, hi: number) => void): void => {
  const n = threadsFor(id);
  if (n === 1 || total <= size || args.length + 2 > MAX_ARGS) {
    runHere(0, total);
    return;
  }
  const c = ctrl!;
  launch(op, id, fn, n, c, jobArgs!, () => ({ args, total, size }), () => {
    for (;;) {
      const lo = Atomics.add(c, CHUNK, 1) * size;
      if (lo >= total) break;
      runHere(lo, Math.min(total, lo + size));
    }
  });
};

const canBlock = (): boolean => {
  if (isNode) return true;
  // Browsers forbid Atomics.wait on the main (window) thread only.
  return typeof (globalThis as { document?: unknown }).document === "undefined";
};

const waitFor = (c: Int32Array, jobs: number): void => {
  const block = canBlock();
  for (;;) {
    const done = Atomics.load(c, DONE);
    if (done >= jobs) return;
    if (block) Atomics.wait(c, DONE, done, 50);
  }
};
