/**
 * The published packages build with tsup to ESM, CJS and type declarations, and the
 * built bundles work: CommonJS `require` and ES `import` both differentiate a function.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import ts from "typescript";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "..");
const tsup = join(root, "node_modules", ".bin", "tsup");
const packages = ["core", "optim", "nn"];

describe("build", () => {
  it("tsup emits ESM, CJS and .d.ts for each published package, and the bundles run", () => {
    for (const p of packages) {
      const dir = join(root, "packages", p);
      execFileSync(tsup, [], { cwd: dir, stdio: "pipe" });
      for (const f of ["index.js", "index.cjs", "index.d.ts", "index.d.cts"]) expect(existsSync(join(dir, "dist", f)), `${p}/dist/${f}`).toBe(true);
    }
    // Plain Node, outside vitest's resolver: the CJS bundles and the ESM bundles.
    const cjs = `const c = require(${JSON.stringify(join(root, "packages/core/dist/index.cjs"))});
      const nn = require(${JSON.stringify(join(root, "packages/nn/dist/index.cjs"))});
      const optim = require(${JSON.stringify(join(root, "packages/optim/dist/index.cjs"))});
      const g = c.grad((x) => c.np.sum(nn.relu(c.np.multiply(x, x))))(c.np.array([1, -2]));
      const opt = optim.sgd({ learningRate: 0.1 });
      console.log(JSON.stringify([g.toArray(), typeof opt.init]));`;
    expect(execFileSync(process.execPath, ["-e", cjs], { cwd: root }).toString().trim()).toBe('[[2,-4],"function"]');
    const esm = `const c = await import(${JSON.stringify(join(root, "packages/core/dist/index.js"))});
      console.log(JSON.stringify(c.vmap(c.grad((x) => c.np.sum(c.np.sin(x))))(c.np.zeros([2, 2])).toArray()));`;
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", esm], { cwd: root }).toString().trim()).toBe("[[1,1],[1,1]]");
    // The ./fp subpaths: arrays they make are arrays of the main entry (one shared chunk), in CJS and ESM.
    for (const ext of ["cjs", "js"]) {
      const load = (p: string) => (ext === "cjs" ? `require(${JSON.stringify(p)})` : `await import(${JSON.stringify(p)})`);
      const code = `const c = ${load(join(root, "packages/core/dist/index." + ext))};
        const fp = ${load(join(root, "packages/core/dist/fp." + ext))};
        const nnfp = ${load(join(root, "packages/nn/dist/fp." + ext))};
        const y = nnfp.relu(fp.sum({ axis: 1 })(c.np.array([[1, -2], [-3, 1]])));
        console.log(JSON.stringify([y.toArray(), y instanceof c.ArrayBase]));`;
      const args = ext === "cjs" ? ["-e", code] : ["--input-type=module", "-e", code];
      expect(execFileSync(process.execPath, args, { cwd: root }).toString().trim(), `fp.${ext}`).toBe("[[0,0],true]");
    }
    // The two builds are two copies of the library: each accepts the other's arrays (a registered brand, not instanceof).
    const both = `const esm = await import(${JSON.stringify(join(root, "packages/core/dist/index.js"))});
      const cjs = (await import("node:module")).createRequire(import.meta.url)(${JSON.stringify(join(root, "packages/core/dist/index.cjs"))});
      const x = esm.np.array([1, 2]);
      console.log(JSON.stringify([x instanceof cjs.ArrayBase, cjs.np.add(x, 1).toArray(), cjs.grad((v) => cjs.np.sum(cjs.np.square(v)))(x).toArray(), esm.np.multiply(cjs.np.ones([2]), x).toArray()]));`;
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", both], { cwd: root }).toString().trim()).toBe("[false,[2,3],[2,4],[1,2]]");
    // The bundled declarations type a consumer's code, fluent methods included.
    const dir = mkdtempSync(join(tmpdir(), "cotangent-dts-"));
    try {
      const file = join(dir, "consumer.ts");
      writeFileSync(
        file,
        `import { np, grad } from ${JSON.stringify(join(root, "packages/core/dist/index.js"))};
         const a = np.ones([2, 2]);
         const n: number = a.matmul(a).sum({ axis: 0 }).mean().item();
         const g = grad((x: any) => np.sum(x))(a);
         export { n, g };`,
      );
      const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: false, types: [] });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const createReq = createRequire(join(root, "package.json"));
    expect(typeof createReq.resolve("@cotangent/core")).toBe("string");
  }, 600_000);
});

describe("build of @cotangent/onnx", () => {
  // Its own test (and time budget): it builds after core, whose bundle it requires.
  it("tsup emits ESM, CJS and .d.ts, and the CJS bundle exports a model", () => {
    const dir = join(root, "packages", "onnx");
    execFileSync(tsup, [], { cwd: dir, stdio: "pipe" });
    for (const f of ["index.js", "index.cjs", "index.d.ts", "index.d.cts"]) expect(existsSync(join(dir, "dist", f)), `onnx/dist/${f}`).toBe(true);
    if (!existsSync(join(root, "packages/core/dist/index.cjs"))) execFileSync(tsup, [], { cwd: join(root, "packages", "core"), stdio: "pipe" });
    const cjs = `const c = require(${JSON.stringify(join(root, "packages/core/dist/index.cjs"))});
      const onnx = require(${JSON.stringify(join(dir, "dist/index.cjs"))});
      const bytes = onnx.toOnnx((x) => c.np.sin(x), c.np.ones([2]));
      console.log(bytes instanceof Uint8Array && bytes.length > 0);`;
    expect(execFileSync(process.execPath, ["-e", cjs], { cwd: root }).toString().trim()).toBe("true");
  }, 240_000);
});

describe("browser bundle", () => {
  it("core bundles for the browser with no static Node imports (save/load load node:fs lazily)", async () => {
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: [join(root, "packages/core/src/index.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    expect(result.errors).toEqual([]);
    const staticNode = Object.values(result.metafile!.outputs).flatMap((o) => o.imports.filter((i) => !i.external || i.kind !== "dynamic-import").map((i) => i.path)).filter((p) => p.startsWith("node:"));
    expect(staticNode).toEqual([]);
  });
});
