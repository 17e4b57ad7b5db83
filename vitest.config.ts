import { defineConfig } from "vitest/config";

const conditions = ["@cotangent/source"];
const project = (name: string, include: string[]) => ({
  extends: true as const,
  test: { name, include, setupFiles: ["./test/setup.ts"] },
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
      project("cross", ["test/**/*.test.ts"]),
    ],
  },
});
