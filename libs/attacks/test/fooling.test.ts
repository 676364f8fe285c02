import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { foolingRun, rubbishExamples } from '@advx/attacks';
import { rbfSpec, softmaxRegressionSpec, type Classifier } from '@advx/models';
import { makeModel, maxAbsDiff, weightsOf } from './helpers.js';

const D = 16;
const K = 4;

function softmax(logits: number[]): number[] {
  const top = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - top));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Plain-JS softmax-regression probabilities of one row. */
function probabilitiesOf(model: Classifier, row: ArrayLike<number>): number[] {
  const w = weightsOf(model);
  const W = w.get('output/W')!.values;
  const b = w.get('output/b')!.values;
  return softmax(Array.from({ length: K }, (_, k) => b[k] + Array.from(row).reduce((s, xj, j) => s + xj * W[j * K + k], 0)));
}

describe('rubbishExamples (App. A: N(0, I), unclipped)', () => {
  it('draws count × inputSize standard normals, reproducibly, without clipping', () => {
    const a = rubbishExamples(Rng.fromSeed(1), 500, 40);
    const b = rubbishExamples(Rng.fromSeed(1), 500, 40);
    const c = rubbishExamples(Rng.fromSeed(2), 500, 40);
    expect(a.length).toBe(20_000);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeGreaterThan(0.95);
    expect(variance).toBeLessThan(1.05);
    expect(Math.min(...a)).toBeLessThan(-3);
    expect(Math.max(...a)).toBeGreaterThan(3);
  });

  it('honours mean and std, and rejects bad sizes', () => {
    const x = rubbishExamples(Rng.fromSeed(3), 1000, 10, { mean: 5, std: 0.1 });
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    expect(mean).toBeCloseTo(5, 2);
    expect(() => rubbishExamples(Rng.fromSeed(3), -1, 10)).toThrow(/count/);
    expect(() => rubbishExamples(Rng.fromSeed(3), 1, 0)).toThrow(/inputSize/);
  });
});

describe('foolingRun (App. A fooling images)', () => {
  it('iterate, one step: x₁ = x₀ + ε·sign(∇ₓ p(y=i|x₀)) with x₀ the first N(0, I) draw of the rng', async () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const before = tf.memory().numTensors;
    const classes = [0, 2];
    const eps = 0.3;
    const run = await foolingRun(model, Rng.fromSeed(9), { classes, samplesPerClass: 3, eps, maxSteps: 1, inputSize: D, mode: 'iterate', success: { kind: 'probability', threshold: 2 } });
    expect(tf.memory().numTensors).toBe(before);
    // threshold 2 can never be met: every sample fails and the example is sample 0's stepped image.
    expect(run.successRateByClass).toEqual([0, 0]);
    expect(run.stepsToSuccess).toEqual([
      [-1, -1, -1],
      [-1, -1, -1],
    ]);
    expect(run.exampleSucceeded).toEqual([false, false]);
    const x0 = Rng.fromSeed(9).fillNormal(new Float32Array(6 * D));
    const W = weightsOf(model).get('output/W')!.values;
    classes.forEach((i, k) => {
      const row = x0.subarray(k * 3 * D, (k * 3 + 1) * D);
      const p = probabilitiesOf(model, row);
      // ∇ₓ p_i = p_i (w_i − Σ_k p_k w_k) for softmax regression.
      const expected = Array.from(row, (xj, j) => xj + eps * Math.sign(W[j * K + i] - p.reduce((s, pk, kk) => s + pk * W[j * K + kk], 0)));
      expect(maxAbsDiff(run.examples.subarray(k * D, (k + 1) * D), expected)).toBeLessThan(1e-5);
    });
    model.dispose();
  });

  it('resample with a large ε fools a linear model on every trial; examples really are classified as i with p ≥ .5', async () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const before = tf.memory().numTensors;
    const classes = [0, 1, 2, 3];
    const run = await foolingRun(model, Rng.fromSeed(4), { classes, samplesPerClass: 5, eps: 3, maxSteps: 3, inputSize: D });
    expect(tf.memory().numTensors).toBe(before);
    expect(run.successRateByClass).toEqual([1, 1, 1, 1]);
    // Independent trials: most succeed; a sample's first success is at trial 1..3.
    for (const rate of run.perStepSuccessRateByClass) expect(rate).toBeGreaterThan(0.6);
    for (const steps of run.stepsToSuccess) for (const s of steps) expect([1, 2, 3]).toContain(s);
    expect(run.stepsToSuccess.flat().filter((s) => s === 1).length).toBeGreaterThan(10);
    expect(run.examples.length).toBe(4 * D);
    classes.forEach((i, k) => {
      const p = probabilitiesOf(model, run.examples.subarray(k * D, (k + 1) * D));
      expect(p[i]).toBeGreaterThanOrEqual(0.5);
    });
    model.dispose();
  });

  it('iterate with a small ε needs several steps, and a successful row stays frozen at its first success', async () => {
    const model = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K);
    const run = await foolingRun(model, Rng.fromSeed(5), { classes: [1, 3], samplesPerClass: 8, eps: 0.05, maxSteps: 60, inputSize: D, mode: 'iterate', success: { kind: 'argmax' } });
    const all = run.stepsToSuccess.flat();
    expect(all.every((s) => s >= 1)).toBe(true);
    expect(Math.max(...all)).toBeGreaterThan(1);
    run.exampleSucceeded.forEach((ok, k) => {
      expect(ok).toBe(true);
      const p = probabilitiesOf(model, run.examples.subarray(k * D, (k + 1) * D));
      expect(p.indexOf(Math.max(...p))).toBe(run.classes[k]);
    });
    // Same seed → same run; the literal ε∇ₓp step is another algorithm and gives other images.
    const again = await foolingRun(model, Rng.fromSeed(5), { classes: [1, 3], samplesPerClass: 8, eps: 0.05, maxSteps: 60, inputSize: D, mode: 'iterate', success: { kind: 'argmax' } });
    expect(again).toEqual(run);
    const literal = await foolingRun(model, Rng.fromSeed(5), { classes: [1, 3], samplesPerClass: 8, eps: 0.05, maxSteps: 2, inputSize: D, mode: 'iterate', step: 'gradient' });
    expect(Array.from(literal.examples)).not.toEqual(Array.from(run.examples));
    model.dispose();
  });

  it('an RBF model is not fooled far from its centres (§7, App. A); clipping bounds the images', async () => {
    // Centres lie in [0, 1)^400; images clipped into [-3, -2]^400 stay far from all of them.
    const d = 400;
    const model = makeModel(rbfSpec(), d, K);
    const before = tf.memory().numTensors;
    const run = await foolingRun(model, Rng.fromSeed(6), { classes: [0, 1], samplesPerClass: 10, eps: 0.1, maxSteps: 2, inputSize: d, clip: [-3, -2] });
    expect(tf.memory().numTensors).toBe(before);
    expect(run.successRateByClass).toEqual([0, 0]);
    expect(run.perStepSuccessRateByClass).toEqual([0, 0]);
    expect(Math.max(...run.examples)).toBeLessThanOrEqual(-2);
    expect(Math.min(...run.examples)).toBeGreaterThanOrEqual(-3);
    model.dispose();
  });

  it('rejects bad options and out-of-range classes without leaking', async () => {
    const model = makeModel(softmaxRegressionSpec(), D, K);
    const before = tf.memory().numTensors;
    const base = { classes: [0], samplesPerClass: 2, eps: 0.1, maxSteps: 1, inputSize: D };
    await expect(foolingRun(model, Rng.fromSeed(1), { ...base, classes: [] })).rejects.toThrow(/classes/);
    await expect(foolingRun(model, Rng.fromSeed(1), { ...base, eps: -1 })).rejects.toThrow(/eps/);
    await expect(foolingRun(model, Rng.fromSeed(1), { ...base, maxSteps: 0 })).rejects.toThrow(/maxSteps/);
    await expect(foolingRun(model, Rng.fromSeed(1), { ...base, classes: [K] })).rejects.toThrow(/out of range/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
