/**
 * Crash safety of save: the file system is mocked so that the process "dies" at each step
 * of a save (while writing, at the fsync, right before the rename). Each time the previous
 * save must still load, whole.
 */
import { describe, expect, it, vi } from "vitest";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load, np, save } from "@cotangent/core";

const crash = vi.hoisted(() => ({ at: "" as "" | "write" | "sync" | "rename" }));

vi.mock("node:fs/promises", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs/promises")>();
  const die = (step: string) => {
    if (crash.at === step) throw new Error(`simulated crash at ${step}`);
  };
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const fh = await fs.open(...args);
      return new Proxy(fh, {
        get(target, prop) {
          if (prop === "writeFile")
            return async (data: Uint8Array) => {
              if (crash.at === "write") {
                // Half the bytes reach the disk, then the process dies.
                await target.writeFile(data.subarray(0, data.length >> 1));
                die("write");
              }
              return target.writeFile(data);
            };
          if (prop === "sync")
            return async () => {
              die("sync");
              return target.sync();
            };
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    },
    rename: async (...args: Parameters<typeof fs.rename>) => {
      die("rename");
      return fs.rename(...args);
    },
  };
});

describe("a crash during save leaves the previous save intact", () => {
  it.each(["write", "sync", "rename"] as const)("crash at %s", async (step) => {
    const dir = await mkdtemp(join(tmpdir(), "cotangent-crash-"));
    const p = join(dir, "state.ctg");
    const before = { w: np.arange(6, undefined, 1, { dtype: "float64" }), step: 1 };
    crash.at = "";
    await save(p, before);
    crash.at = step;
    await expect(save(p, { w: np.zeros([100]), step: 2 })).rejects.toThrow(`simulated crash at ${step}`);
    crash.at = "";
    const back = await load(p, { like: before });
    expect(back.step).toBe(1);
    expect(back.w.toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    // The failed save cleaned up its temporary file.
    expect(await readdir(dir)).toEqual(["state.ctg"]);
    // And the next save works.
    await save(p, { w: np.zeros([1]), step: 3 });
    expect((await load(p)).step).toBe(3);
  });
});
