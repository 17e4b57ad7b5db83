/**
 * Lowerings of the random-bit primitives as integer arithmetic. Words are uint32 bit
 * patterns held in int32; here they are widened to int64 in [0, 2^32), where adds,
 * products and shifts are exact, and masked back (BitwiseAnd/Xor/Or need opset 18).
 */
import type { GraphBuilder } from "../builder.js";
import { cast } from "./elementwise.js";
import type { LoweringRule, LoweringTable } from "./rule.js";

const MASK = 2 ** 32 - 1;
const i64 = (g: GraphBuilder, v: number) => g.scalar(v, "int64");
const and = (g: GraphBuilder, a: string, b: string) => g.op("BitwiseAnd", [a, b], {}, 18);
const mask = (g: GraphBuilder, a: string) => and(g, a, i64(g, MASK));
const u32 = (g: GraphBuilder, x: string) => mask(g, cast(g, x, "int64"));
const add32 = (g: GraphBuilder, a: string, b: string) => mask(g, g.op("Add", [a, b]));
/** Back to an int32 bit pattern: values past 2^31 - 1 wrap to negatives. */
const toInt32 = (g: GraphBuilder, x: string) => {
  const wrapped = g.op("Where", [g.op("GreaterOrEqual", [x, i64(g, 2 ** 31)]), g.op("Sub", [x, i64(g, 2 ** 32)]), x]);
  return cast(g, wrapped, "int32");
};
const rotl = (g: GraphBuilder, x: string, c: number) =>
  g.op("BitwiseOr", [mask(g, g.op("Mul", [x, i64(g, 2 ** c)])), g.op("Div", [x, i64(g, 2 ** (32 - c))])], {}, 18);

// Threefry-2x32, 20 rounds: rotation constants and key schedule from Salmon et al.,
// "Parallel Random Numbers: As Easy as 1, 2, 3" (SC 2011), as Cotangent's kernel uses them.
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
const KS_PARITY = 0x1bd11bda;

const threefry: LoweringRule = ({ g, inputs }) => {
  const [k0, k1, x0, x1] = inputs.map((x) => u32(g, x)) as [string, string, string, string];
  const ks2 = g.op("BitwiseXor", [g.op("BitwiseXor", [k0, k1], {}, 18), i64(g, KS_PARITY)], {}, 18);
  const ks = [k0, k1, ks2];
  let a = add32(g, x0, k0);
  let b = add32(g, x1, k1);
  for (let grp = 0; grp < 5; grp++) {
    const rot = (grp & 1) * 4;
    for (let r = rot; r < rot + 4; r++) {
      a = add32(g, a, b);
      b = g.op("BitwiseXor", [rotl(g, b, ROTATIONS[r]!), a], {}, 18);
    }
    const s = grp + 1;
    a = add32(g, a, ks[s % 3]!);
    b = add32(g, b, g.op("Add", [ks[(s + 1) % 3]!, i64(g, s)]));
  }
  // Broadcast both outputs to the common shape (an input may have been a scalar).
  return [toInt32(g, a), toInt32(g, b)];
};

const bitsToUniform: LoweringRule<{ dtype: "float32" | "float64" }> = ({ g, inputs, params: { dtype } }) => {
  const hi = u32(g, inputs[0]!);
  if (dtype === "float32") {
    // (bits >>> 9) * 2^-23: the mantissa trick of JAX, exact.
    return [g.op("Mul", [cast(g, g.op("Div", [hi, i64(g, 512)]), "float32"), g.scalar(2 ** -23, "float32")])];
  }
  const lo = u32(g, inputs[1]!);
  const m = g.op("Add", [g.op("Mul", [hi, i64(g, 2 ** 20)]), g.op("Div", [lo, i64(g, 4096)])]);
  return [g.op("Mul", [cast(g, m, "float64"), g.scalar(2 ** -52, "float64")])];
};

/** x mod m on [0, 2^32) with XLA's convention x mod 0 = x. */
const urem = (g: GraphBuilder, x: string, m: string) => {
  const zero = g.op("Equal", [m, i64(g, 0)]);
  return g.op("Where", [zero, x, g.op("Mod", [x, g.op("Where", [zero, i64(g, 1), m])])]);
};
/** (a * b) mod 2^32 for a, b in [0, 2^32), split so no product leaves int64. */
const mul32 = (g: GraphBuilder, a: string, b: string) => {
  const aHi = g.op("Div", [a, i64(g, 65536)]);
  const aLo = g.op("Mod", [a, i64(g, 65536)]);
  const hiPart = g.op("Mul", [g.op("Mod", [g.op("Mul", [aHi, b]), i64(g, 65536)]), i64(g, 65536)]);
  return mask(g, g.op("Add", [hiPart, g.op("Mul", [aLo, b])]));
};

const bitsToRandint: LoweringRule<{ maxval_out_of_range: boolean }> = ({ g, inputs, params }) => {
  const [hi, lo] = [u32(g, inputs[0]!), u32(g, inputs[1]!)];
  const mn = cast(g, inputs[2]!, "int64");
  const mx = cast(g, inputs[3]!, "int64");
  let span = mask(g, g.op("Sub", [mx, mn]));
  if (params.maxval_out_of_range) span = mask(g, g.op("Add", [span, i64(g, 1)]));
  span = g.op("Where", [g.op("LessOrEqual", [mx, mn]), i64(g, 1), span]);
  let mult = urem(g, i64(g, 65536), span);
  mult = urem(g, mul32(g, mult, mult), span);
  const h = urem(g, hi, span);
  const l = urem(g, lo, span);
  const offset = urem(g, add32(g, mul32(g, h, mult), l), span);
  return [toInt32(g, mask(g, g.op("Add", [mn, offset])))];
};

/**
 * A stable ascending sort along the last axis by uint32 keys: TopK (smallest first, sorted;
 * ONNX's TopK puts equal keys in index order, which makes it stable) gives the permutation,
 * GatherElements applies it to the values.
 */
const sortByU32Keys: LoweringRule = ({ g, inputs: [k, v], inAvals: [ka] }) => {
  const n = ka!.shape[ka!.ndim - 1]!;
  const [, perm] = g.node("TopK", [u32(g, k!), g.int64s([n])], { axis: { int: -1 }, largest: { int: 0 }, sorted: { int: 1 } }, { outputs: 2 });
  return [g.op("GatherElements", [v!, perm!], { axis: { int: -1 } })];
};

export const randomLowerings: LoweringTable = {
  sort_by_u32_keys: sortByU32Keys,
  threefry2x32: threefry,
  bits_to_uniform: bitsToUniform,
  bits_to_randint: bitsToRandint,
};
