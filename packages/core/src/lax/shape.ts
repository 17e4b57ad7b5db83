/** lax shape ops: broadcastInDim, reshape, transpose, reductions, slicing, gather/scatter. */
export { broadcastInDim, reshape, transpose } from "../primitives/structural.js";
export { reduceSum } from "../primitives/reduce.js";
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
