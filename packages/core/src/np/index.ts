/** The NumPy-like API. Each group lives in its own module. */
export * from "./coerce.js";
export * from "./creation.js";
export * from "./elementwise.js";
export * from "./reductions.js";
