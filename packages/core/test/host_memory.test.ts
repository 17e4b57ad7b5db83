/**
 * The host allocator tuning (kernels/wasm/host_memory.ts) is best effort: it never throws or
 * rejects, whatever fails inside it, does its work at most once per process (every call gets
 * the same promise), leaves no global `gc` behind, and `threadsReady()` waits for it.
 */
import { describe, expect, it, vi } from "vitest";

const freshModule = async () => {
  vi.resetModules();
  return (await import("../src/kernels/wasm/host_memory.js")).tuneHostAllocator;
};

describe("tuneHostAllocator", () => {
  it("resolves false, never rejects, when the collector cannot be had or throws", async () => {
    const a = await freshModule();
    await expect(a(() => Promise.reject(new Error("no v8 here")))).resolves.toBe(false);
    const b = await freshModule();
    await expect(b(async () => () => {
      throw new Error("gc failed");
    })).resolves.toBe(false);
  });

  it("does its work once: every call gets the first call's promise", async () => {
    const tune = await freshModule();
    let calls = 0;
    const counted = async () => () => {
      calls++;
    };
    const first = tune(counted);
    const second = tune(counted);
    expect(second).toBe(first);
    const done = await first;
    expect(done).toBe(process.platform === "linux");
    await tune(counted);
    expect(calls).toBe(done ? 1 : 0);
  });

  it("with the real collector leaves no global gc behind, in this context or later ones", async () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc;
    const tune = await freshModule();
    await expect(tune()).resolves.toBe(process.platform === "linux");
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe(hadGc);
    const vm = await import("node:vm");
    expect(vm.runInNewContext("typeof gc")).toBe("undefined");
  });

  it("threadsReady() resolves only after the tuning is done", async () => {
    vi.resetModules();
    const { threadsReady } = await import("../src/kernels/wasm/threads.js");
    const { tuneHostAllocator } = await import("../src/kernels/wasm/host_memory.js");
    let tuned = false;
    void tuneHostAllocator().then(() => (tuned = true));
    await threadsReady();
    expect(tuned).toBe(true);
  });
});
