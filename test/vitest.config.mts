import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Kernel tests load a real BPF probe; two cores are shared with podman and Prometheus,
// so files run in forks with a bounded pool and generous timeouts.
export default defineConfig({
  root: resolve(__dirname, '..'),
  test: {
    include: ['test/**/*.test.ts'],
    // test/deploy/image.test.ts builds the image: `npm run test:image` (test/vitest.image.mts).
    exclude: ['test/bench/**', 'node_modules/**', 'test/deploy/image.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
