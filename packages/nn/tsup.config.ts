import { defineConfig } from "tsup";
import { packageBuildWithFp } from "../../tsup.base.js";

export default defineConfig(packageBuildWithFp("@cotangent/nn"));
