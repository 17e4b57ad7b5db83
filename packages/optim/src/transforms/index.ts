/** The gradient transformations every optimizer is built from. */
export * from "./adaptive.js";
export * from "./clipping.js";
export * from "./inject.js";
export * from "./masking.js";
export * from "./momentum.js";
export * from "./rms.js";
export * from "./scale.js";
export * from "./weight_decay.js";
export * from "./wrappers.js";
