/**
 * save / load on disk: round trips, atomic replacement, what a crash leaves behind, and
 * errors that name the file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ValueError, load, np, random, save, serialize } from "@cotangent/core";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cotangent-io-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const state = (seed: number) => ({
  params: { w: random.normal(random.key(seed), [3, 2]), b: np.zeros([2], { dtype: "float64" }) },
  key: random.key(seed),
  step: seed,
});

describe("save / load", () => {
  it("round-trips a state through a file, byte for byte the same as serialize", async () => {
    const p = join(dir, "a.ctg");
    const s = state(1);
    await save(p, s);
    expect(new Uint8Array(await readFile(p))).toEqual(serialize(s));
    const back = await load(p, { like: s });
    expect(back.params.w.toArray()).toEqual(s.params.w.toArray());
    expect(back.key.toArray()).toEqual(s.key.toArray());
    expect(back.step).toBe(1);
  });

  it("replaces a previous save and leaves no temporary files", async () => {
    const p = join(dir, "b.ctg");
    await save(p, state(1));
    await save(p, state(2));
    expect((await load(p)).step).toBe(2);
    expect((await readdir(dir)).filter((f) => f.includes("b.ctg"))).toEqual(["b.ctg"]);
  });

  it("writes into the current directory for a bare file name", async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await save("bare.ctg", 5);
      expect(await load("bare.ctg")).toBe(5);
    } finally {
      process.chdir(cwd);
    }
  });

  it("leaves the file untouched when the tree cannot be saved", async () => {
    const p = join(dir, "c.ctg");
    await save(p, state(3));
    await expect(save(p, { bad: new Map() })).rejects.toThrow(/serialize: cannot save a Map at bad/);
    expect((await load(p)).step).toBe(3);
  });

  it("ignores the temporary file a killed save left behind", async () => {
    // A process killed between writing its temporary file and the rename leaves the
    // target as it was plus a stray temporary: exactly this.
    const p = join(dir, "d.ctg");
    await save(p, state(4));
    const half = serialize(state(5));
    await writeFile(join(dir, ".d.ctg.killed.tmp"), half.subarray(0, half.length >> 1));
    expect((await load(p)).step).toBe(4);
    await save(p, state(6));
    expect((await load(p)).step).toBe(6);
  });

  it("reports a missing file as a FileNotFoundError that keeps Node's ENOENT code", async () => {
    await expect(load(join(dir, "nope.ctg"))).rejects.toMatchObject({ code: "ENOENT", name: "FileNotFoundError" });
    await expect(load(join(dir, "nope.ctg"))).rejects.toBeInstanceOf(ValueError);
  });

  it("names the file in validation errors", async () => {
    const p = join(dir, "e.ctg");
    await save(p, state(7));
    const bytes = new Uint8Array(await readFile(p));
    await writeFile(p, bytes.subarray(0, bytes.length - 1));
    const err = await load(p).catch((e) => e);
    expect(err).toBeInstanceOf(ValueError);
    expect(err.message).toMatch(new RegExp(`^load\\(".*e\\.ctg"\\): truncated: the header announces ${bytes.length} bytes`));
    await writeFile(p, bytes);
    await expect(load(p, { like: { ...state(7), step: np.array(7) } })).rejects.toThrow(/load\(".*e\.ctg"\): the saved state does not match the template \(1 difference\):\n  step: found a number, expected an array f32\[\]/);
  });

  it("says clearly when the directory is missing or the path is a directory", async () => {
    const err = await save(join(dir, "no-such-dir", "x.ctg"), 1).catch((e) => e);
    expect(err).toBeInstanceOf(ValueError);
    expect(err.message).toMatch(/^save\(".*x\.ctg"\): the directory ".*no-such-dir" does not exist[^]*hint: create it first/);
    await writeFile(join(dir, "plain-file"), "x");
    await expect(save(join(dir, "plain-file", "x.ctg"), 1)).rejects.toThrow(/^save\(".*"\): ".*plain-file" is not a directory/);
    await expect(save(join(dir, "sub") + "/", 1)).rejects.toThrow(/^save\(".*sub\/"\): the path names a directory, not a file/);
    await mkdir(join(dir, "sub"));
    await expect(save(join(dir, "sub"), 1)).rejects.toThrow(/^save\(".*sub"\): ".*sub" is a directory, not a file/);
    await expect(load(join(dir, "sub"))).rejects.toThrow(/^load\(".*sub"\): ".*sub" is a directory, not a file/);
    // No temporary file is left behind by the failed saves.
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp") && !f.includes("killed"))).toEqual([]);
    expect(await readdir(join(dir, "sub"))).toEqual([]);
  });

  it("checks the path", async () => {
    await expect(save("" as string, 1)).rejects.toThrow(/^save: path must be a non-empty string, got ""/);
    await expect(load(3 as unknown as string)).rejects.toThrow(/^load: path must be a non-empty string, got number/);
  });
});
