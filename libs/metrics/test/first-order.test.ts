import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { firstOrderExamples, summarizeFirstOrder } from '@advx/metrics';

/** A seeded-by-formula linear model z = xW + b: the closed forms below hold for it exactly. */
const d = 6;
const k = 4;
const W = Array.from({ length: d * k }, (_, i) => Math.sin(1.7 * i + 0.3));
const b = [0.2, -0.1, 0.05, 0];
const X = Array.from({ length: 8 * d }, (_, i) => 0.5 + 0.5 * Math.cos(0.9 * i));
const n = X.length / d;

function linearScores(Wt: tf.Tensor2D, bt: tf.Tensor1D) {
  return (x: tf.Tensor2D) => tf.add(tf.matMul(x, Wt), bt) as tf.Tensor2D;
}

/** z for one example, by hand. */
function logits(i: number, w: number[] = W, x: number[] = X.slice(i * d, (i + 1) * d)): number[] {
  return Array.from({ length: k }, (_, c) => b[c] + x.reduce((s, xj, j) => s + xj * w[j * k + c], 0));
}

describe('firstOrderExamples / summarizeFirstOrder', () => {
  it('on a linear model: margins, ‖∇m‖₁ = ‖w_y − w_r‖₁, and the step drops the margin by exactly ε‖∇m‖₁', async () => {
    const labels = Array.from({ length: n }, (_, i) => i % k);
    const epsilons = [0.05, 0.3];
    const Wt = tf.tensor2d(W, [d, k]);
    const bt = tf.tensor1d(b);
    const x = tf.tensor2d(X, [n, d]);
    const y = tf.tensor1d(labels, 'int32');
    const before = tf.memory().numTensors;
    // Batches of 3 over 8 examples: the last batch is short.
    const out = await firstOrderExamples(linearScores(Wt, bt), x, y, epsilons, 3);
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < n; i++) {
      const z = logits(i);
      const yi = labels[i];
      const r = z.map((v, c) => (c === yi ? -Infinity : v)).reduce((best, v, c, all) => (v > all[best] ? c : best), 0);
      const margin = z[yi] - z[r];
      const l1 = Array.from({ length: d }, (_, j) => Math.abs(W[j * k + yi] - W[j * k + r])).reduce((s, v) => s + v, 0);
      expect(out.margins[i]).toBeCloseTo(margin, 5);
      expect(out.gradientL1[i]).toBeCloseTo(l1, 5);
      epsilons.forEach((eps, e) => expect(out.marginsAfter[e][i]).toBeCloseTo(margin - eps * l1, 5));
    }
    const summary = summarizeFirstOrder(out, epsilons);
    summary.medianDropRatio.forEach((ratio) => expect(ratio).toBeCloseTo(1, 5));
    // Linear: the linearized error is the realized one.
    expect(summary.runnerUpStepError).toEqual(summary.runnerUpLinearError);
    expect(summary.runnerUpLinearError[1]).toBeGreaterThanOrEqual(summary.runnerUpLinearError[0]);
    expect(summary.nonFinite).toBe(0);
    tf.dispose([Wt, bt, x, y]);
  });

  it('on a saturating model the realized drop falls short of the linear prediction, and ε* is m/‖∇m‖₁', async () => {
    // z = 3·tanh(xW + b): along the signed step the margin saturates, so it drops less than ε‖∇m‖₁.
    const Wt = tf.tensor2d(W, [d, k]);
    const bt = tf.tensor1d(b);
    const scores = (x: tf.Tensor2D) => tf.mul(tf.tanh(tf.add(tf.matMul(x, Wt), bt)), 3) as tf.Tensor2D;
    const x = tf.tensor2d(X, [n, d]);
    const labels = tf.tidy(() => tf.argMax(scores(x), 1)) as tf.Tensor1D;
    const epsilons = [1.5];
    const out = await firstOrderExamples(scores, x, labels, epsilons);
    const summary = summarizeFirstOrder(out, epsilons);
    expect(summary.medianDropRatio[0]).toBeLessThan(0.9);
    expect(summary.medianDropRatio[0]).toBeGreaterThan(0);
    const epsStar = Array.from(out.margins, (m, i) => m / out.gradientL1[i]).sort((a, c) => a - c);
    expect(summary.medianEpsStar).toBeCloseTo((epsStar[n / 2 - 1] + epsStar[n / 2]) / 2, 6);
    tf.dispose([Wt, bt, x, labels]);
  });

  it('counts non-finite examples apart and leaves them out of every rate and median', () => {
    const examples = { margins: Float32Array.from([1, NaN, -1, 2]), gradientL1: Float32Array.from([10, 1, 1, Infinity]), marginsAfter: [Float32Array.from([-1, NaN, -2, 1])] };
    const summary = summarizeFirstOrder(examples, [0.25]);
    expect(summary.nonFinite).toBe(2);
    // Left: example 0 (correct, ε* = .1, flipped by both) and example 2 (already wrong).
    expect(summary.runnerUpLinearError).toEqual([1]);
    expect(summary.runnerUpStepError).toEqual([1]);
    expect(summary.medianEpsStar).toBeCloseTo(0.1, 6);
    expect(summary.medianDropRatio[0]).toBeCloseTo(2 / 2.5, 6);
  });
});
