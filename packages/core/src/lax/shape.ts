/** lax shape ops: broadcastInDim, reshape, transpose, reductions, slicing, gather/scatter. */
export { broadcastInDim, reshape, transpose } from "../primitives/structural.js";
export { reduceSum, reduceMax, reduceMin, reduceProd, reduceAnd, reduceOr, argmax, argmin } from "../primitives/reduce.js";
export { cumsum, cumprod, cummax, cummin, associativeScan } from "../primitives/cumulative.js";
export {
  slice,
  sliceInDim,
  pad,
  concatenate,
  rev,
  squeeze,
  expandDims,
  iota,
  dynamicSlice,
  dynamicUpdateSlice,
} from "../primitives/shape.js";
export { gather, scatterAdd, type GatherParams } from "../primitives/indexing.js";
