/**
 * Property tests run from a fixed fast-check seed so that CI is reproducible; set
 * FC_SEED to another integer (or FC_SEED=random) to explore other cases locally.
 */
import fc from "fast-check";
import { parseSeed } from "./seed.js";

fc.configureGlobal({ seed: parseSeed(process.env.FC_SEED, 20261128) });
