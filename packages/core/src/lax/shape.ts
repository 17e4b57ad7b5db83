/** lax shape ops: broadcastInDim, reshape, transpose, reductions, slicing, gather/scatter. */
export { broadcastInDim, reshape, transpose } from "../primitives/structural.js";
export { reduceSum } from "../primitives/reduce.js";
