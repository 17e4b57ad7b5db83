import { describe, expect, it } from "vitest";
import { parseSeed } from "./seed.js";

describe("FC_SEED", () => {
  it("is the default when unset, an integer as given, fresh for 'random'", () => {
    expect(parseSeed(undefined, 7)).toBe(7);
    expect(parseSeed("", 7)).toBe(7);
    expect(parseSeed("42", 7)).toBe(42);
    expect(parseSeed(" -3 ", 7)).toBe(-3);
    expect(Number.isInteger(parseSeed("random", 7))).toBe(true);
  });

  it("refuses anything else instead of running with a NaN seed", () => {
    for (const bad of ["abc", "1.5", "12abc", "NaN", "Infinity", "0x10", "1e3", "99999999999999999999"]) {
      expect(() => parseSeed(bad, 7)).toThrow(/FC_SEED must be an integer or "random", got/);
    }
  });
});
