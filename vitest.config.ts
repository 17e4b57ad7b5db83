import { defineConfig } from "vitest/config";

const conditions = ["@cotangent/source"];
const project = (name: string, include: string[], exclude: string[] = []) => ({
  extends: true as const,
  test: { name, include, exclude: ["**/node_modules/**", ...exclude], setupFiles: ["./test/setup.ts"] },
  ssr: { resolve: { conditions } },
  resolve: { conditions },
});

export default defineConfig({
  test: {
    testTimeout: 60_000,
    projects: [
      project("core", ["packages/core/test/**/*.test.ts"]),
      project("optim", ["packages/optim/test/**/*.test.ts"]),
      project("nn", ["packages/nn/test/**/*.test.ts"]),
      project("onnx", ["packages/onnx/test/**/*.test.ts"]),
      project("notebook", ["packages/notebook/test/**/*.test.ts"]),
      // test/browser needs chromium: it runs with `pnpm test:browser` (vitest.browser.config.ts).
      project("cross", ["test/**/*.test.ts"], ["test/build*.test.ts", "test/browser/**"]),
      // Building the bundles takes minutes on 2 cores: `pnpm test:build`, run by CI after `pnpm test`.
      project("build", ["test/build*.test.ts"]),
    ],
  },
});
