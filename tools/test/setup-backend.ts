// Vitest setup for every project that touches tensors: activates the backend named by
// ADVX_TEST_BACKEND (tools/run-tests.mjs runs the suite once per backend), else the default choice.
import { beforeAll } from 'vitest';
import { selectBackend, isBackendName } from '@advx/models';

beforeAll(async () => {
  const requested = process.env.ADVX_TEST_BACKEND ?? 'auto';
  if (requested !== 'auto' && !isBackendName(requested)) throw new Error(`ADVX_TEST_BACKEND: unknown backend "${requested}"`);
  await selectBackend(requested);
});
