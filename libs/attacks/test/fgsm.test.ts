import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fgsm } from '@advx/attacks';
import { asAttackTarget, logisticRegressionSpec, softmaxRegressionSpec } from '@advx/models';
import { makeModel, maxAbsDiff, meanLoss, randomInputs, randomLabels, weightsOf } from './helpers.js';

const D = 12;
const K = 4;
const N = 6;

/** Plain-JS softmax of one row of logits, in float64. */
function softmax(logits: number[]): number[] {
  const top = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - top));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/**
 * Compares an attack result with x + eps·sign(g) clipped to [lo, hi], where g is the hand-computed
 * input gradient. Coordinates with |g| ≈ 0 may go either way (a sign tie), so they only have to be
 * one of x, x ± eps (clipped).
 */
function expectSignStep(actual: ArrayLike<number>, x: ArrayLike<number>, grad: number[], eps: number, lo = 0, hi = 1): { checked: number } {
  const scale = Math.max(...grad.map(Math.abs));
  let checked = 0;
  const clip = (v: number) => Math.min(hi, Math.max(lo, v));
  for (let i = 0; i < grad.length; i++) {
    if (Math.abs(grad[i]) > 1e-4 * scale) {
      expect(actual[i], `coordinate ${i} (gradient ${grad[i]})`).toBeCloseTo(clip(x[i] + eps * Math.sign(grad[i])), 5);
      checked++;
    } else {
      const options = [x[i], clip(x[i] + eps), clip(x[i] - eps)];
      expect(Math.min(...options.map((o) => Math.abs(o - actual[i]))), `tied coordinate ${i}`).toBeLessThan(1e-5);
    }
  }
  return { checked };
}

describe('fgsm closed form (paper §4–§5)', () => {
  it('softmax regression: x̃ = clip(x + ε·sign(Σ_k p_k w_k − w_y))', () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const { values: x, tensor } = randomInputs(N, D, 2);
    const labels = randomLabels(N, K, 3);
    const eps = 0.1;
    const w = weightsOf(model);
    const W = w.get('output/W')!.values; // [D, K]
    const b = w.get('output/b')!.values;
    const labelTensor = tf.tensor1d(labels, 'int32');
    const adv = fgsm(asAttackTarget(model), tensor, { eps, labels: labelTensor });
    const out = adv.dataSync();
    let checked = 0;
    for (let n = 0; n < N; n++) {
      const row = Array.from(x.subarray(n * D, (n + 1) * D));
      const logits = Array.from({ length: K }, (_, k) => b[k] + row.reduce((s, xj, j) => s + xj * W[j * K + k], 0));
      const p = softmax(logits);
      const grad = Array.from({ length: D }, (_, j) => p.reduce((s, pk, k) => s + pk * W[j * K + k], 0) - W[j * K + labels[n]]);
      checked += expectSignStep(out.subarray(n * D, (n + 1) * D), row, grad, eps).checked;
    }
    expect(checked).toBeGreaterThan(N * D * 0.9);
    tf.dispose([adv, tensor, labelTensor]);
    model.dispose();
  });

  it('logistic regression: x̃ = clip(x + ε·sign(w)·(y = 0 ? 1 : −1))', () => {
    const model = makeModel(logisticRegressionSpec({ initRange: 0.5 }), D, 2);
    expect(model.outputs).toBe(1);
    const { values: x, tensor } = randomInputs(N, D, 4);
    const labels = Int32Array.from({ length: N }, (_, n) => n % 2);
    const eps = 0.2;
    const W = weightsOf(model).get('output/W')!.values; // [D, 1]
    const labelTensor = tf.tensor1d(labels, 'int32');
    const adv = fgsm(asAttackTarget(model), tensor, { eps, labels: labelTensor });
    const out = adv.dataSync();
    for (let n = 0; n < N; n++) {
      const row = Array.from(x.subarray(n * D, (n + 1) * D));
      const direction = labels[n] === 0 ? 1 : -1;
      // The gradient is (σ(s) − y)·w: its sign is sign(w)·(y = 0 ? 1 : −1) whatever s is.
      const grad = Array.from(W, (wj) => wj * direction);
      expectSignStep(out.subarray(n * D, (n + 1) * D), row, grad, eps);
    }
    tf.dispose([adv, tensor, labelTensor]);
    model.dispose();
  });
});

describe('fgsm range and budget', () => {
  it('stays in [0, 1] and within ε in L∞, including inputs at the bounds', () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const { values } = randomInputs(N, D, 5);
    // Put some coordinates exactly on the bounds so that clipping has to act.
    for (let i = 0; i < values.length; i += 3) values[i] = i % 2 ? 0 : 1;
    const x = tf.tensor2d(values, [N, D]);
    const eps = 0.3;
    const adv = fgsm(asAttackTarget(model), x, { eps });
    const out = adv.dataSync();
    expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out)).toBeLessThanOrEqual(1);
    expect(maxAbsDiff(out, values)).toBeLessThanOrEqual(eps + 1e-6);
    // Not a no-op: most coordinates moved by the full ε (the rest were clipped).
    const moved = Array.from(out).filter((v, i) => Math.abs(Math.abs(v - values[i]) - eps) < 1e-5).length;
    expect(moved).toBeGreaterThan(values.length / 3);
    tf.dispose([x, adv]);
    model.dispose();
  });

  it('honours a custom [clipMin, clipMax]', () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const values = Float32Array.from(randomInputs(N, D, 6).values, (v) => -1 + 3 * v); // in [-1, 2)
    const x = tf.tensor2d(values, [N, D]);
    const adv = fgsm(asAttackTarget(model), x, { eps: 0.5, clipMin: -1, clipMax: 2 });
    const out = adv.dataSync();
    expect(Math.min(...out)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...out)).toBeLessThanOrEqual(2);
    expect(maxAbsDiff(out, values)).toBeLessThanOrEqual(0.5 + 1e-6);
    // Values below 0 and above 1 survive: the default [0, 1] range was not applied.
    expect(Math.min(...out)).toBeLessThan(0);
    expect(Math.max(...out)).toBeGreaterThan(1);
    tf.dispose([x, adv]);
    model.dispose();
  });

  it('ε = 0 returns the input unchanged and bad options are rejected', () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const { values, tensor } = randomInputs(N, D, 7);
    const same = fgsm(asAttackTarget(model), tensor, { eps: 0 });
    expect(maxAbsDiff(same.dataSync(), values)).toBe(0);
    expect(() => fgsm(asAttackTarget(model), tensor, { eps: -0.1 })).toThrow(/eps/);
    expect(() => fgsm(asAttackTarget(model), tensor, { eps: NaN })).toThrow(/eps/);
    expect(() => fgsm(asAttackTarget(model), tensor, { eps: 0.1, clipMin: 1, clipMax: 0 })).toThrow(/clipMin/);
    tf.dispose([same, tensor]);
    model.dispose();
  });
});

describe('fgsm labels', () => {
  it('defaults to the model’s predictions (no label leaking)', () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const { tensor: x } = randomInputs(32, D, 8);
    const target = asAttackTarget(model);
    const predictions = tf.tidy(() => model.predict(model.scores(x)));
    const implicit = fgsm(target, x, { eps: 0.1 });
    const explicit = fgsm(target, x, { eps: 0.1, labels: predictions });
    expect(Array.from(implicit.dataSync())).toEqual(Array.from(explicit.dataSync()));
    // Sanity: labels do matter, so the equality above is not vacuous.
    const other = tf.tidy(() => tf.cast(tf.mod(tf.add(predictions, 1), K), 'int32') as tf.Tensor1D);
    const shifted = fgsm(target, x, { eps: 0.1, labels: other });
    expect(maxAbsDiff(shifted.dataSync(), implicit.dataSync())).toBeGreaterThan(0.05);
    tf.dispose([x, predictions, implicit, explicit, other, shifted]);
    model.dispose();
  });

  it('targeted: lowers the loss of the target class for every example', () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const { tensor: x } = randomInputs(N, D, 9);
    const wanted = randomLabels(N, K, 10);
    const wantedTensor = tf.tensor1d(wanted, 'int32');
    const adv = fgsm(asAttackTarget(model), x, { eps: 0.02, labels: wantedTensor, targeted: true });
    const untargeted = fgsm(asAttackTarget(model), x, { eps: 0.02, labels: wantedTensor });
    for (let n = 0; n < N; n++) {
      const row = (t: tf.Tensor2D) => tf.slice(t, [n, 0], [1, D]) as tf.Tensor2D;
      const [before, after, away] = [x, adv, untargeted].map((t) => tf.tidy(() => meanLoss(model, row(t), [wanted[n]])));
      expect(after, `example ${n}`).toBeLessThan(before);
      expect(away, `example ${n}`).toBeGreaterThan(before);
    }
    tf.dispose([x, wantedTensor, adv, untargeted]);
    model.dispose();
  });

  it('targeted without labels throws', () => {
    const model = makeModel(softmaxRegressionSpec(), D, K);
    const { tensor: x } = randomInputs(2, D, 11);
    const before = tf.memory().numTensors;
    expect(() => fgsm(asAttackTarget(model), x, { eps: 0.1, targeted: true })).toThrow(/targeted attack needs `labels`/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});

describe('exactSign', () => {
  it('is ±1 for every nonzero value, however small (wasm Sign returns 0 below ~1e-7)', async () => {
    const { exactSign } = await import('@advx/attacks');
    const tfc = await import('@tensorflow/tfjs-core');
    const values = [3e-9, -4e-12, 0, 1e-30, -2.5, 7];
    const s = exactSign(tfc.tensor1d(values));
    expect(Array.from(await s.data())).toEqual([1, -1, 0, 1, -1, 1]);
    s.dispose();
  });
});
