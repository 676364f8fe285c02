import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { lossGradient } from '@advx/attacks';
import { asAttackTarget, logisticRegressionSpec, maxoutSpec, rbfSpec, softmaxRegressionSpec, type Classifier, type ModelSpec } from '@advx/models';
import { makeModel, meanLoss, randomInputs, randomLabels, weightsOf } from './helpers.js';

const D = 20;
const N = 3;
const H = 1e-2;

/**
 * Which piece wins in every maxout unit for one input row (plain JS, float64). Central differences
 * across a change of winner measure a kink, not the gradient, so those coordinates are skipped.
 */
function maxoutPattern(model: Classifier, row: number[]): string {
  const w = weightsOf(model);
  let h = row;
  const winners: number[] = [];
  model.spec.hidden.forEach((layer, i) => {
    const W = w.get(`hidden${i}/W`)!;
    const b = w.get(`hidden${i}/b`)!.values;
    const cols = W.shape[1];
    const z = Array.from({ length: cols }, (_, c) => b[c] + h.reduce((s, v, j) => s + v * W.values[j * cols + c], 0));
    const next: number[] = [];
    for (let u = 0; u < layer.units; u++) {
      const pieces = z.slice(u * layer.pieces, (u + 1) * layer.pieces);
      const best = pieces.indexOf(Math.max(...pieces));
      winners.push(best);
      next.push(pieces[best]);
    }
    h = next;
  });
  return winners.join(',');
}

function checkGradient(spec: ModelSpec, numClasses: number, seed: number): { compared: number; skipped: number } {
  const model = makeModel(spec, D, numClasses, seed);
  const { values, tensor: x } = randomInputs(N, D, seed + 100);
  const labels = randomLabels(N, numClasses, seed + 200);
  const target = asAttackTarget(model);
  const grad = tf.tidy(() => lossGradient(target, x, model.targets(tf.tensor1d(labels, 'int32')), false).dataSync());
  const targetedGrad = tf.tidy(() => lossGradient(target, x, model.targets(tf.tensor1d(labels, 'int32')), true).dataSync());
  // Targeted attacks step along −∇ so that descending the target's loss is still "+ step".
  expect(Array.from(targetedGrad, (g) => -g + 0)).toEqual(Array.from(grad, (g) => g + 0));

  const scale = Math.max(...Array.from(grad, Math.abs));
  expect(scale).toBeGreaterThan(1e-3);
  let compared = 0;
  let skipped = 0;
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(grad[i]) < 1e-2 * scale) continue;
    const plus = Float32Array.from(values);
    const minus = Float32Array.from(values);
    plus[i] += H;
    minus[i] -= H;
    if (spec.hidden.length > 0) {
      const n = Math.floor(i / D);
      const rowOf = (a: Float32Array) => Array.from(a.subarray(n * D, (n + 1) * D));
      const here = maxoutPattern(model, rowOf(values));
      if (maxoutPattern(model, rowOf(plus)) !== here || maxoutPattern(model, rowOf(minus)) !== here) {
        skipped++;
        continue;
      }
    }
    const loss = (a: Float32Array) => tf.tidy(() => meanLoss(model, tf.tensor2d(a, [N, D]), labels));
    const numeric = (loss(plus) - loss(minus)) / (2 * H);
    const relative = Math.abs(numeric - grad[i]) / Math.max(Math.abs(numeric), Math.abs(grad[i]));
    expect(relative, `coordinate ${i}: analytic ${grad[i]}, numeric ${numeric}`).toBeLessThan(2e-2);
    compared++;
  }
  x.dispose();
  model.dispose();
  return { compared, skipped };
}

describe('lossGradient matches central finite differences', () => {
  it('softmax regression', () => {
    const { compared } = checkGradient(softmaxRegressionSpec({ initRange: 0.5 }), 5, 1);
    expect(compared).toBeGreaterThan(N * D * 0.5);
  });

  it('maxout, 2 layers × 8 units × 3 pieces', () => {
    const spec = maxoutSpec({ units: 8, pieces: 3, initRange: 0.5, inputKeep: 1, hiddenKeep: 1 });
    const { compared, skipped } = checkGradient(spec, 4, 2);
    expect(compared).toBeGreaterThan(N * D * 0.5);
    expect(skipped).toBeLessThan(compared);
  });

  it('logistic regression (one sigmoid output)', () => {
    const { compared } = checkGradient(logisticRegressionSpec({ initRange: 0.5 }), 2, 3);
    expect(compared).toBeGreaterThan(N * D * 0.5);
  });

  it('maxout with a sigmoid top (independent per-class sigmoids)', () => {
    const spec = maxoutSpec({ units: 8, pieces: 3, initRange: 0.5, inputKeep: 1, hiddenKeep: 1, head: 'sigmoid' });
    const { compared } = checkGradient(spec, 4, 4);
    expect(compared).toBeGreaterThan(N * D * 0.5);
  });

  it('RBF output layer', () => {
    const { compared } = checkGradient(rbfSpec(), 3, 5);
    expect(compared).toBeGreaterThan(N * D * 0.5);
  });
});
