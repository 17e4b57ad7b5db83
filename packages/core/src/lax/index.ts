/** `lax`: the primitives themselves, as thin functions (no promotion, no broadcasting helpers). */
export * from "./elementwise.js";
export * from "./shape.js";
export * from "./linalg.js";
export * from "./control.js";
/** `lax.linalg`: triangularSolve, cholesky, lu, qr, eigh, svd (the linear-algebra primitives). */
export * as linalg from "./linalg_decomp.js";
export * from "./sort.js";
