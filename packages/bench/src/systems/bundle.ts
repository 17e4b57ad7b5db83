/**
 * Loads a system module through an esbuild bundle. TF.js's ESM build imports directories and
 * extensionless paths that Node's ESM loader refuses, and its CommonJS build has no gradients
 * registered (`register_all_gradients` exists only as ESM): bundling the ESM sources into one
 * CommonJS file gives one copy of tfjs-core with every gradient, as a browser bundler would.
 */
import { createRequire } from "node:module";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const loadBundled = async <M>(entry: string): Promise<M> => {
  const outfile = join(mkdtempSync(join(tmpdir(), "cotangent-bench-bundle-")), "system.cjs");
  await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    mainFields: ["module", "main"],
    outfile,
    logLevel: "error",
  });
  return createRequire(import.meta.url)(outfile) as M;
};
