/** The NumPy-like API. Each group lives in its own module. */
export * from "./coerce.js";
export * from "./creation.js";
export * from "./elementwise.js";
export * from "./math.js";
export * from "./reductions.js";
export * from "./shape.js";
export * from "./indexing.js";
export * from "./linalg.js";
export * from "./matrix.js";
export * from "./nan_reductions.js";
export * from "./signal.js";
export * from "./sorting.js";
export * from "./quantiles.js";
export * from "./unique.js";
export type { ArrayAt, AtIndexEntry, AtMode, AtOptions, SliceLike } from "./at.js";
import "./fluent.js";
export { linalg, trace, type NormOrd, type NormOptions, type NormArgs } from "./linalg_norms.js";
export type { EighOptions, SvdOptions, QrMode } from "./linalg_decomp.js";
