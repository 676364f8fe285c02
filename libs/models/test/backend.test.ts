import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_PREFERENCE, isBackendName, selectBackend, type BackendName } from '@advx/models';

// The setup file activated the backend under test; every case here restores it afterwards.
let original: BackendName;
beforeAll(() => {
  original = tf.getBackend() as BackendName;
});
afterAll(async () => {
  await selectBackend(original);
  expect(tf.getBackend()).toBe(original);
});

describe('selectBackend', () => {
  it('the test run is on the backend it asked for', () => {
    const requested = process.env.ADVX_TEST_BACKEND;
    if (requested && requested !== 'auto') expect(original).toBe(requested);
    expect(BACKEND_PREFERENCE).toContain(original);
  });

  it("'cpu' loads, becomes active and computes", async () => {
    const info = await selectBackend('cpu');
    expect(info).toEqual({ name: 'cpu', skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
    const product = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 0, 0, 1], [2, 2]));
    expect(Array.from(product.dataSync())).toEqual([1, 2, 3, 4]);
    product.dispose();
    // And back: switching is reversible.
    expect((await selectBackend(original)).name).toBe(original);
    expect(tf.getBackend()).toBe(original);
  });

  it('an unknown explicit backend rejects with its name and leaves the active backend alone', async () => {
    await expect(selectBackend('tpu' as BackendName)).rejects.toThrow(/backend "tpu" is not available/);
    expect(tf.getBackend()).toBe(original);
  });

  it('an explicit tensorflow backend whose package cannot load rejects, never falls back', async (context) => {
    // Once tfjs-node has registered "tensorflow" in this process the loader is never consulted again,
    // so the broken-package case can only be exercised where it is not loaded yet (the wasm/cpu passes).
    if (tf.findBackend('tensorflow')) context.skip();
    const saved = process.env.ADVX_TFJS_NODE_PACKAGE;
    process.env.ADVX_TFJS_NODE_PACKAGE = 'does-not-exist';
    try {
      await expect(selectBackend('tensorflow')).rejects.toThrow(/backend "tensorflow" is not available: .*does-not-exist/);
    } finally {
      if (saved === undefined) delete process.env.ADVX_TFJS_NODE_PACKAGE;
      else process.env.ADVX_TFJS_NODE_PACKAGE = saved;
    }
    expect(tf.getBackend()).toBe(original);
    expect(tf.findBackend('tensorflow')).toBeNull();
  });

  it('isBackendName accepts exactly the known names', () => {
    expect(BACKEND_PREFERENCE).toEqual(['tensorflow', 'wasm', 'cpu']);
    for (const name of BACKEND_PREFERENCE) expect(isBackendName(name)).toBe(true);
    for (const name of ['auto', 'webgl', 'CPU', '']) expect(isBackendName(name)).toBe(false);
  });
});
