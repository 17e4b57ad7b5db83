/** The lowering table: primitive name -> lowering rule. One rule per primitive, nothing else here. */
import { controlLowerings } from "./control.js";
import { elementwiseLowerings } from "./elementwise.js";
import { linalgLowerings } from "./linalg.js";
import { randomLowerings } from "./random.js";
import { reduceLowerings } from "./reduce.js";
import type { LoweringTable } from "./rule.js";
import { shapeLowerings } from "./shape.js";

export const loweringRules: LoweringTable = {
  ...elementwiseLowerings,
  ...shapeLowerings,
  ...reduceLowerings,
  ...linalgLowerings,
  ...controlLowerings,
  ...randomLowerings,
};

export type { LowerArgs, LoweringRule, LoweringTable } from "./rule.js";
