/**
 * lax shape ops: broadcastInDim, reshape, transpose, reductions, slicing, gather/scatter.
 * Each public function checks its arguments against its signature (api/args.ts) before
 * binding, so junk is a typed error naming `lax.<op>`; the primitives' internal callers
 * (rules, np) call the unchecked functions directly.
 */
import { checked, signature } from "../api/args.js";
import * as C from "../primitives/cumulative.js";
import * as I from "../primitives/indexing.js";
import * as R from "../primitives/reduce.js";
import * as S from "../primitives/shape.js";
import * as T from "../primitives/structural.js";

export type { GatherParams } from "../primitives/indexing.js";

export const broadcastInDim = checked(signature("lax.broadcastInDim", ["x:operand!", "shape:countList!", "broadcastDimensions:intList!"]), T.broadcastInDim);
export const reshape = checked(signature("lax.reshape", ["x:operand!", "shape:countList!"]), T.reshape);
export const transpose = checked(signature("lax.transpose", ["x:operand!", "permutation:intList!"]), T.transpose);

const reduction = <F extends (x: any, axes: readonly number[]) => any>(name: string, f: F) => checked(signature(`lax.${name}`, ["x:operand!", "axes:intList!"]), f);
export const reduceSum = reduction("reduceSum", R.reduceSum);
export const reduceMax = reduction("reduceMax", R.reduceMax);
export const reduceMin = reduction("reduceMin", R.reduceMin);
export const reduceProd = reduction("reduceProd", R.reduceProd);
export const reduceAnd = reduction("reduceAnd", R.reduceAnd);
export const reduceOr = reduction("reduceOr", R.reduceOr);
export const argmax = checked(signature("lax.argmax", ["x:operand!", "axis:requiredAxis!", "indexDtype:dtypeName"]), R.argmax);
export const argmin = checked(signature("lax.argmin", ["x:operand!", "axis:requiredAxis!", "indexDtype:dtypeName"]), R.argmin);

const cumulative = <F extends (x: any, axis?: number, reverse?: boolean) => any>(name: string, f: F) =>
  checked(signature(`lax.${name}`, ["x:operand!", "axis:requiredAxis", "reverse:bool"]), f);
export const cumsum = cumulative("cumsum", C.cumsum);
export const cumprod = cumulative("cumprod", C.cumprod);
export const cummax = cumulative("cummax", C.cummax);
export const cummin = cumulative("cummin", C.cummin);
export const associativeScan = checked(signature("lax.associativeScan", ["fn:function!", "elems:operands!", "axis:requiredAxis!"]), C.associativeScan);

export const slice = checked(
  signature("lax.slice", ["x:operand!", "startIndices:intList!", "limitIndices:intList!", { name: "strides", kind: "intList", nullable: true }]),
  S.slice,
);
export const sliceInDim = checked(
  signature("lax.sliceInDim", ["x:arrayValue!", { name: "start", kind: "int", nullable: true }, { name: "limit", kind: "int", nullable: true }, "stride:int", "axis:requiredAxis"]),
  S.sliceInDim,
);
export const pad = checked(signature("lax.pad", ["x:operand!", "paddingValue:operand!", "config:padConfig!"]), S.pad);
export const concatenate = checked(signature("lax.concatenate", ["xs:operands!", "dimension:requiredAxis!"]), S.concatenate);
export const rev = checked(signature("lax.rev", ["x:operand!", "dimensions:intList!"]), S.rev);
export const squeeze = checked(signature("lax.squeeze", ["x:operand!", "dimensions:intList!"]), S.squeeze);
export const expandDims = checked(signature("lax.expandDims", ["x:operand!", "dimensions:intList!"]), S.expandDims);
export const iota = checked(signature("lax.iota", ["dtype:dtypeName!", "shape:shape!", "dimension:requiredAxis"]), S.iota);
export const dynamicSlice = checked(signature("lax.dynamicSlice", ["x:operand!", "starts:startIndices!", "sizes:countList!"]), S.dynamicSlice);
export const dynamicUpdateSlice = checked(signature("lax.dynamicUpdateSlice", ["x:operand!", "update:operand!", "starts:startIndices!"]), S.dynamicUpdateSlice);

export const gather = checked(signature("lax.gather", ["x:operand!", "indices:operand!", "params:object!"]), I.gather);
export const scatterAdd = checked(signature("lax.scatterAdd", ["x:operand!", "indices:operand!", "updates:operand!", "params:object!"]), I.scatterAdd);
