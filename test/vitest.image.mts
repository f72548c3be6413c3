import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// `npm run test:image`: builds the agent's image from deploy/Dockerfile and runs it as the
// DaemonSet does (test/deploy/image.test.ts). Kept out of `npm test`: a clean machine spends
// minutes on the base and the build (deploy/README.md, Image), with both cores busy.
export default defineConfig({
  root: resolve(__dirname, '..'),
  test: {
    include: ['test/deploy/image.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 45 * 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
