/**
 * Property tests run from a fixed fast-check seed so that CI is reproducible; set
 * FC_SEED to another number (or FC_SEED=random) to explore other cases locally.
 */
import fc from "fast-check";

const seed = process.env.FC_SEED === "random" ? Date.now() : Number(process.env.FC_SEED ?? 20261128);
fc.configureGlobal({ seed });
