import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { ClassificationAccumulator } from '@advx/metrics';

interface Batch {
  predictions: number[];
  labels: number[];
  confidence: number[];
}

function randomBatches(sizes: number[], seed: number, errorRate = 0.3): Batch[] {
  const rng = Rng.fromSeed(seed);
  return sizes.map((size) => {
    const labels = Array.from({ length: size }, () => rng.int(10));
    const predictions = labels.map((l) => (rng.uniform() < errorRate ? (l + 1 + rng.int(9)) % 10 : l));
    const confidence = labels.map(() => Math.fround(0.1 + 0.9 * rng.uniform()));
    return { predictions, labels, confidence };
  });
}

/** The same statistics in plain JS. */
function expected(batches: Batch[]) {
  const all = { predictions: batches.flatMap((b) => b.predictions), labels: batches.flatMap((b) => b.labels), confidence: batches.flatMap((b) => b.confidence) };
  const wrong = all.predictions.map((p, i) => p !== all.labels[i]);
  const errors = wrong.filter(Boolean).length;
  const onErrors = all.confidence.filter((_, i) => wrong[i]);
  return {
    count: all.labels.length,
    error: errors / all.labels.length,
    confidence: all.confidence.reduce((a, b) => a + b, 0) / all.labels.length,
    confidenceOnErrors: errors ? onErrors.reduce((a, b) => a + b, 0) / errors : NaN,
  };
}

function add(acc: ClassificationAccumulator, batch: Batch, dtype: 'int32' | 'float32' = 'int32'): void {
  const p = tf.tensor1d(batch.predictions, dtype);
  const l = tf.tensor1d(batch.labels, dtype);
  const c = tf.tensor1d(batch.confidence);
  acc.add(p, l, c);
  tf.dispose([p, l, c]);
}

function expectStats(actual: Awaited<ReturnType<ClassificationAccumulator['result']>>, want: ReturnType<typeof expected>): void {
  expect(actual.count).toBe(want.count);
  expect(actual.error).toBeCloseTo(want.error, 6);
  expect(actual.confidence).toBeCloseTo(want.confidence, 5);
  if (Number.isNaN(want.confidenceOnErrors)) expect(actual.confidenceOnErrors).toBeNaN();
  else expect(actual.confidenceOnErrors).toBeCloseTo(want.confidenceOnErrors, 5);
}

describe('ClassificationAccumulator', () => {
  it('over several batches of different sizes equals a plain-JS computation', async () => {
    const batches = randomBatches([17, 64, 1, 30], 1);
    const acc = new ClassificationAccumulator();
    for (const b of batches) add(acc, b);
    const want = expected(batches);
    // The data is such that every statistic is informative.
    expect(want.error).toBeGreaterThan(0.1);
    expect(want.error).toBeLessThan(0.5);
    expectStats(await acc.result(), want);
    // Confidence on errors is not the overall mean.
    expect(Math.abs(want.confidenceOnErrors - want.confidence)).toBeGreaterThan(1e-4);
    acc.dispose();
  });

  it('small hand-made case', async () => {
    const acc = new ClassificationAccumulator();
    add(acc, { predictions: [1, 2, 3], labels: [1, 0, 3], confidence: [0.5, 0.9, 0.7] });
    add(acc, { predictions: [4], labels: [5], confidence: [0.3] });
    const r = await acc.result();
    expect(r.count).toBe(4);
    expect(r.error).toBeCloseTo(0.5, 6);
    expect(r.confidence).toBeCloseTo((0.5 + 0.9 + 0.7 + 0.3) / 4, 6);
    expect(r.confidenceOnErrors).toBeCloseTo((0.9 + 0.3) / 2, 6);
    acc.dispose();
  });

  it('accepts float predictions and labels (e.g. from argMax cast elsewhere)', async () => {
    const batches = randomBatches([20, 20], 2);
    const acc = new ClassificationAccumulator();
    for (const b of batches) add(acc, b, 'float32');
    expectStats(await acc.result(), expected(batches));
    acc.dispose();
  });

  it('no errors → error 0 and confidenceOnErrors NaN; nothing added → NaN rates', async () => {
    const batches = randomBatches([10, 5], 3, 0);
    const acc = new ClassificationAccumulator();
    for (const b of batches) add(acc, b);
    const r = await acc.result();
    expect(r.error).toBe(0);
    expect(r.confidenceOnErrors).toBeNaN();
    expectStats(r, expected(batches));
    acc.dispose();

    const empty = new ClassificationAccumulator();
    const e = await empty.result();
    expect(e.count).toBe(0);
    expect(e.error).toBeNaN();
    expect(e.confidence).toBeNaN();
    expect(e.confidenceOnErrors).toBeNaN();
    empty.dispose();
  });

  it('works when add() is called inside tf.tidy, and leaks nothing', async () => {
    const batches = randomBatches([12, 40, 7], 4);
    const before = tf.memory().numTensors;
    const acc = new ClassificationAccumulator();
    for (const b of batches) {
      tf.tidy(() => {
        // Tensors made inside the tidy, as an evaluation loop would make them from model scores.
        acc.add(tf.tensor1d(b.predictions, 'int32'), tf.tensor1d(b.labels, 'int32'), tf.tensor1d(b.confidence));
      });
    }
    expect(tf.memory().numTensors).toBe(before + 1);
    expectStats(await acc.result(), expected(batches));
    acc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('result() can be read repeatedly and between batches', async () => {
    const batches = randomBatches([8, 9], 5);
    const acc = new ClassificationAccumulator();
    add(acc, batches[0]);
    expectStats(await acc.result(), expected([batches[0]]));
    expectStats(await acc.result(), expected([batches[0]]));
    add(acc, batches[1]);
    expectStats(await acc.result(), expected(batches));
    acc.dispose();
  });
});
