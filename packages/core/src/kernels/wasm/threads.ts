/**
 * A pool of worker threads that run Wasm kernels over the shared kernel memory.
 *
 * Workers are made from generated source (a `data:`-free `eval` worker in Node, a Blob URL in
 * browsers), so the ESM, CJS and browser bundles all work and core never imports Node
 * modules statically: `node:worker_threads` and `node:os` are loaded with a dynamic import,
 * only in Node. A worker holds an instance of every kernel module (posted to it as a compiled
 * `WebAssembly.Module`) over the same shared `WebAssembly.Memory` as the main thread.
 *
 * A parallel kernel call opens one job in shared memory, wakes every worker, and takes work
 * itself: chunks of a range, or whole parts, claimed one at a time from a shared counter by
 * whichever thread is free. When the calling thread has claimed the last piece it closes the
 * job and waits only for the workers that joined it (`Atomics.wait` in Node; a spin on
 * `Atomics.load` on a browser's main thread, where waiting is not allowed). A worker that
 * wakes late, after the job closed, stays out of it: the call never waits for a thread that
 * has not started, so a worker descheduled by the OS (a busy machine, or the engine's own
 * garbage-collector and compiler threads on a small one) costs the call nothing. Kernels stay
 * synchronous for the caller. Workers are `unref`'d: they never keep a Node process alive. A
 * worker that throws or exits mid-job marks its slot, so the call fails with an error naming
 * the op instead of hanging. With no `SharedArrayBuffer` (a page that is not cross-origin
 * isolated), or before the pool has started, kernels run on the calling thread only.
 */
import { KernelError, ValueError } from "../../errors.js";
import { tuneHostAllocator } from "./host_memory.js";
import { kernelMemory } from "./runtime.js";

/**
 * Layout of the shared control words (an Int32Array): the calling thread and the workers
 * talk through these, not through messages, on the hot path.
 *
 * Joining is a handshake on OPEN and ACTIVE (sequentially consistent atomics): a worker adds
 * itself to ACTIVE, then reads OPEN; the calling thread clears OPEN, then reads ACTIVE. Either
 * the worker is counted before the caller looks (and is waited for), or it sees the job
 * closed (and leaves without touching it). The job description is written before OPEN is set
 * and not again until ACTIVE is back to zero, so a worker that joined reads a stable job.
 */
const ACTIVE = 0; // workers inside the open job
const CHUNK = 1; // next chunk (or part) of the open job, taken with Atomics.add by every thread
const OPEN = 2; // 1 while a job is open: a worker may join only then
const STATUS = 3; // + w: what worker w did in the last job (0 nothing, 1 ran, 2 threw, 3 exited)
const MAIL = 67; // + w: bumped by the calling thread to wake worker w (Node)
const JOB = 131; // the open job: [function index, parts (0: chunked), chunk total, chunk size, fault, fault ms, spare 0]
const ARGC = 138; // + p: argument count of part p (chunked jobs: part 0 holds the arguments)
/** Most threads a pool has (the calling one and 64 workers). */
const MAX_PARTS = 65;
const SPIN = ARGC + MAX_PARTS; // microseconds a thread polls before it blocks (see spinMicros)
const CTRL_WORDS = SPIN + 1;
/** Arguments per part (float64, so any number passes exactly); part p's start at p * MAX_ARGS. */
export const MAX_ARGS = 128;

/** Test faults, by code in the job's fault word (applied by worker 0). */
const FAULT_CODES = { throw: 1, exit: 2, late: 3, slow: 4 } as const;

/**
 * The worker's whole program: receive modules, then join jobs and report through \`ctrl\`.
 * In Node a worker, once started, blocks in \`Atomics.wait\` on its mailbox word and reads the
 * job from shared memory: a message would cost a trip through both event loops per kernel
 * call (tens of microseconds, more on a busy machine), about a tenth of a 128x256x256 GEMM.
 * Modules and function names still arrive as messages, read synchronously with
 * \`receiveMessageOnPort\` when woken. A browser worker is woken by a message instead.
 * A chunked job's last two arguments are a range [lo, hi) of \`size\`; a job of parts runs
 * part p with its own arguments. Either way each piece is claimed from CHUNK, so a thread
 * that starts late or is descheduled does less of the work instead of holding everyone up.
 */
const WORKER_SOURCE = `
const isNode = typeof self === "undefined";
const wt = isNode ? require("node:worker_threads") : null;
const port = isNode ? wt.parentPort : self;
const ACTIVE = ${ACTIVE}, CHUNK = ${CHUNK}, OPEN = ${OPEN}, STATUS = ${STATUS}, MAIL = ${MAIL}, JOB = ${JOB}, ARGC = ${ARGC}, MAX_ARGS = ${MAX_ARGS}, SPIN = ${SPIN};
let memory, ctrl, args, slot, seen = 0, active = false;
const modules = new Map();
const fns = [];
const leave = () => {
  active = false;
  Atomics.sub(ctrl, ACTIVE, 1);
  Atomics.notify(ctrl, ACTIVE);
};
if (isNode) process.on("exit", () => { if (!ctrl) return; Atomics.store(ctrl, STATUS + slot, 3); if (active) leave(); });
const argsOf = (p) => Array.from(args.subarray(p * MAX_ARGS, p * MAX_ARGS + ctrl[ARGC + p]));
const take = () => {
  const fault = slot === 0 ? ctrl[JOB + 4] : 0;
  if (fault === 3) Atomics.wait(ctrl, JOB + 6, 0, ctrl[JOB + 5]);
  active = true;
  Atomics.add(ctrl, ACTIVE, 1);
  if (Atomics.load(ctrl, OPEN) !== 1) return leave();
  let status = 1;
  try {
    if (fault === 2) {
      if (isNode) process.exit(1);
      Atomics.store(ctrl, STATUS + slot, 3);
      leave();
      self.close();
      return;
    }
    if (fault === 1) throw new Error("injected fault");
    const [id, name] = fns[ctrl[JOB]];
    const f = modules.get(id)[name];
    const parts = ctrl[JOB + 1], total = ctrl[JOB + 2], size = ctrl[JOB + 3];
    let slow = fault === 4;
    const claim = () => {
      const piece = Atomics.add(ctrl, CHUNK, 1);
      if (slow) Atomics.wait(ctrl, JOB + 6, 0, ctrl[JOB + 5]);
      slow = false;
      return piece;
    };
    if (parts > 0) {
      for (let p; (p = claim()) < parts; ) f(...argsOf(p));
    } else {
      const a = argsOf(0);
      for (let lo; (lo = claim() * size) < total; ) f(...a, lo, Math.min(total, lo + size));
    }
  } catch (e) {
    status = 2;
  }
  Atomics.store(ctrl, STATUS + slot, status);
  leave();
};
const drain = () => { for (let m; (m = wt.receiveMessageOnPort(port)); ) onMessage(m.message); };
const serve = () => {
  for (;;) {
    // Poll a moment before blocking: the next kernel of a program often follows within
    // microseconds, and a blocked thread takes far longer than that to wake.
    const until = performance.now() + Atomics.load(ctrl, SPIN) / 1000;
    while (Atomics.load(ctrl, MAIL + slot) === seen && performance.now() < until);
    Atomics.wait(ctrl, MAIL + slot, seen);
    const mail = Atomics.load(ctrl, MAIL + slot);
    if (mail === seen) continue;
    seen = mail;
    drain();
    take();
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
  if (msg.type === "call") take();
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
/** A fault to inject into the next job of worker 0 (tests), and how late it joins for "late". */
let injectFault: keyof typeof FAULT_CODES | undefined;
let lateMs = 0;

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

/** Resolves when the pool has started (and, in Node, the host allocator is tuned: see host_memory.ts), with the number of threads in effect. */
export const threadsReady = (): Promise<number> => startPool();

/**
 * Test hook: the next parallel call's first worker throws or exits mid-job, (`"late"`) wakes
 * `ms` milliseconds late, after the call has finished without it, or (`"slow"`) takes a piece
 * of the work and sleeps `ms` milliseconds before doing it.
 */
export const injectWorkerFault = (fault: keyof typeof FAULT_CODES, ms = 200): void => {
  injectFault = fault;
  lateMs = ms;
};

/** Test hook: which workers took part in the last parallel call (status 1 ran, 2 threw, 3 exited; 0 stayed out). */
export const lastCallWorkers = (): number[] => (ctrl ? workers.map((_, w) => Atomics.load(ctrl!, STATUS + w)) : []);

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

/**
 * How long a worker polls for the next job, and the calling thread for the workers to finish,
 * before blocking in `Atomics.wait`. A blocked thread takes tens to hundreds of microseconds
 * to wake (more in a VM, where the idle core has to be woken too), as long as a small kernel,
 * and a compiled training step calls a dozen kernels within a few milliseconds. Measured
 * in-process, interleaved (W3's Adam step, 2 threads, medians): under jit 4.65 -> 4.21 ms and
 * 4.12 -> 3.61 ms with 500 us against none (200 us: 4.12 -> 3.81), eager 7.77 -> 7.28 ms; W2,
 * W5 and W7 within the noise. The cost is CPU time: a worker polls up to this long after each
 * kernel (W3 under jit: 7.1 -> 8.7 ms of process CPU per step), as thread pools commonly do.
 */
let spinMicros = 500;

/** Sets {@link spinMicros} (measurements and tests); returns the previous value. */
export const setSpinMicros = (us: number): number => {
  const old = spinMicros;
  spinMicros = us;
  if (ctrl) Atomics.store(ctrl, SPIN, us);
  return old;
};

/** Bumped whenever the pool is reconfigured, so an older start still in flight stops adding workers. */
let generation = 0;

const startPool = (): Promise<number> => {
  starting ??= (async (gen: number) => {
    const { memory, shared } = kernelMemory();
    // Whoever waits for the pool before timing anything also gets the tuned allocator.
    await tuneHostAllocator();
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
      ctrl[SPIN] = spinMicros;
      jobArgs = new Float64Array(new SharedArrayBuffer(8 * MAX_PARTS * MAX_ARGS));
    }
    while (workers.length < Math.min(want, MAX_PARTS - 1)) {
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

/**
 * One call's work as the workers see it: `parts` argument lists (part p runs as
 * `fn(...parts[p])`), or a range [0, total) in chunks of `size` (`fn(...parts[0], lo, hi)`).
 */
interface Job {
  parts: number[][];
  chunked: boolean;
  total: number;
  size: number;
}

/**
 * Runs a kernel call on the calling thread (`here`, which claims pieces from CHUNK like the
 * workers do) and on the workers that wake in time to join. Returns when `here` is done and
 * every worker that joined has left; a worker that threw or exited makes it a
 * {@link KernelError} naming `op`. `firstPiece` is where claiming starts (1 when part 0 is
 * the calling thread's own and never claimed).
 */
const launch = (op: string, id: string, fn: string, n: number, c: Int32Array, argv: Float64Array, job: Job, firstPiece: number, here: () => void): void => {
  const index = indexOf(id, fn);
  // No worker is inside a job now: the previous call waited for ACTIVE to drop to zero.
  Atomics.store(c, CHUNK, firstPiece);
  for (let w = 0; w < n - 1; w++) Atomics.store(c, STATUS + w, 0);
  const fault = injectFault;
  injectFault = undefined;
  c[JOB] = index;
  c[JOB + 1] = job.chunked ? 0 : job.parts.length;
  c[JOB + 2] = job.total;
  c[JOB + 3] = job.size;
  c[JOB + 4] = fault ? FAULT_CODES[fault] : 0;
  c[JOB + 5] = lateMs;
  c[JOB + 6] = 0;
  job.parts.forEach((args, p) => {
    c[ARGC + p] = args.length;
    argv.set(args, p * MAX_ARGS);
  });
  Atomics.store(c, OPEN, 1);
  for (let w = 0; w < n - 1; w++) {
    if (isNode) {
      Atomics.add(c, MAIL + w, 1);
      Atomics.notify(c, MAIL + w, 1);
    } else workers[w]!.postMessage({ type: "call" });
  }
  // An injected throw or exit must happen inside this call: wait for worker 0 to meet it; a
  // slow worker 0 must hold a piece while the rest is done here: wait until it has claimed one.
  if (fault === "throw" || fault === "exit") waitWhile(c, STATUS, 0);
  if (fault === "slow") waitWhile(c, CHUNK, firstPiece);
  try {
    here();
  } finally {
    Atomics.store(c, OPEN, 0);
    // The workers are usually finishing their last piece: poll before blocking (see spinMicros).
    const until = performance.now() + Atomics.load(c, SPIN) / 1000;
    while (Atomics.load(c, ACTIVE) !== 0 && performance.now() < until);
    for (let a; (a = Atomics.load(c, ACTIVE)) !== 0; ) waitWhile(c, ACTIVE, a);
  }
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
 * Splits one kernel call into `parts` = the number of threads available now, with arguments
 * `argsOf(p, parts)`. Each part runs once, on whichever thread claims it first: the calling
 * thread through `runHere(args)`, a worker as `fn(...args)` of module `id`; the parts of a
 * worker that has not woken yet run here. Parts given the very same argument array are one
 * cooperative kernel that claims its own work (a convolution's units): it runs here once,
 * and on each worker that joins in time. Returns when every part is done. With no workers
 * (or the module not shared) the single part runs here.
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
  const c = ctrl!;
  if (parts.every((a) => a === parts[0])) {
    launch(op, id, fn, n, c, jobArgs!, { parts, chunked: false, total: 0, size: 0 }, 1, () => runHere(parts[0]!));
    return;
  }
  launch(op, id, fn, n, c, jobArgs!, { parts, chunked: false, total: 0, size: 0 }, 0, () => {
    for (let p; (p = Atomics.add(c, CHUNK, 1)) < n; ) runHere(parts[p]!);
  });
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
  launch(op, id, fn, n, c, jobArgs!, { parts: [args], chunked: true, total, size }, 0, () => {
    for (let lo; (lo = Atomics.add(c, CHUNK, 1) * size) < total; ) runHere(lo, Math.min(total, lo + size));
  });
};

const canBlock = (): boolean => {
  if (isNode) return true;
  // Browsers forbid Atomics.wait on the main (window) thread only.
  return typeof (globalThis as { document?: unknown }).document === "undefined";
};

/** Returns once `c[at]` is no longer `value` (blocking where allowed, spinning elsewhere). */
const waitWhile = (c: Int32Array, at: number, value: number): void => {
  const block = canBlock();
  while (Atomics.load(c, at) === value) if (block) Atomics.wait(c, at, value, 50);
};
