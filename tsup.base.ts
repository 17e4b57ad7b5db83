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
 * The builds of a package with a `./fp` subpath: the main entry as usual, and `fp` built on
 * its own with the package itself external. `src/fp` imports the package by its own name
 * (Node resolves a package's self-reference through its `exports`), so the built fp entry
 * loads the built main entry rather than a second copy of it: an array made through one is
 * an array to the other, in ESM and CJS alike.
 */
export const packageBuildWithFp = (name: string): Options[] => [
  packageBuild,
  { ...packageBuild, entry: { fp: "src/fp/index.ts" }, clean: false, external: [name] },
];
