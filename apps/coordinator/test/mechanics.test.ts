// The mechanics behind each experiment, run in-process through the same handlers the Piscina
// workers run (runUnit from work.ts), on small slices of MNIST and small models, and checked
// against independent recomputations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, Rng } from '@advx/data';
import { fgsm, rubbishExamples } from '@advx/attacks';
import { asAttackTarget, Classifier, Ensemble, kernelThreads, loadModel, maxoutSpec, monitorSeries, rbfSpec, softmaxRegressionSpec, type BackendName, type Continuation, type EarlyStoppingRule, type ModelSpec, type Objective, type PgdMonitor, type TrainConfig } from '@advx/models';
import { catastrophicOverfitting } from '@advx/metrics';
import { unitKey } from '../src/units/key.js';
import { shareSplits, viewSplit } from '../src/compute/shared-data.js';
import { RunStore } from '../src/units/store.js';
import { craft, loadPredictor, runUnit, unitData, type WorkerContext } from '../src/compute/run-unit.js';
import { craftedPath, modelDirectory } from '../src/units/files.js';
import type { DatasetRef, Metrics, Unit, UnitConfig, UnitOutput } from '../src/units/types.js';
import type { AttackSpec } from '../src/units/types.js';
import type { LinearityArtifacts, TrainArtifacts } from '../src/units/artifacts.js';
import { mnistDir } from './helpers.js';

const VALIDATION = 1000;
const TRAIN = 1000;
const TEST = 600; // two evaluation batches (500 + 100)

let context: WorkerContext;
let store: RunStore;
let runsDir: string;
let checksum: string;

const ref = (overrides: Partial<DatasetRef> = {}): DatasetRef => ({ name: 'mnist', checksum, trainCount: TRAIN, testCount: TEST, validationSize: VALIDATION, classes: null, ...overrides });

const schedule = (epochs: number, learningRate = 0.1, momentum = 0.9, objective: Objective = { kind: 'clean' }): TrainConfig => ({
  epochs,
  batchSize: 100,
  learningRate: { initial: learningRate, decayFactor: 1, min: 0 },
  momentum: { initial: momentum, final: momentum, startEpoch: 1, saturateEpoch: 1 },
  objective,
});

// A narrow maxout net (dropout and max-norm kept) with a wider init than the paper's, so that it learns in a few small epochs.
const smallMaxout = (overrides: Parameters<typeof maxoutSpec>[0] = {}) => maxoutSpec({ units: 32, pieces: 2, initRange: 0.1, ...overrides });

function unit(role: string, config: UnitConfig, dependsOn: string[] = []): Unit {
  return { key: unitKey(config), role, seed: 'seed' in config ? config.seed : 0, config, dependsOn };
}

/** Runs a unit as a worker would, checks it freed every tensor it made, and stores its result as the scheduler does. */
async function run(u: Unit): Promise<UnitOutput> {
  const before = tf.memory().numTensors;
  const output = await runUnit(context, u); // throws on a leak
  expect(tf.memory().numTensors, `${u.role} leaked tensors`).toBe(before);
  expect(output.backend).toBe(context.backend);
  expect(output.run.threads).toBe(context.threads);
  await store.write({ ...output, key: u.key, role: u.role, seed: u.seed, config: u.config, finishedAt: new Date().toISOString(), attempts: 1 });
  return output;
}

interface TrainOptions {
  seed?: number;
  dataset?: DatasetRef;
  earlyStopping?: EarlyStoppingRule | null;
  continuation?: Continuation | null;
  epochsFrom?: string | null;
  includeValidation?: boolean;
  rubbishClass?: number | null;
}

function trainUnit(role: string, model: ModelSpec, training: TrainConfig, o: TrainOptions = {}): Unit {
  const config: UnitConfig = {
    kind: 'train',
    dataset: { ...(o.dataset ?? ref()), testCount: null },
    model,
    training,
    seed: o.seed ?? 1,
    earlyStopping: o.earlyStopping ?? null,
    continuation: o.continuation ?? null,
    epochsFrom: o.epochsFrom ?? null,
    includeValidation: o.includeValidation ?? false,
    rubbishClass: o.rubbishClass ?? null,
  };
  return unit(role, config, o.epochsFrom ? [o.epochsFrom] : []);
}

async function train(role: string, model: ModelSpec, training: TrainConfig, o: TrainOptions = {}): Promise<{ key: string; metrics: Metrics; output: UnitOutput }> {
  const u = trainUnit(role, model, training, o);
  const output = await run(u);
  return { key: u.key, metrics: output.metrics, output };
}

const evaluateUnit = (role: string, source: string[], target: string[], attack: AttackSpec | null, dataset = ref()) =>
  unit(role, { kind: 'evaluate', dataset, source, target, attack, split: 'test', seed: 1 }, [...new Set([...source, ...target])]);

async function load(key: string): Promise<Classifier> {
  return (await loadModel(modelDirectory(runsDir, key))).model;
}

/** The first n test examples as tensors (caller disposes). */
function testBatch(n: number): { x: tf.Tensor2D; labels: tf.Tensor1D; y: Uint8Array } {
  const data = unitData(context, ref({ testCount: n }), 'test');
  return { x: tf.tensor2d(data.images, [n, 784]), labels: tf.tensor1d(data.labels, 'int32'), y: data.labels };
}

const argmaxRows = (values: ArrayLike<number>, width: number): number[] =>
  Array.from({ length: values.length / width }, (_, i) => {
    let best = 0;
    for (let c = 1; c < width; c++) if (values[i * width + c] > values[i * width + best]) best = c;
    return best;
  });

describe.skipIf(!mnistDir)('experiment mechanics, in-process through runUnit', () => {
  beforeAll(async () => {
    const splits = await loadDataset('mnist', { dataDir: mnistDir, validationSize: VALIDATION });
    checksum = splits.checksum;
    runsDir = mkdtempSync(join(tmpdir(), 'advx-mechanics-'));
    store = new RunStore(runsDir);
    const backend = tf.getBackend() as BackendName;
    context = { backend, threads: await kernelThreads(backend), datasets: { mnist: shareSplits(splits) }, runsDir, progress: () => {} };
  });
  afterAll(() => {
    if (runsDir) rmSync(runsDir, { recursive: true, force: true });
  });

  describe('ensemble (§9)', () => {
    const memberKeys: string[] = [];
    beforeAll(async () => {
      for (const i of [0, 1, 2]) memberKeys.push((await train(`member#${i}`, smallMaxout(), schedule(2), { seed: 1 + 1000 * i, dataset: ref({ trainCount: 2000 }) })).key);
    });

    it('FGSM on the Ensemble follows sign ∇ₓ −log(mean of the members’ softmax) at the true label, not any one member', async () => {
      const { predictor, dispose } = await loadPredictor(context, memberKeys);
      const members = await Promise.all(memberKeys.map(load));
      const n = 100;
      const { x, labels } = testBatch(n);
      try {
        expect(predictor).toBeInstanceOf(Ensemble);
        const eps = 0.25;
        const [ours, reference, gradient, single, meanLogits] = tf.tidy(() => {
          const ours = craft(asAttackTarget(predictor), x, labels, { kind: 'fgsm', eps, clip: true }, Rng.fromSeed(1));
          // Independent reference: the ensemble's cost written out from the members' probabilities.
          const oneHot = tf.cast(tf.oneHot(labels, 10), 'float32');
          const cost = (input: tf.Tensor) => {
            const mean = tf.div(tf.addN(members.map((m) => tf.softmax(m.scores(input as tf.Tensor2D)))), members.length);
            return tf.mean(tf.neg(tf.log(tf.sum(tf.mul(mean, oneHot), 1))));
          };
          const g = tf.grad(cost)(x);
          const reference = tf.clipByValue(tf.add(x, tf.mul(tf.sign(g), eps)), 0, 1);
          const single = craft(asAttackTarget(members[0]), x, labels, { kind: 'fgsm', eps, clip: true }, Rng.fromSeed(1));
          // The other plausible reading, averaging logits, must give a different attack.
          const logitCost = (input: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, tf.div(tf.addN(members.map((m) => m.scores(input as tf.Tensor2D))), members.length));
          const meanLogits = tf.clipByValue(tf.add(x, tf.mul(tf.sign(tf.grad(logitCost)(x)), eps)), 0, 1);
          return [ours, reference, g, single, meanLogits];
        });
        const [a, b, g, s, l] = await Promise.all([ours, reference, gradient, single, meanLogits].map((t) => t.data()));
        tf.dispose([ours, reference, gradient, single, meanLogits]);
        const scale = Array.from(g, Math.abs).reduce((m, v) => Math.max(m, v), 0);
        let mismatches = 0;
        for (let i = 0; i < a.length; i++) {
          if (a[i] === b[i]) continue;
          mismatches++;
          // Only a gradient component at rounding level may come out with the other sign.
          expect(Math.abs(g[i]), `pixel ${i}`).toBeLessThan(1e-4 * scale);
        }
        // Each mismatch was checked above to be a rounding-level component. Their number depends on
        // the backend's exp/log (wasm's differ from TensorFlow's in the last ulps: 86 of 78,400 seen
        // there, 1e-3 was too tight) and on how many pixels have a near-zero gradient; a real
        // difference in the attack would flip large components, which the check above forbids.
        expect(mismatches).toBeLessThan(a.length * 5e-3);
        const differing = (other: ArrayLike<number>) => Array.from(a).filter((v, i) => v !== other[i]).length;
        expect(differing(s)).toBeGreaterThan(a.length * 0.01);
        expect(differing(l)).toBeGreaterThan(0);
        // And it is still an L∞ step of ε inside [0, 1].
        const clean = await x.data();
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - clean[i])).toBeLessThanOrEqual(eps + 1e-6);
      } finally {
        tf.dispose([x, labels]);
        dispose();
        members.forEach((m) => m.dispose());
      }
    });

    it('an evaluate unit over the members judges the averaged probabilities on those examples', async () => {
      const dataset = ref({ testCount: 200 });
      const output = await run(evaluateUnit('ensemble-fgsm', memberKeys, memberKeys, { kind: 'fgsm', eps: 0.25, clip: true }, dataset));
      const members = await Promise.all(memberKeys.map(load));
      const { x, labels, y } = testBatch(200);
      try {
        const [clean, adversarial] = tf.tidy(() => {
          const mean = (input: tf.Tensor2D) => tf.div(tf.addN(members.map((m) => tf.softmax(m.scores(input)))), members.length);
          const oneHot = tf.cast(tf.oneHot(labels, 10), 'float32');
          const g = tf.grad((input) => tf.mean(tf.neg(tf.log(tf.sum(tf.mul(mean(input as tf.Tensor2D), oneHot), 1)))))(x);
          return [mean(x), mean(tf.clipByValue(tf.add(x, tf.mul(tf.sign(g), 0.25)), 0, 1) as tf.Tensor2D)];
        });
        const error = (p: ArrayLike<number>) => argmaxRows(p, 10).filter((c, i) => c !== y[i]).length / y.length;
        const [c, a] = [await clean.data(), await adversarial.data()];
        tf.dispose([clean, adversarial]);
        expect(output.metrics.clean_error).toBeCloseTo(error(c), 6);
        // Allow one example's worth of difference for a pixel whose gradient sign is a rounding matter.
        expect(Math.abs(output.metrics.adv_error! - error(a))).toBeLessThanOrEqual(1 / 200 + 1e-9);
        expect(output.metrics.adv_error!).toBeGreaterThan(output.metrics.clean_error!);
        const topMean = argmaxRows(c, 10).reduce((s, k, i) => s + c[i * 10 + k], 0) / y.length;
        expect(output.metrics.clean_confidence).toBeCloseTo(topMean, 5);
      } finally {
        tf.dispose([x, labels]);
        members.forEach((m) => m.dispose());
      }
    });
  });

  describe('early stopping and retraining (§6)', () => {
    let frozen: { key: string; metrics: Metrics; output: UnitOutput };

    it('stops after `patience` epochs without improvement and picks the first epoch of lowest error', async () => {
      // Learning rate 0: the validation error never improves after epoch 1, so a patience of 2 stops at epoch 3 of 10.
      frozen = await train('frozen-select', smallMaxout(), schedule(10, 0), { earlyStopping: { patience: 2, adversarialEps: 0.25 } });
      const history = (frozen.output.artifacts as { history: { epoch: number; validationError: number }[] }).history;
      expect(frozen.metrics.epochs).toBe(3);
      expect(history.map((h) => h.epoch)).toEqual([1, 2, 3]);
      expect(new Set(history.map((h) => h.validationError)).size).toBe(1);
      expect(frozen.metrics.best_epoch).toBe(1);
      expect(frozen.metrics.best_validation_error).toBe(history[0].validationError);
    });

    it('records best_epoch = argmin of its adversarial validation history, and the history is FGSM error on the validation split', async () => {
      const patience = 2;
      const maxEpochs = 6;
      // Trained on clean examples, so that its FGSM error is far from its clean error and the two criteria cannot be confused.
      const selected = await train('select', smallMaxout(), schedule(maxEpochs), { earlyStopping: { patience, adversarialEps: 0.25 }, dataset: ref({ trainCount: 2000 }) });
      const history = (selected.output.artifacts as { history: { epoch: number; validationError: number }[] }).history;
      const errors = history.map((h) => h.validationError);
      expect(history.map((h) => h.epoch)).toEqual(Array.from({ length: selected.metrics.epochs! }, (_, i) => i + 1));
      const argmin = errors.indexOf(Math.min(...errors)) + 1;
      expect(selected.metrics.best_epoch).toBe(argmin);
      expect(selected.metrics.best_validation_error).toBe(Math.min(...errors));
      // The stopping rule replayed over the recorded errors gives the number of epochs trained.
      let best = { epoch: 0, error: Infinity };
      let stoppedAt = maxEpochs;
      for (const { epoch, validationError } of history) {
        if (validationError < best.error) best = { epoch, error: validationError };
        if (epoch - best.epoch >= patience) {
          stoppedAt = epoch;
          break;
        }
      }
      expect(selected.metrics.epochs).toBe(stoppedAt);

      // The saved model is the best epoch's (pylearn2's MonitorBasedSaveBest): its FGSM ε=.25 error on all validation examples is that entry.
      const model = await load(selected.key);
      const validation = viewSplit(context.datasets.mnist, 'validation');
      expect(validation.count).toBe(VALIDATION);
      try {
        const wrong = tf.tidy(() => {
          const x = tf.tensor2d(validation.images, [validation.count, 784]);
          const labels = tf.tensor1d(validation.labels, 'int32');
          const adversarial = fgsm(asAttackTarget(model), x, { eps: 0.25, labels });
          return tf.stack([tf.sum(tf.cast(tf.notEqual(model.predict(model.scores(adversarial)), labels), 'float32')), tf.sum(tf.cast(tf.notEqual(model.predict(model.scores(x)), labels), 'float32'))]);
        });
        const [adversarialWrong, cleanWrong] = await wrong.data();
        wrong.dispose();
        expect(errors[selected.metrics.best_epoch! - 1]).toBeCloseTo(adversarialWrong / validation.count, 6);
        expect(adversarialWrong).toBeGreaterThan(cleanWrong); // the criterion is adversarial, not clean, error
      } finally {
        model.dispose();
      }
    });

    it('retrains for exactly the chosen number of epochs on training + validation examples', async () => {
      // The chain of the catalogue: the frozen selection chose epoch 1 of 10.
      const fromFrozen = await train('retrained', smallMaxout(), schedule(10), { epochsFrom: frozen.key, includeValidation: true });
      expect(fromFrozen.metrics.epochs).toBe(1);
      expect(fromFrozen.metrics.train_count).toBe(TRAIN + VALIDATION);
      expect(fromFrozen.metrics.best_epoch).toBeNull();

      // A chooser that picked epoch 3.
      const chooser = trainUnit('chooser', smallMaxout(), schedule(8), { earlyStopping: { patience: 1, adversarialEps: null }, seed: 99 });
      await store.write({ key: chooser.key, role: chooser.role, seed: 99, config: chooser.config, metrics: { epochs: 4, best_epoch: 3 }, backend: context.backend, computeSeconds: 0, finishedAt: '', attempts: 1 });
      const retrained = await train('retrained-3', smallMaxout(), schedule(8), { epochsFrom: chooser.key, includeValidation: true, dataset: ref({ trainCount: 500 }) });
      expect(retrained.metrics.epochs).toBe(3);
      expect(retrained.metrics.train_count).toBe(500 + VALIDATION);
      // Without includeValidation only the training slice is used.
      const plain = await train('plain', smallMaxout(), schedule(1), { dataset: ref({ trainCount: 500 }) });
      expect(plain.metrics.train_count).toBe(500);
    });
  });

  describe('the PGD monitor of adversarial training (Wong et al. 2020)', () => {
    it('records both accuracies per epoch in result.json\'s history, over both stages, and the model is bit for bit the unmonitored one', async () => {
      const monitor: PgdMonitor = { kind: 'pgd', eps: 0.25, steps: 3, stepSize: (2.5 * 0.25) / 3, examples: 100, clip: true };
      const adversarial = schedule(2, 0.1, 0.9, { kind: 'adversarial', alpha: 0.5, eps: 0.25, clip: false });
      const protocol = { earlyStopping: { patience: 100, adversarialEps: null }, continuation: { maxEpochs: 1 } };
      const plain = await train('adv-plain', smallMaxout(), adversarial, protocol);
      const monitored = await train('adv-monitored', smallMaxout(), { ...adversarial, monitor }, protocol);
      expect(monitored.key).not.toBe(plain.key);
      // Same weights file, byte for byte (its SHA-256), and the same numbers but the speed.
      expect(monitored.output.files).toEqual(plain.output.files);
      expect({ ...monitored.metrics, examples_per_second: null }).toEqual({ ...plain.metrics, examples_per_second: null });
      const history = (monitored.output.artifacts as TrainArtifacts).history;
      expect(history.length).toBe(monitored.metrics.epochs);
      expect(history.map((h) => h.stage)).toEqual([1, 1, 2]); // stage 2 (a new Trainer) monitors too
      expect((plain.output.artifacts as TrainArtifacts).history.every((h) => h.monitor === null)).toBe(true);
      const series = monitorSeries(history);
      expect(series).toHaveLength(history.length);
      expect(series.map((p) => [p.stage, p.stageEpoch])).toEqual(history.map((h) => [h.stage, h.epoch]));
      for (const p of series) {
        for (const accuracy of [p.cleanAccuracy, p.pgdAccuracy]) {
          // A count of the 100 monitored examples.
          expect(Math.abs(accuracy * 100 - Math.round(accuracy * 100))).toBeLessThan(1e-6);
          expect(accuracy).toBeLessThanOrEqual(1);
        }
      }
      // The series is what the check reads.
      expect(['pass', 'fail']).toContain(catastrophicOverfitting(series).status);
    });
  });

  describe('RBF, rubbish and the none class (§7, App. A)', () => {
    const RUBBISH = 500;
    const models: Record<string, string> = {};
    beforeAll(async () => {
      const big = ref({ trainCount: 3000 });
      // RBF units learn slowly from their wide initial kernels (§7); a high rate gets them going in a few epochs.
      models.rbf = (await train('rbf', rbfSpec(), schedule(5, 3, 0.9), { dataset: big })).key;
      models.softmax = (await train('softmax', softmaxRegressionSpec(), schedule(2), { dataset: big })).key;
      models.maxout = (await train('maxout', smallMaxout(), schedule(3), { dataset: big })).key;
    });

    /** Mean top probability, false-positive rate and top classes on the rubbish unit's own N(0, I) samples. */
    async function direct(key: string, seed: number, count: number) {
      const model = await load(key);
      const samples = rubbishExamples(Rng.fromSeed(seed).fork('rubbish'), count, 784);
      const p = tf.tidy(() => model.probabilities(model.scores(tf.tensor2d(samples, [count, 784]))));
      const values = await p.data();
      const width = p.shape[1];
      p.dispose();
      model.dispose();
      const top = argmaxRows(values, width);
      const topProbability = top.map((c, i) => values[i * width + c]);
      // As the paper counts it: a real class (not "none") given probability > .5.
      const realClassOver = Array.from({ length: count }, (_, i) => Array.from(values.subarray(i * width, i * width + 10)).some((v) => v > 0.5));
      return { meanConfidence: topProbability.reduce((a, b) => a + b, 0) / count, falsePositiveRate: realClassOver.filter(Boolean).length / count, top };
    }

    const rubbishUnit = (role: string, model: string, attack: AttackSpec | null = null, seed = 5) =>
      unit(role, { kind: 'rubbish', dataset: ref(), model: [model], count: RUBBISH, attack, seed }, [model]);

    it('a trained RBF net is confident on digits but not on N(0, I) rubbish, unlike maxout and softmax regression', async () => {
      const clean = await run(evaluateUnit('rbf-clean', [models.rbf], [models.rbf], null));
      expect(clean.metrics.clean_error).toBeLessThan(0.3); // trained, so low confidence below is not just ignorance
      const confidence: Record<string, number> = {};
      for (const name of ['rbf', 'softmax', 'maxout']) {
        const output = await run(rubbishUnit(`rubbish-${name}`, models[name]));
        const ours = await direct(models[name], 5, RUBBISH);
        expect(output.metrics.false_positive_rate, name).toBeCloseTo(ours.falsePositiveRate, 9);
        expect(output.metrics.count).toBe(RUBBISH);
        confidence[name] = ours.meanConfidence;
        if (name === 'rbf') {
          expect(output.metrics.false_positive_rate).toBeLessThanOrEqual(0.01);
          expect(ours.meanConfidence).toBeLessThan(0.1);
          expect(ours.meanConfidence).toBeLessThan(clean.metrics.clean_confidence! / 3);
        } else {
          expect(output.metrics.false_positive_rate, name).toBeGreaterThan(0.2);
        }
      }
      expect(confidence.rbf).toBeLessThan(confidence.softmax / 4);
      expect(confidence.rbf).toBeLessThan(confidence.maxout / 4);
    });

    it('the rubbish handler counts confident classes as the paper does (histogram, confidence on false positives)', async () => {
      const output = await run(rubbishUnit('rubbish-softmax-7', models.softmax, null, 7));
      const model = await load(models.softmax);
      const samples = rubbishExamples(Rng.fromSeed(7).fork('rubbish'), RUBBISH, 784);
      const p = tf.tidy(() => tf.softmax(model.scores(tf.tensor2d(samples, [RUBBISH, 784]))));
      const values = await p.data();
      p.dispose();
      model.dispose();
      const histogram = Array(10).fill(0);
      let confidence = 0;
      for (const [i, c] of argmaxRows(values, 10).entries()) {
        if (values[i * 10 + c] <= 0.5) continue;
        histogram[c]++;
        confidence += values[i * 10 + c];
      }
      const positives = histogram.reduce((a, b) => a + b, 0);
      expect(positives).toBeGreaterThan(0);
      expect((output.artifacts as { classHistogram: number[] }).classHistogram).toEqual(histogram);
      expect(output.metrics.false_positive_rate).toBeCloseTo(positives / RUBBISH, 9);
      expect(output.metrics.confidence_on_false_positives).toBeCloseTo(confidence / positives, 5);
      expect(output.metrics.fraction_class_5).toBeCloseTo(histogram[5] / positives, 9);
    });

    it('a net trained with rubbish as an 11th "none" class has 11 outputs and calls fresh rubbish "none"', async () => {
      const none = await train('maxout-none-class', smallMaxout({ name: 'maxout-32-none', outputs: 11 }), schedule(3), { rubbishClass: 500, dataset: ref({ trainCount: 2000 }) });
      expect(none.metrics.train_count).toBe(2000 + 500);
      const { model, numClasses } = await loadModel(modelDirectory(runsDir, none.key));
      expect(model.outputs).toBe(11);
      expect(numClasses).toBe(11);
      model.dispose();

      const output = await run(rubbishUnit('rubbish-none-class', none.key));
      const ours = await direct(none.key, 5, RUBBISH);
      expect(ours.top.filter((c) => c === 10).length / RUBBISH).toBeGreaterThan(0.9);
      expect(output.metrics.false_positive_rate).toBeCloseTo(ours.falsePositiveRate, 9);
      expect(output.metrics.false_positive_rate).toBeLessThan(0.05);
      // Its digits are still digits.
      const clean = await run(evaluateUnit('none-class-clean', [none.key], [none.key], null));
      expect(clean.metrics.clean_error).toBeLessThan(0.5);
      // FGSM away from "none" on the same rubbish (P18) runs and leaves no tensors behind.
      const attacked = await run(rubbishUnit('rubbish-none-class-fgsm', none.key, { kind: 'fgsm', eps: 0.25, clip: true }));
      expect(attacked.metrics.false_positive_rate).toBeGreaterThanOrEqual(output.metrics.false_positive_rate!);
    });

    it('transfer: agreement and agreement_both_wrong equal a recount of both models’ predictions on the same adversarial examples', async () => {
      const output = await run(evaluateUnit('matrix:transfer:maxout→softmax', [models.maxout], [models.softmax], { kind: 'fgsm', eps: 0.25, clip: true }));
      const source = await load(models.maxout);
      const target = await load(models.softmax);
      const { x, labels, y } = testBatch(TEST);
      try {
        const [sourceScores, targetScores, targetClean] = tf.tidy(() => {
          const adversarial = fgsm(asAttackTarget(source), x, { eps: 0.25, labels });
          return [source.scores(adversarial), target.scores(adversarial), target.scores(x)];
        });
        const s = argmaxRows(await sourceScores.data(), 10);
        const t = argmaxRows(await targetScores.data(), 10);
        const c = argmaxRows(await targetClean.data(), 10);
        tf.dispose([sourceScores, targetScores, targetClean]);
        let sourceWrong = 0;
        let agreeWhenSourceWrong = 0;
        let bothWrong = 0;
        let agreeWhenBothWrong = 0;
        for (let i = 0; i < TEST; i++) {
          if (s[i] === y[i]) continue;
          sourceWrong++;
          if (t[i] === s[i]) agreeWhenSourceWrong++;
          if (t[i] === y[i]) continue;
          bothWrong++;
          if (t[i] === s[i]) agreeWhenBothWrong++;
        }
        expect(sourceWrong).toBeGreaterThan(10);
        expect(bothWrong).toBeGreaterThan(10);
        expect(output.metrics.count).toBe(TEST);
        expect(output.metrics.source_adv_error).toBeCloseTo(sourceWrong / TEST, 9);
        expect(output.metrics.agreement).toBeCloseTo(agreeWhenSourceWrong / sourceWrong, 9);
        expect(output.metrics.agreement_both_wrong).toBeCloseTo(agreeWhenBothWrong / bothWrong, 9);
        expect(output.metrics.adv_error).toBeCloseTo(t.filter((k, i) => k !== y[i]).length / TEST, 9);
        expect(output.metrics.clean_error).toBeCloseTo(c.filter((k, i) => k !== y[i]).length / TEST, 9);
        // The two are different models, so agreement is informative: neither 0 nor 1 here.
        expect(agreeWhenSourceWrong).toBeLessThan(sourceWrong);
      } finally {
        tf.dispose([x, labels]);
        source.dispose();
        target.dispose();
      }
    });

    it('a reference judge (§8: RBF against softmax on maxout-crafted examples): its agreement metrics equal a recount', async () => {
      const config = { ...evaluateUnit('maxout→rbf-vs-softmax', [models.maxout], [models.rbf], { kind: 'fgsm', eps: 0.25, clip: false }).config, reference: [models.softmax] } as UnitConfig;
      const output = await run(unit('maxout→rbf-vs-softmax', config, [models.maxout, models.rbf, models.softmax]));
      const [source, target, reference] = await Promise.all([load(models.maxout), load(models.rbf), load(models.softmax)]);
      const { x, labels, y } = testBatch(TEST);
      try {
        const [targetScores, referenceScores] = tf.tidy(() => {
          const adversarial = fgsm(asAttackTarget(source), x, { eps: 0.25, labels, clipMin: -Infinity, clipMax: Infinity });
          return [target.scores(adversarial), reference.scores(adversarial)];
        });
        const t = argmaxRows(await targetScores.data(), 10);
        const r = argmaxRows(await referenceScores.data(), 10);
        tf.dispose([targetScores, referenceScores]);
        const referenceWrong = Array.from({ length: TEST }, (_, i) => i).filter((i) => r[i] !== y[i]);
        const bothWrong = referenceWrong.filter((i) => t[i] !== y[i]);
        expect(bothWrong.length).toBeGreaterThan(10);
        expect(output.metrics.reference_adv_error).toBeCloseTo(referenceWrong.length / TEST, 9);
        expect(output.metrics.reference_agreement).toBeCloseTo(referenceWrong.filter((i) => t[i] === r[i]).length / referenceWrong.length, 9);
        expect(output.metrics.reference_agreement_both_wrong).toBeCloseTo(bothWrong.filter((i) => t[i] === r[i]).length / bothWrong.length, 9);
        // The unit's own agreement is still with its source (maxout), a different number.
        expect(output.metrics.agreement).not.toBe(output.metrics.reference_agreement);
      } finally {
        tf.dispose([x, labels]);
        [source, target, reference].forEach((m) => m.dispose());
      }
    });

    it('a transfer row crafted once by a craft unit gives every cell the numbers it gets crafting its own, for FGSM and for PGD’s random start', async () => {
      for (const attack of [{ kind: 'fgsm', eps: 0.25, clip: true }, { kind: 'pgd', eps: 0.2, steps: 3, stepSize: 0.1, clip: true }] as const) {
        const craftUnit = unit(`craft:maxout:${attack.kind}`, { kind: 'craft', dataset: ref(), source: [models.maxout], attack, split: 'test', seed: 1 }, [models.maxout]);
        const crafted = await run(craftUnit);
        const stored = await readFile(craftedPath(runsDir, craftUnit.key));
        expect(stored.byteLength).toBeGreaterThan(TEST * 784 * 4);
        for (const targetKey of [models.maxout, models.softmax, models.rbf]) {
          const config = { kind: 'evaluate' as const, dataset: ref(), source: [models.maxout], target: [targetKey], attack, split: 'test' as const, seed: 1 };
          const own = await run(unit('own', config, [...new Set([models.maxout, targetKey])]));
          const shared = await run(unit('shared', { ...config, craftUnit: craftUnit.key }, [craftUnit.key, targetKey]));
          expect(shared.metrics, `${attack.kind} → ${targetKey}`).toEqual(own.metrics);
          expect(shared.metrics.source_adv_error).toBe(crafted.metrics.source_adv_error);
        }
        expect(crafted.metrics.count).toBe(TEST);
        expect(crafted.metrics.source_adv_error).toBeGreaterThan(0.3); // the examples really are adversarial for their source
      }
    });

    it('an evaluation refuses crafted examples of another split size, naming the file', async () => {
      const craftUnit = unit('craft:softmax', { kind: 'craft', dataset: ref({ testCount: 100 }), source: [models.softmax], attack: { kind: 'fgsm', eps: 0.25, clip: true }, split: 'test', seed: 1 }, [models.softmax]);
      await run(craftUnit);
      const wrong = unit('wrong', { kind: 'evaluate', dataset: ref(), source: [models.softmax], target: [models.maxout], attack: { kind: 'fgsm', eps: 0.25, clip: true }, split: 'test', seed: 1, craftUnit: craftUnit.key }, [craftUnit.key, models.maxout]);
      await expect(runUnit(context, wrong)).rejects.toThrow(/examples\.msgpack holds 100 examples of width 784; this unit's split has 600/);
    });

    it('linearity: the logits of softmax regression along x + ε·sign(∇ₓJ) are exactly linear (Fig. 4)', async () => {
      const points = 21;
      const output = await run(unit('softmax-linearity', { kind: 'linearity', dataset: ref(), model: [models.softmax], exampleIndex: 4, epsMax: 1, points, seed: 1 }, [models.softmax]));
      expect(output.metrics.piecewise_r2_mean).toBeGreaterThan(0.99999);
      expect(output.metrics.piecewise_r2_min).toBeGreaterThan(0.9999);
      expect(output.metrics.linear_r2_mean).toBeGreaterThan(0.99999);
      const a = output.artifacts as LinearityArtifacts;
      expect(a.epsilons).toHaveLength(points);
      expect(a.epsilons[0]).toBe(-1);
      expect(a.epsilons[points - 1]).toBe(1);
      const data = unitData(context, ref(), 'test');
      expect(a.label).toBe(data.labels[4]);
      // ε = 0 is the example itself, and moving along +sign(∇ₓJ) lowers the true class's log-probability.
      const model = await load(models.softmax);
      const logits = tf.tidy(() => model.scores(tf.tensor2d(data.images.subarray(4 * 784, 5 * 784), [1, 784])));
      const at0 = Array.from(await logits.data());
      logits.dispose();
      model.dispose();
      const middle = (points - 1) / 2;
      a.logits[middle].forEach((v, c) => expect(v).toBeCloseTo(at0[c], 2));
      const logProbability = (row: number[]) => row[a.label] - Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      expect(logProbability(a.logits[points - 1])).toBeLessThan(logProbability(a.logits[middle]));
      expect(logProbability(a.logits[0])).toBeGreaterThan(logProbability(a.logits[middle]));

      // A maxout net is not a single line along the same kind of path (what Fig. 4's piecewise fit is for).
      const maxout = await run(unit('maxout-linearity', { kind: 'linearity', dataset: ref(), model: [models.maxout], exampleIndex: 4, epsMax: 1, points, seed: 1 }, [models.maxout]));
      expect(maxout.metrics.piecewise_r2_mean!).toBeGreaterThanOrEqual(maxout.metrics.linear_r2_mean!);
      expect(maxout.metrics.linear_r2_mean!).toBeLessThan(0.99999);
    });

    it('examples and fooling handlers run without leaking tensors', async () => {
      const examples = await run(unit('examples', { kind: 'examples', dataset: ref(), model: [models.softmax], attack: { kind: 'fgsm', eps: 0.25, clip: true }, count: 3, weights: true, seed: 1 }, [models.softmax]));
      expect(examples.metrics.count).toBe(3);
      const a = examples.artifacts as { adversarial: number[][]; clean: number[][]; weights: { images: number[][]; pieces: number } };
      expect(a.adversarial).toHaveLength(3);
      for (const [i, row] of a.adversarial.entries()) row.forEach((v, j) => expect(Math.abs(v - a.clean[i][j])).toBeLessThanOrEqual(0.25 + 1e-3));
      expect(a.weights.images[0]).toHaveLength(784);
      const fooling = await run(unit('fooling', { kind: 'fooling', dataset: ref(), model: [models.maxout], samplesPerClass: 2, eps: 0.25, maxSteps: 2, seed: 1 }, [models.maxout]));
      expect(Object.keys(fooling.metrics)).toEqual(expect.arrayContaining(['success_mean', 'success_min', 'success_class_9']));
    });
  });
});
