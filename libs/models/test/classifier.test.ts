import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { logisticRegressionSpec, maxoutSpec, rbfSpec, softmaxRegressionSpec, train, type Classifier, type DropoutMasks } from '@advx/models';
import { blobs, evaluate, makeModel, maxAbsDiff, trainConfig, weightMap } from './helpers.js';

const D = 20;
const K = 3;
const N = 8;

const inputs = (seed: number, rows = N) => tf.tensor2d(Rng.fromSeed(seed).fillUniform(new Float32Array(rows * D)), [rows, D]);

/** Plain-JS (float64) forward pass of a maxout net with a dense head, applying dropout masks if given. */
function forward(model: Classifier, x: Float32Array, masks?: Float32Array[]): number[][] {
  const w = weightMap(model);
  const layers = [...model.spec.hidden.map((l, i) => ({ name: `hidden${i}`, units: l.units, pieces: l.pieces })), { name: 'output', units: model.outputs, pieces: 1 }];
  const rows: number[][] = [];
  for (let n = 0; n < x.length / D; n++) {
    let h = Array.from(x.subarray(n * D, (n + 1) * D));
    layers.forEach(({ name, units, pieces }, i) => {
      if (masks) h = h.map((v, j) => v * masks[i][n * h.length + j]);
      const W = w.get(`${name}/W`)!;
      const b = w.get(`${name}/b`)!;
      const cols = units * pieces;
      const z = Array.from({ length: cols }, (_, c) => b[c] + h.reduce((s, v, j) => s + v * W[j * cols + c], 0));
      h = Array.from({ length: units }, (_, u) => Math.max(...z.slice(u * pieces, (u + 1) * pieces)));
    });
    rows.push(h);
  }
  return rows;
}

describe('Classifier forward pass', () => {
  it('maxout scores match a plain-JS forward pass', () => {
    const model = makeModel(maxoutSpec({ units: 6, pieces: 3, initRange: 0.5 }), D, K, 1);
    const x = inputs(2);
    const scores = model.scores(x);
    expect(scores.shape).toEqual([N, K]);
    expect(maxAbsDiff(scores.dataSync(), forward(model, x.dataSync() as Float32Array).flat())).toBeLessThan(1e-4);
    tf.dispose([x, scores]);
    model.dispose();
  });

  it('dropout masks from Rng are inverted-dropout: values 0 or 1/keep, mean ≈ 1', () => {
    for (const keep of [0.8, 0.5]) {
      const mask = Rng.fromSeed(3).fillDropoutMask(new Float32Array(20000), keep);
      const distinct = new Set(mask);
      expect([...distinct].sort()).toEqual([0, Math.fround(1 / keep)].sort());
      const kept = mask.filter((v) => v > 0).length / mask.length;
      expect(kept).toBeGreaterThan(keep - 0.02);
      expect(kept).toBeLessThan(keep + 0.02);
      expect(mask.reduce((s, v) => s + v, 0) / mask.length).toBeCloseTo(1, 1);
    }
  });

  it('with keep = 1 everywhere, the training-mode forward (all-ones masks) equals inference', () => {
    const model = makeModel(maxoutSpec({ units: 6, pieces: 3, initRange: 0.5, inputKeep: 1, hiddenKeep: 1 }), D, K, 4);
    const widths = model.dropoutWidths();
    expect(widths).toEqual([
      { width: D, keep: 1, scale: 1 },
      { width: 6, keep: 1, scale: 1 },
      { width: 6, keep: 1, scale: 1 },
    ]);
    const x = inputs(5);
    const masks: DropoutMasks = widths.map(({ width, keep }) => tf.tensor2d(Rng.fromSeed(6).fillDropoutMask(new Float32Array(N * width), keep), [N, width]));
    const inference = model.scores(x);
    const training = model.scores(x, masks);
    expect(Array.from(training.dataSync())).toEqual(Array.from(inference.dataSync()));
    tf.dispose([x, inference, training, ...masks]);
    model.dispose();
  });

  it('with keep < 1, masks scale each layer input by 0 or 1/keep', () => {
    const model = makeModel(maxoutSpec({ units: 6, pieces: 3, initRange: 0.5 }), D, K, 7);
    const widths = model.dropoutWidths();
    expect(widths.map((w) => w.keep)).toEqual([0.8, 0.5, 0.5]);
    const x = inputs(8);
    const rng = Rng.fromSeed(9);
    const plain = widths.map(({ width, keep }) => rng.fillDropoutMask(new Float32Array(N * width), keep));
    const masks = plain.map((m, i) => tf.tensor2d(m, [N, widths[i].width]));
    const training = model.scores(x, masks);
    const inference = model.scores(x);
    const expected = forward(model, x.dataSync() as Float32Array, plain).flat();
    expect(maxAbsDiff(training.dataSync(), expected)).toBeLessThan(1e-4);
    expect(maxAbsDiff(training.dataSync(), inference.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([x, training, inference, ...masks]);
    model.dispose();
  });

  it('softmax probabilities sum to 1; logistic regression predicts sign(logit) with confidence max(p, 1 − p)', () => {
    const soft = makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K, 10);
    const logistic = makeModel(logisticRegressionSpec({ initRange: 0.5 }), D, 2, 10);
    const x = inputs(11);
    tf.tidy(() => {
      const p = soft.probabilities(soft.scores(x)).arraySync();
      for (const row of p) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      const s = logistic.scores(x);
      expect(s.shape).toEqual([N, 1]);
      const logits = s.dataSync();
      const predicted = logistic.predict(s).dataSync();
      const confidence = logistic.confidence(s).dataSync();
      for (let n = 0; n < N; n++) {
        expect(predicted[n]).toBe(logits[n] > 0 ? 1 : 0);
        const p1 = 1 / (1 + Math.exp(-logits[n]));
        expect(confidence[n]).toBeCloseTo(Math.max(p1, 1 - p1), 5);
      }
      expect(Array.from(logistic.targets(tf.tensor1d([0, 1, 1], 'int32')).dataSync())).toEqual([0, 1, 1]);
      expect(soft.targets(tf.tensor1d([2, 0], 'int32')).arraySync()).toEqual([
        [0, 0, 1],
        [1, 0, 0],
      ]);
    });
    x.dispose();
    soft.dispose();
    logistic.dispose();
  });

  it('scores, probabilities, predict, confidence, targets and loss leave no tensors behind', () => {
    for (const spec of [maxoutSpec({ units: 6, pieces: 3 }), logisticRegressionSpec(), rbfSpec()]) {
      const model = makeModel(spec, D, spec.outputs === 1 ? 2 : K, 12);
      const x = inputs(13);
      const labels = tf.tensor1d([0, 1, 1, 0, 1, 0, 0, 1], 'int32');
      const before = tf.memory().numTensors;
      const scores = model.scores(x);
      const targets = model.targets(labels);
      const results = [model.probabilities(scores), model.predict(scores), model.confidence(scores), model.loss(scores, targets)];
      expect(tf.memory().numTensors, spec.name).toBe(before + 2 + results.length);
      tf.dispose([scores, targets, ...results]);
      expect(tf.memory().numTensors, spec.name).toBe(before);
      model.applyConstraints();
      expect(tf.memory().numTensors, spec.name).toBe(before);
      tf.dispose([x, labels]);
      model.dispose();
    }
  });

  it('dispose() releases every variable the model created', () => {
    const before = tf.memory().numTensors;
    const model = makeModel(maxoutSpec({ units: 6, pieces: 3 }), D, K, 14);
    expect(model.namedVariables.map(([n]) => n)).toEqual(['hidden0/W', 'hidden0/b', 'hidden1/W', 'hidden1/b', 'output/W', 'output/b']);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('RBF head', () => {
  const data = blobs(300, D, K, 15);

  it('probabilities are in (0, 1] and the loss is finite', () => {
    const model = makeModel(rbfSpec(), D, K, 16);
    const x = inputs(17, 50);
    tf.tidy(() => {
      const scores = model.scores(x);
      const p = model.probabilities(scores).dataSync();
      expect(Math.min(...p)).toBeGreaterThan(0);
      expect(Math.max(...p)).toBeLessThanOrEqual(1);
      // scores are log-probabilities, so never positive.
      expect(Math.max(...scores.dataSync())).toBeLessThanOrEqual(0);
      const loss = model.loss(scores, model.targets(tf.tensor1d(Array.from({ length: 50 }, (_, i) => i % K), 'int32'))).dataSync()[0];
      expect(Number.isFinite(loss)).toBe(true);
      expect(loss).toBeGreaterThan(0);
    });
    x.dispose();
    model.dispose();
  });

  it('log-probabilities equal −Σ_j β_ij (x_j − w_ij)² computed by hand', () => {
    const model = makeModel(rbfSpec(), D, K, 18);
    const x = inputs(19, 4);
    const w = weightMap(model);
    const centres = w.get('rbf/centres')!;
    const beta = w.get('rbf/logPrecision')!.map(Math.exp);
    const xs = x.dataSync();
    const scores = model.scores(x);
    const s = scores.dataSync();
    for (let n = 0; n < 4; n++) {
      for (let k = 0; k < K; k++) {
        let sum = 0;
        for (let j = 0; j < D; j++) sum += beta[j * K + k] * (xs[n * D + j] - centres[j * K + k]) ** 2;
        expect(s[n * K + k]).toBeCloseTo(-sum, 4);
      }
    }
    tf.dispose([x, scores]);
    model.dispose();
  });

  it('trains (loss decreases, low error) and is unconfident far from the data', async () => {
    const model = makeModel(rbfSpec(), D, K, 20);
    const before = evaluate(model, data, D);
    // RBF units train slowly (§7): from wide kernels every output first falls, then the classes separate.
    const reports = await train(model, data, trainConfig({ epochs: 30, learningRate: { initial: 0.2, decayFactor: 10 ** (1 / ((30 * data.count) / 20)), min: 0 }, momentum: 0.9 }), Rng.fromSeed(20));
    const after = evaluate(model, data, D);
    expect(Number.isFinite(after.loss)).toBe(true);
    expect(reports[reports.length - 1].meanLoss).toBeLessThan(reports[0].meanLoss);
    expect(after.loss).toBeLessThan(0.5 * before.loss);
    expect(after.error).toBeLessThanOrEqual(0.05);
    // Confident on its training data …
    const near = tf.tidy(() => tf.mean(model.confidence(model.scores(tf.tensor2d(data.images, [data.count, D])))).dataSync()[0]);
    expect(near).toBeGreaterThan(0.5);
    // … but not on points far away (x ~ 10·N(0, I)): RBF units only fire near their centres.
    const far = tf.tensor2d(Rng.fromSeed(21).fillNormal(new Float32Array(100 * D), 0, 10), [100, D]);
    const confidence = tf.tidy(() => model.confidence(model.scores(far)).dataSync());
    expect(Math.max(...confidence)).toBeLessThan(0.01);
    far.dispose();
    model.dispose();
  });
});
