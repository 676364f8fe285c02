import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { fgsm } from '@advx/attacks';
import { asAttackTarget, maxoutSpec, softmaxRegressionSpec, train, type Classifier, type ModelSpec, type Objective, type TrainConfig, type TrainData } from '@advx/models';
import { blobs, evaluate, flatWeights, makeModel, maxAbsDiff, noiseData, trainConfig } from './helpers.js';

const D = 20;
const K = 3;

const smallMaxout = (overrides: Partial<ModelSpec> = {}) => maxoutSpec({ units: 8, pieces: 3, initRange: 0.05, ...overrides });

/** Builds the model from `modelSeed`, trains it with Rng `trainSeed`, and returns it with its reports. */
async function trained(spec: ModelSpec, data: TrainData, config: TrainConfig, modelSeed: number, trainSeed = modelSeed): Promise<{ model: Classifier; losses: number[] }> {
  const model = makeModel(spec, D, K, modelSeed);
  const reports = await train(model, data, config, Rng.fromSeed(trainSeed));
  return { model, losses: reports.map((r) => r.meanLoss) };
}

/** Trains, reads the weights back, and releases the model. */
async function trainedWeights(spec: ModelSpec, data: TrainData, config: TrainConfig, modelSeed: number, trainSeed = modelSeed) {
  const { model, losses } = await trained(spec, data, config, modelSeed, trainSeed);
  const weights = flatWeights(model);
  model.dispose();
  return { weights, losses };
}

describe('seeding', () => {
  const data = noiseData(200, D, K, 1);
  // Dropout on, so the dropout stream is exercised too.
  const spec = smallMaxout();

  it('same seed → identical weights and identical losses', async () => {
    const a = await trainedWeights(spec, data, trainConfig(), 5);
    const b = await trainedWeights(spec, data, trainConfig(), 5);
    expect(a.losses).toHaveLength(1);
    expect(Number.isFinite(a.losses[0])).toBe(true);
    expect(b.losses).toEqual(a.losses);
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
  });

  it('different seed → different weights (through init, and through shuffling/dropout alone)', async () => {
    const a = await trainedWeights(spec, data, trainConfig(), 5);
    const b = await trainedWeights(spec, data, trainConfig(), 6);
    expect(maxAbsDiff(a.weights, b.weights)).toBeGreaterThan(1e-3);
    const sameInit = await trainedWeights(spec, data, trainConfig(), 5, 6);
    expect(maxAbsDiff(a.weights, sameInit.weights)).toBeGreaterThan(1e-4);
    expect(sameInit.losses[0]).not.toBe(a.losses[0]);
  });

  it('training changes the weights it was given', async () => {
    const model = makeModel(spec, D, K, 5);
    const initial = flatWeights(model);
    await train(model, data, trainConfig(), Rng.fromSeed(5));
    expect(maxAbsDiff(initial, flatWeights(model))).toBeGreaterThan(1e-3);
    model.dispose();
  });
});

describe('learning', () => {
  const data = blobs(300, D, K, 2);

  it('softmax regression: loss falls and error is low on separable classes', async () => {
    const spec = softmaxRegressionSpec();
    const untrained = makeModel(spec, D, K, 3);
    const before = evaluate(untrained, data, D);
    untrained.dispose();
    const { model, losses } = await trained(spec, data, trainConfig({ epochs: 5, learningRate: 0.5 }), 3);
    const after = evaluate(model, data, D);
    expect(before.loss).toBeCloseTo(Math.log(K), 1);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(after.loss).toBeLessThan(0.5 * before.loss);
    expect(after.error).toBeLessThanOrEqual(0.02);
    model.dispose();
  });

  it('maxout: loss falls and error is low', async () => {
    const spec = smallMaxout({ initRange: 0.3, inputKeep: 1, hiddenKeep: 1 });
    const { model, losses } = await trained(spec, data, trainConfig({ epochs: 6, learningRate: 0.2, momentum: 0.9 }), 4);
    expect(losses[losses.length - 1]).toBeLessThan(0.2 * losses[0]);
    expect(evaluate(model, data, D).error).toBeLessThanOrEqual(0.02);
    model.dispose();
  });

  it('maxout with dropout (keep .8/.5): the inference network fits the data', async () => {
    const untrained = makeModel(smallMaxout({ initRange: 0.3 }), D, K, 4);
    const before = evaluate(untrained, data, D);
    untrained.dispose();
    const { model } = await trained(smallMaxout({ initRange: 0.3 }), data, trainConfig({ epochs: 8, learningRate: 0.2, momentum: { initial: 0.5, final: 0.9, startEpoch: 1, saturateEpoch: 8 } }), 4);
    const after = evaluate(model, data, D);
    expect(after.loss).toBeLessThan(0.7 * before.loss);
    expect(after.error).toBeLessThanOrEqual(0.05);
    model.dispose();
  });

  it('max-norm: every column of every dense weight matrix ends with norm ≤ c', async () => {
    const c = 0.3;
    const config = trainConfig({ epochs: 3, learningRate: 0.5 });
    const columnNorms = (model: Classifier) =>
      model.namedVariables
        .filter(([name]) => name.endsWith('/W'))
        .flatMap(([, w]) => Array.from(tf.tidy(() => tf.sqrt(tf.sum(tf.square(w), 0))).dataSync()));
    const free = await trained(smallMaxout({ initRange: 0.3, maxColumnNorm: null }), data, config, 5);
    // Without the constraint some columns grow past c, so the bound below is not vacuous.
    expect(Math.max(...columnNorms(free.model))).toBeGreaterThan(c * 1.2);
    free.model.dispose();
    const { model } = await trained(smallMaxout({ initRange: 0.3, maxColumnNorm: c }), data, config, 5);
    const norms = columnNorms(model);
    expect(norms.length).toBe(8 * 3 + 8 * 3 + K);
    for (const norm of norms) expect(norm).toBeLessThanOrEqual(c + 1e-5);
    expect(Math.max(...norms)).toBeGreaterThan(c - 1e-3);
    model.dispose();
  });

  it('first-layer L1 shrinks the first layer’s L1 norm', async () => {
    const config = trainConfig({ epochs: 4, learningRate: 0.3 });
    const l1 = (model: Classifier) => tf.tidy(() => tf.sum(tf.abs(model.firstLayerWeights)).dataSync()[0]);
    for (const spec of [softmaxRegressionSpec({ initRange: 0.1 }), smallMaxout({ initRange: 0.1, inputKeep: 1, hiddenKeep: 1 })]) {
      const plain = await trained(spec, data, config, 6);
      const penalised = await trained({ ...spec, firstLayerL1: 0.01 }, data, config, 6);
      const [a, b] = [l1(plain.model), l1(penalised.model)];
      expect(b, spec.name).toBeLessThan(0.8 * a);
      // Only the penalty differs: the linear model still fits the data with it.
      if (spec.hidden.length === 0) expect(evaluate(penalised.model, data, D).error).toBeLessThanOrEqual(0.05);
      plain.model.dispose();
      penalised.model.dispose();
    }
  });

  it('onEpoch can stop training early and sees every epoch’s report', async () => {
    const model = makeModel(softmaxRegressionSpec(), D, K, 7);
    const seen: number[] = [];
    const reports = await train(model, data, trainConfig({ epochs: 5 }), Rng.fromSeed(7), {
      onEpoch: (r) => {
        seen.push(r.epoch);
        return r.epoch < 2;
      },
    });
    expect(seen).toEqual([1, 2]);
    expect(reports.map((r) => r.epoch)).toEqual([1, 2]);
    expect(reports[0].epochs).toBe(5);
    model.dispose();
  });
});

describe('objectives', () => {
  const data = noiseData(100, D, K, 8);
  const spec = smallMaxout({ initRange: 0.2 });
  const run = (objective: Objective, seed = 9) => trainedWeights(spec, data, trainConfig({ objective, epochs: 2 }), seed);

  it.each<[string, Objective]>([
    ['adversarial', { kind: 'adversarial', alpha: 0.5, eps: 0.25, clip: false }],
    ['noise (sign)', { kind: 'noise', distribution: 'sign', eps: 0.25, clip: false }],
    ['noise (uniform)', { kind: 'noise', distribution: 'uniform', eps: 0.25, clip: false }],
  ])('%s runs, is deterministic per seed and differs from clean', async (_, objective) => {
    const clean = await run({ kind: 'clean' });
    const a = await run(objective);
    const b = await run(objective);
    expect(a.losses.every(Number.isFinite)).toBe(true);
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
    expect(b.losses).toEqual(a.losses);
    expect(maxAbsDiff(a.weights, clean.weights)).toBeGreaterThan(1e-4);
    const otherSeed = await run(objective, 10);
    expect(maxAbsDiff(a.weights, otherSeed.weights)).toBeGreaterThan(1e-4);
  });

  it('adversarial training has a higher loss than clean training on the same batches', async () => {
    const clean = await run({ kind: 'clean' });
    const adversarial = await run({ kind: 'adversarial', alpha: 0.5, eps: 0.25, clip: false });
    expect(adversarial.losses[0]).toBeGreaterThan(clean.losses[0]);
  });

  it('degenerate settings reduce to clean training: α = 1, and uniform noise with ε = 0', async () => {
    const clean = await run({ kind: 'clean' });
    const alphaOne = await run({ kind: 'adversarial', alpha: 1, eps: 0.25, clip: false });
    const noNoise = await run({ kind: 'noise', distribution: 'uniform', eps: 0, clip: true });
    expect(maxAbsDiff(alphaOne.weights, clean.weights)).toBeLessThan(1e-6);
    expect(maxAbsDiff(noNoise.weights, clean.weights)).toBeLessThan(1e-6);
  });
});

describe('the adversarial step', () => {
  // One full-batch step from velocity 0 (so θ ← θ − lr ∇θJ̃), no dropout (so no masks to replay), with
  // the L1 penalty on: the trainer's two-pass step against J̃ written out with FGSM's own pass.
  const data = noiseData(40, D, K, 20);
  const spec = smallMaxout({ initRange: 0.2, inputKeep: 1, hiddenKeep: 1, firstLayerL1: 0.001 });
  const learningRate = 0.1;

  it.each([false, true])('equals α J(x) + (1 − α) J(FGSM(x)) differentiated as one cost (clip %s)', async (clip) => {
    const objective: Objective = { kind: 'adversarial', alpha: 0.3, eps: 0.25, clip };
    const trainedModel = makeModel(spec, D, K, 21);
    const [report] = await train(trainedModel, data, trainConfig({ objective, batchSize: data.count, learningRate }), Rng.fromSeed(5));
    const reference = makeModel(spec, D, K, 21);
    const referenceCost = tf.tidy(() => {
      const x = tf.tensor2d(data.images, [data.count, D]);
      const labels = tf.tensor1d(data.labels, 'int32');
      const targets = reference.targets(labels);
      const range = clip ? {} : { clipMin: -Infinity, clipMax: Infinity };
      const xAdv = fgsm(asAttackTarget(reference), x, { eps: objective.eps, labels, ...range });
      const { value, grads } = tf.variableGrads(() => {
        const cost = tf.add(tf.mul(reference.loss(reference.scores(x), targets), objective.alpha), tf.mul(reference.loss(reference.scores(xAdv), targets), 1 - objective.alpha));
        return tf.add(cost, tf.mul(tf.sum(tf.abs(reference.firstLayerWeights)), spec.firstLayerL1)) as tf.Scalar;
      }, reference.variables);
      reference.variables.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name], learningRate))));
      return value.dataSync()[0];
    });
    reference.applyConstraints();
    const initial = makeModel(spec, D, K, 21);
    const before = flatWeights(initial);
    initial.dispose();
    const [ours, theirs] = [flatWeights(trainedModel), flatWeights(reference)];
    expect(maxAbsDiff(ours, before)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-6);
    expect(report.meanLoss).toBeCloseTo(referenceCost, 5);
    trainedModel.dispose();
    reference.dispose();
  });
});

describe('tensor bookkeeping', () => {
  const data = noiseData(60, D, K, 11);

  it.each<[string, ModelSpec, Objective]>([
    ['clean maxout', smallMaxout(), { kind: 'clean' }],
    ['adversarial maxout', smallMaxout(), { kind: 'adversarial', alpha: 0.5, eps: 0.1, clip: false }],
    ['noise softmax + L1', softmaxRegressionSpec({ firstLayerL1: 0.001 }), { kind: 'noise', distribution: 'sign', eps: 0.1, clip: false }],
  ])('train(...) leaves no tensors behind (%s)', async (_, spec, objective) => {
    const before = tf.memory().numTensors;
    const model = makeModel(spec, D, K, 12);
    await train(model, data, trainConfig({ objective, epochs: 2, batchSize: 16 }), Rng.fromSeed(12));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a diverging run throws and still leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const model = makeModel(softmaxRegressionSpec({ initRange: 1 }), D, K, 13);
    const wild = trainConfig({ learningRate: 1e38, epochs: 2 });
    await expect(train(model, blobs(60, D, K, 13), wild, Rng.fromSeed(13))).rejects.toThrow(/diverged/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
