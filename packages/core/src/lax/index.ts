/** `lax`: the primitives themselves, as thin functions (no promotion, no broadcasting helpers). */
export * from "./elementwise.js";
export * from "./shape.js";
export * from "./linalg.js";
export * from "./control.js";
