import * as tf from '@tensorflow/tfjs-core';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import {
  checkpointFromDecoded,
  dropoutMasks,
  fitProtocol,
  learningRateAt,
  maxoutSpec,
  momentumAt,
  train,
  type EpochRecord,
  type ModelSpec,
  type ProtocolConfig,
  type TrainData,
} from '@advx/models';
import { blobs, flatWeights, makeModel, trainConfig } from './helpers.js';

const D = 20;
const K = 3;
const BATCH = 20;
const smallMaxout = (overrides: Partial<ModelSpec> = {}) => maxoutSpec({ units: 8, pieces: 3, initRange: 0.05, ...overrides });
// The schedules of the real protocol, compressed: decay and ramp visible within a few epochs.
const config = (epochs: number, patience: number, stage2: number | null): ProtocolConfig => ({
  training: { ...trainConfig({ epochs, batchSize: BATCH }), learningRate: { initial: 0.2, decayFactor: 1.01, min: 1e-3 }, momentum: { initial: 0.5, final: 0.7, startEpoch: 1, saturateEpoch: 5 } },
  earlyStopping: { patience, adversarialEps: null },
  continuation: stage2 === null ? null : { maxEpochs: stage2 },
});

async function fit(spec: ModelSpec, data: { train: TrainData; validation: TrainData }, protocol: ProtocolConfig, hooks: Parameters<typeof fitProtocol>[4] = {}) {
  const model = makeModel(spec, D, K, 7);
  const before = tf.memory().numTensors;
  const outcome = await fitProtocol(model, data, protocol, Rng.fromSeed(7), hooks);
  expect(tf.memory().numTensors, 'fitProtocol leaked tensors').toBe(before);
  const weights = flatWeights(model);
  model.dispose();
  return { outcome, weights };
}

const withoutTimings = (history: EpochRecord[]) => history.map(({ examplesPerSecond: _, ...rest }) => rest);

describe('input dropout scaling (pylearn2 input_scales)', () => {
  it('the paper maxout masks pixels at .8 without rescaling (values 0 or 1) and hidden units at .5 with scale 2', () => {
    const model = makeModel(smallMaxout(), D, K, 1);
    const masks = dropoutMasks(model, 500, Rng.fromSeed(2));
    const values = masks.map((m) => [...new Set(m.dataSync())].sort());
    expect(values).toEqual([[0, 1], [0, 2], [0, 2]]);
    const kept = Array.from(masks[0].dataSync()).reduce((s, v) => s + v, 0) / masks[0].size;
    expect(kept).toBeGreaterThan(0.78);
    expect(kept).toBeLessThan(0.82);
    tf.dispose(masks);
    model.dispose();
  });

  it('without inputScale, input dropout is inverted (kept pixels × 1/keep)', () => {
    const model = makeModel(smallMaxout({ inputScale: undefined }), D, K, 1);
    const masks = dropoutMasks(model, 100, Rng.fromSeed(2));
    expect([...new Set(masks[0].dataSync())].sort()).toEqual([0, Math.fround(1 / 0.8)]);
    tf.dispose(masks);
    model.dispose();
  });
});

describe('the two-stage protocol (mnist_pi, then mnist_pi_continued)', () => {
  const data = { train: blobs(200, D, K, 3, 0.45), validation: blobs(100, D, K, 4, 0.45) };

  it('stage 1 stops `patience` epochs after the best and keeps the best weights: those of a run stopped at the best epoch', async () => {
    const { outcome, weights } = await fit(smallMaxout(), data, config(40, 3, null));
    const errors = outcome.history.map((h) => h.validationError!);
    const best = outcome.bestEpoch!;
    // The best is the first strict minimum, and training went exactly `patience` epochs past it (or hit the cap).
    expect(errors.indexOf(Math.min(...errors)) + 1).toBe(best);
    expect(outcome.stage1Epochs === 40 || outcome.stage1Epochs === best + 3).toBe(true);
    // Schedules are absolute, so a run of exactly `best` epochs with the same seeds is a prefix of this one.
    const prefix = makeModel(smallMaxout(), D, K, 7);
    await train(prefix, data.train, { ...config(best, 3, null).training }, Rng.fromSeed(7));
    expect(Array.from(weights)).toEqual(Array.from(flatWeights(prefix)));
    prefix.dispose();
  });

  it('the recorded learning rate and momentum follow the absolute schedules epoch by epoch', async () => {
    const protocol = config(6, 100, null);
    const { outcome } = await fit(smallMaxout(), data, protocol);
    const perEpoch = data.train.count / BATCH;
    outcome.history.forEach((h, i) => {
      expect(h.learningRate).toBe(learningRateAt(protocol.training.learningRate, i * perEpoch));
      expect(h.momentum).toBe(momentumAt(protocol.training.momentum, i + 1));
    });
  });

  it('stage 2 continues the learning-rate decay from the best epoch with the momentum frozen there, and stops as soon as the validation objective ≤ the target', async () => {
    const protocol = config(8, 2, 30);
    const { outcome } = await fit(smallMaxout(), data, protocol);
    const stage2 = outcome.history.filter((h) => h.stage === 2);
    const best = outcome.bestEpoch!;
    expect(stage2).toHaveLength(outcome.stage2Epochs!);
    const perEpoch = (data.train.count + data.validation.count) / BATCH;
    stage2.forEach((h, i) => {
      expect(h.learningRate).toBe(learningRateAt(protocol.training.learningRate, best * (data.train.count / BATCH) + i * perEpoch));
      expect(h.momentum).toBe(momentumAt(protocol.training.momentum, best));
    });
    const objectives = stage2.map((h) => h.validationObjective!);
    const target = outcome.stage2Target!;
    // MatchChannel: every epoch but the last left the objective above the target; the last ended it or hit the cap.
    objectives.slice(0, -1).forEach((v) => expect(v).toBeGreaterThan(target));
    if (outcome.stage2Stop === 'matched') expect(objectives.at(-1) ?? outcome.stage2FinalObjective!).toBeLessThanOrEqual(target);
    else expect(stage2).toHaveLength(30);
    expect(outcome.stage2FinalObjective).toBe(objectives.at(-1) ?? outcome.stage2FinalObjective);
  });

  it('stage 2 checks before its first epoch: validation = training data and no dropout → objectives equal → no epochs, "matched"', async () => {
    const same = { train: data.train, validation: data.train };
    const { outcome } = await fit(smallMaxout({ inputKeep: 1, hiddenKeep: 1 }), same, config(3, 100, 10));
    expect(outcome.stage2Target).toBe(outcome.stage2FinalObjective);
    expect(outcome.stage2Epochs).toBe(0);
    expect(outcome.stage2Stop).toBe('matched');
  });

  it('stage 2 stops at its cap when the validation objective cannot reach the target (validation labels all wrong)', async () => {
    // The training images with every label moved to the next class: the better the net fits the
    // training set, the worse its objective on these.
    const train = blobs(200, D, K, 3, 0.1);
    const hopeless = { train, validation: { ...train, labels: train.labels.map((l) => (l + 1) % K) } };
    const { outcome } = await fit(smallMaxout(), hopeless, config(20, 100, 2));
    expect(outcome.stage2Epochs).toBe(2);
    expect(outcome.stage2Stop).toBe('cap');
    expect(outcome.stage2FinalObjective!).toBeGreaterThan(outcome.stage2Target!);
  });

  it('rejects a continued stage without early stopping', async () => {
    const model = makeModel(smallMaxout(), D, K, 1);
    await expect(fitProtocol(model, data, { ...config(2, 1, 2), earlyStopping: null }, Rng.fromSeed(1))).rejects.toThrow(/needs early stopping/);
    model.dispose();
  });
});

describe('checkpoints: a resumed run is the uninterrupted run, bit for bit', () => {
  const data = { train: blobs(200, D, K, 3, 0.45), validation: blobs(100, D, K, 4, 0.45) };
  // The codec the coordinator writes checkpoints with (typed arrays survive the round trip).
  const packr = new Packr({ structuredClone: false, useRecords: false });

  it('from a checkpoint in stage 1 and from one in stage 2, through msgpack', async () => {
    const protocol = config(8, 3, 6);
    const saved: Uint8Array[] = [];
    const reference = await fit(smallMaxout(), data, protocol, { checkpoint: { due: () => true, save: async (c) => void saved.push(packr.pack(c)) } });
    const checkpoints = saved.map((bytes) => checkpointFromDecoded(packr.unpack(bytes)));
    expect(checkpoints[0].weights[0]).toBeInstanceOf(Float32Array);
    expect(() => checkpointFromDecoded({ stage: 3 })).toThrow(/not a training checkpoint/);
    const inStage1 = checkpoints.find((c) => c.stage === 1 && c.history.length === 2);
    const inStage2 = checkpoints.find((c) => c.stage === 2);
    expect(inStage1, 'a stage-1 checkpoint after epoch 2').toBeDefined();
    expect(inStage2, 'a stage-2 checkpoint (this toy must run ≥ 2 stage-2 epochs)').toBeDefined();
    for (const resume of [inStage1!, inStage2!]) {
      const resumed = await fit(smallMaxout(), data, protocol, { resume });
      expect(Array.from(resumed.weights)).toEqual(Array.from(reference.weights));
      expect(withoutTimings(resumed.outcome.history)).toEqual(withoutTimings(reference.outcome.history));
      expect({ ...resumed.outcome, history: [] }).toEqual({ ...reference.outcome, history: [] });
    }
  });
});
