/**
 * The host allocator tuning (kernels/wasm/host_memory.ts) is best effort: it never throws or
 * rejects, whatever fails inside it, does its work at most once per process, and leaves no
 * global `gc` behind.
 */
import { describe, expect, it } from "vitest";
import { tuneHostAllocator } from "../src/kernels/wasm/host_memory.js";

describe("tuneHostAllocator", () => {
  it("resolves false, never rejects, when the collector cannot be had or throws; and counts as done", async () => {
    // Run in a fresh module instance, so the real tuning of this process is not spent.
    const { vi } = await import("vitest");
    vi.resetModules();
    const fresh = (await import("../src/kernels/wasm/host_memory.js")).tuneHostAllocator;
    await expect(fresh(() => Promise.reject(new Error("no v8 here")))).resolves.toBe(false);
    await expect(fresh(async () => () => {
      throw new Error("gc failed");
    })).resolves.toBe(false);
    vi.resetModules();
    const again = (await import("../src/kernels/wasm/host_memory.js")).tuneHostAllocator;
    await expect(again(async () => () => {
      throw new Error("gc failed");
    })).resolves.toBe(false);
  });

  it("does its work once per process (on Node/Linux) and is idempotent after", async () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc;
    const first = await tuneHostAllocator();
    const second = await tuneHostAllocator();
    const third = await tuneHostAllocator();
    // The kernel memory may have tuned already (it does when it is created); either way,
    // at most one call does the work, and later ones do nothing.
    expect([first, second, third].filter(Boolean).length).toBeLessThanOrEqual(1);
    expect(second).toBe(false);
    expect(third).toBe(false);
    // No global gc leaks into this context or into contexts made later.
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe(hadGc);
    const vm = await import("node:vm");
    expect(vm.runInNewContext("typeof gc")).toBe("undefined");
  });

  it("a fresh instance on Linux does the work once with the real collector", async () => {
    const { vi } = await import("vitest");
    vi.resetModules();
    const fresh = (await import("../src/kernels/wasm/host_memory.js")).tuneHostAllocator;
    let calls = 0;
    const counted = async () => () => {
      calls++;
    };
    const done = await fresh(counted);
    expect(done).toBe(process.platform === "linux");
    expect(calls).toBe(done ? 1 : 0);
    await expect(fresh(counted)).resolves.toBe(false);
    expect(calls).toBe(done ? 1 : 0);
  });
});
