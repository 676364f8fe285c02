import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { Rng } from '@advx/data';
import { fgsm } from '@advx/attacks';
import { Classifier, asAttackTarget, maxoutSpec, selectBackend, train } from '@advx/models';
import { blobs, trainConfig } from './helpers.js';

const require_ = createRequire(import.meta.url);

function nativeLoads(): boolean {
  try {
    require_('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/** Builds a seeded maxout net, trains it briefly and returns its logits and FGSM examples on fixed inputs. */
async function seededRun(backend: 'tensorflow' | 'wasm') {
  await selectBackend(backend);
  const data = blobs(200, 30, 4, 7);
  const model = new Classifier(maxoutSpec({ units: 16, pieces: 3 }), 30, 4, Rng.fromSeed(11));
  await train(model, data, trainConfig({ epochs: 2 }), Rng.fromSeed(11));
  const [logits, adversarial] = tf.tidy(() => {
    const x = tf.tensor2d(data.images.subarray(0, 50 * 30), [50, 30]);
    return [model.scores(x), fgsm(asAttackTarget(model), x, { eps: 0.1 })];
  });
  const result = { logits: Array.from(await logits.data()), adversarial: Array.from(await adversarial.data()) };
  tf.dispose([logits, adversarial]);
  model.dispose();
  return result;
}

describe.skipIf(!nativeLoads())('tensorflow and wasm agree (parity)', () => {
  it('the same seeded model, trained and evaluated on each backend, gives logits equal to 1e-4', async () => {
    const previous = tf.getBackend();
    try {
      const native = await seededRun('tensorflow');
      const wasm = await seededRun('wasm');
      // Both backends round each float32 op to within an ulp but sum in other orders: the logits
      // (|z| < 1 here) differ by what 20 SGD steps make of ulp-sized differences. Measured 1.5e-8
      // (1 ulp of the largest logit); 1e-4 is ~7,000 ulps, room for that growth, far below a real
      // discrepancy (a wrong kernel moves logits by their own size).
      const worst = Math.max(...native.logits.map((v, i) => Math.abs(v - wasm.logits[i])));
      expect(Math.max(...native.logits.map(Math.abs))).toBeLessThan(1);
      expect(worst).toBeLessThan(1e-4);
      // FGSM flips a pixel's sign only where a gradient component is ~0; allow a handful of such ties.
      const differing = native.adversarial.filter((v, i) => Math.abs(v - wasm.adversarial[i]) > 1e-5).length;
      expect(differing).toBeLessThan(native.adversarial.length * 0.01);
    } finally {
      await selectBackend(previous as 'tensorflow' | 'wasm' | 'cpu');
    }
  });
});
