import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// One alias table for every project: libs are imported by their workspace name, never by path.
const alias = {
  '@advx/data': here('./libs/data/src/index.ts'),
  '@advx/models': here('./libs/models/src/index.ts'),
  '@advx/attacks': here('./libs/attacks/src/index.ts'),
  '@advx/metrics': here('./libs/metrics/src/index.ts'),
};

const backendSetup = here('./tools/test/setup-backend.ts');

const project = (name: string, root: string, extra: Record<string, unknown> = {}) => ({
  resolve: { alias },
  test: {
    name,
    root: here(root),
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    ...extra,
  },
});

export default defineConfig({
  test: {
    // tfjs backends are process-global; forks keep each test file's engine separate.
    pool: 'forks',
    projects: [
      project('data', './libs/data'),
      project('models', './libs/models', { setupFiles: [backendSetup] }),
      project('attacks', './libs/attacks', { setupFiles: [backendSetup] }),
      project('metrics', './libs/metrics', { setupFiles: [backendSetup] }),
      // End-to-end sweeps train the smoke protocol's two stages; on wasm (≈ 15× slower) one sweep can take a minute.
      project('coordinator', './apps/coordinator', { setupFiles: [backendSetup], testTimeout: 300_000 }),
    ],
  },
});
