import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites each start an embedded stack; two cores keep this modest.
    maxWorkers: 2,
    setupFiles: ["./shared/polyfills.ts"],
    // Builds cli/dist once: tests that run `stepwise` run the compiled CLI, as an installed one runs.
    globalSetup: ["./scripts/build-cli.mjs"],
  },
});
