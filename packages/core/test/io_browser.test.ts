/**
 * Without Node's file system (a browser), serialize/deserialize work and save/load say
 * what to do instead. The missing module is simulated by a mock whose import fails.
 */
import { describe, expect, it, vi } from "vitest";
import { ValueError, deserialize, load, np, save, serialize } from "@cotangent/core";

vi.mock("node:fs/promises", () => {
  throw new Error('Failed to resolve module specifier "node:fs/promises"');
});

describe("saved state without a file system", () => {
  it("serialize and deserialize still work", () => {
    expect(deserialize(serialize({ a: np.arange(3) })).a.toArray()).toEqual([0, 1, 2]);
  });
  it("save and load raise a ValueError that points to serialize", async () => {
    const err = await save("x.ctg", 1).catch((e) => e);
    expect(err).toBeInstanceOf(ValueError);
    expect(err.message).toMatch(/^save: needs Node's file system \(node:fs\/promises\), which is not available here: [^]*hint: in a browser, use serialize\/deserialize and store the bytes yourself/);
    await expect(load("x.ctg")).rejects.toThrow(/^load: needs Node's file system/);
  });
});
