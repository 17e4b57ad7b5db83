import { defineConfig } from "vitest/config";

// `pnpm test:browser`: the real-browser test, apart from `pnpm test` because it needs chromium.
const conditions = ["@cotangent/source"];
export default defineConfig({
  test: { name: "browser", include: ["test/browser/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000 },
  ssr: { resolve: { conditions } },
  resolve: { conditions },
});
