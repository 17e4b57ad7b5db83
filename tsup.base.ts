/** The build shared by the published packages: ESM + CJS + .d.ts from src/index.ts (and any subpath entries). */
import type { Options } from "tsup";

export const packageBuild: Options = {
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "es2022",
};

/**
 * A build with a `./fp` subpath besides the main entry. Code splitting (for CJS too) puts
 * the shared code in one chunk, so both entries see the same classes: an array made by
 * one is an array to the other.
 */
export const packageBuildWithFp: Options = {
  ...packageBuild,
  entry: { index: "src/index.ts", fp: "src/fp/index.ts" },
  splitting: true,
};
