/**
 * Errors in tslab cells name the cell and the line the user typed (`In[2]:4`), not the line
 * of tslab's transpiled JavaScript. Runs cells through tslab's own converter and executor
 * (no Jupyter needed), with the cell naming and frame mapping the kernel gets.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { inspect } from "node:util";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as core from "@cotangent/core";
import { concise, formatError } from "@cotangent/notebook";
import { clearCells, installStackMapping, mapCellFrames, nameCells } from "../src/cells.js";

const require = createRequire(import.meta.url);
const tslab = dirname(require.resolve("tslab/package.json"));
const { createConverter } = require(join(tslab, "dist/converter.js"));
const { createExecutor } = require(join(tslab, "dist/executor.js"));
const ts = require(require.resolve("@tslab/typescript-for-tslab", { paths: [tslab] }));

let restore: (() => void)[] = [];
let printed: unknown[] = [];
let count = 0;
let current: { count: number; source: string } | null = null;
let executor: { execute(src: string): Promise<boolean>; close(): void };

/** Runs one cell as the kernel does; returns what tslab printed to stderr for it. */
const runCell = async (source: string): Promise<{ ok: boolean; errors: unknown[] }> => {
  printed = [];
  current = { count: ++count, source };
  const ok = await executor.execute(source);
  return { ok, errors: printed };
};

beforeAll(() => {
  (globalThis as { __cot?: unknown }).__cot = core;
  const conv = createConverter();
  const quiet = { log: () => {}, error: (...a: unknown[]) => printed.push(...a) };
  executor = createExecutor(process.cwd(), { node: conv, browser: conv }, quiet);
  restore = [nameCells(vm as never, ts, () => current), installStackMapping(), () => conv.close()];
}, 60_000);

afterAll(() => {
  for (const r of restore.reverse()) r();
  clearCells();
});

describe("errors in tslab cells", () => {
  it("name the cell and the user's line, for a function defined in one cell and called from another", async () => {
    const define = [
      "const np: any = (globalThis as any).__cot.np;",
      "",
      "// a helper, defined here and called from the next cell",
      "function f(x: number): number {",
      "",
      "  const y: number[] = [x];",
      "  return np.reshape(np.ones([6]), [4]);",
      "}",
    ].join("\n");
    expect((await runCell(define)).ok).toBe(true);
    const call = ["interface P { a: number }", "const p: P = { a: 1 };", "", "f(p.a);"].join("\n");
    const { ok, errors } = await runCell(call);
    expect(ok).toBe(false);
    const e = errors[0] as core.ShapeError;
    expect(e).toBeInstanceOf(core.ShapeError);
    // What the kernel prints (console.error -> inspect): frames in the user's cells and lines.
    const frames = inspect(e).split("\n").filter((l) => /^ {4}at /.test(l));
    expect(frames[0]).toBe("    at f (In[1]:7:13)");
    expect(frames[1]).toBe("    at In[2]:4:1");
    // tslab's own call of the cell function is not a frame of the user's.
    expect(frames.filter((l) => /In\[2\]/.test(l))).toHaveLength(1);
    // Core names the user's line in the message from the same stack.
    expect(e.message).toContain("\n  at In[1]:7");
    expect(e.stack!.startsWith(`ShapeError: ${e.message}\n    at f (In[1]:7:13)\n`)).toBe(true);
    // Nor are the frames of tslab's executor and Node's vm that ran the cell.
    expect(e.stack).not.toMatch(/tslab[\\/]dist|node:vm/);
    expect(formatError(e).split("\n").filter((l) => /^ {4}at /.test(l)).slice(0, 2)).toEqual(["    at f (In[1]:7:13)", "    at In[2]:4:1"]);
  });

  it("maps the user's own errors too, and lines after inserted exports and dropped blank lines", async () => {
    const source = ["const a = 1;", "", "", "const b = a + 1;", "", "function boom(): never {", "  throw new TypeError(`bad ${b}`);", "}", "boom();"].join("\n");
    const { errors } = await runCell(source);
    const e = errors[0] as Error;
    expect(e).toBeInstanceOf(TypeError);
    const frames = e.stack!.split("\n").filter((l) => /^ {4}at /.test(l));
    expect(frames.slice(0, 2)).toEqual([`    at boom (In[${count}]:7:13)`, `    at In[${count}]:9:1`]);
  });

  it("an awaited call in an async cell", async () => {
    const source = ["const np: any = (globalThis as any).__cot.np;", "await Promise.resolve(0);", "", "", "np.sum(np.ones([2]), 5);"].join("\n");
    const { errors } = await runCell(source);
    const e = errors[0] as Error;
    expect(e).toBeInstanceOf(core.AxisError);
    expect(e.message).toContain(`\n  at In[${count}]:5`);
  });

  it("an awaited call and an imported function's call map to the user's line", async () => {
    expect((await runCell("const later = async (x: number) => { await 0; throw new RangeError(`bad ${x}`); };")).ok).toBe(true);
    const awaited = (await runCell("const q = 1;\n\nawait later(q);")).errors[0] as Error;
    expect(awaited.stack!.split("\n").filter((l) => /^ {4}at /.test(l)).slice(0, 2)).toEqual([`    at later (In[${count - 1}]:1:57)`, `    at async In[${count}]:3:7`]);
    const imported = (await runCell('import { deepStrictEqual } from "assert";\nconst z = 1;\n\ndeepStrictEqual(z, 2);')).errors[0] as Error;
    expect(imported.stack!.split("\n").filter((l) => /^ {4}at /.test(l))[0]).toBe(`    at In[${count}]:4:1`);
  });

  it("concise's rethrow keeps its text: no caret line of the library's rethrow", () => {
    const e = new core.ValueError("x", { source: null });
    expect(() => concise(() => {
      throw e;
    })).toThrow(core.ValueError);
    const text = e.stack!;
    e.stack = `/lib/notebook/dist/index.cjs:470\n    throw e;\n    ^\n\n${text}`;
    expect(e.stack).toBe(text);
  });

  it("leaves stacks without cell frames alone, and marks a position it cannot map with ~", () => {
    const stack = "Error: x\n    at g (/home/u/main.ts:3:4)\n    at In[999]:5:1";
    expect(mapCellFrames(stack)).toBe(stack);
    // A cell whose JavaScript has no identifier at the position: kept, marked as transpiled.
    expect(mapCellFrames("Error: x\n    at In[1]:1:1")).toBe("Error: x\n    at In[1]:~1:1");
  });
});
