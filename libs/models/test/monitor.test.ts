// The catastrophic-overfitting monitor (monitor.ts): PGD on a fixed training batch after every
// epoch, which must be recorded and must not change training, a resumed run included.
import * as tf from '@tensorflow/tfjs-core';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import {
  checkpointFromDecoded,
  fitProtocol,
  maxoutSpec,
  monitorSeries,
  train,
  type EpochRecord,
  type ModelSpec,
  type PgdMonitor,
  type ProtocolCheckpoint,
  type ProtocolConfig,
  type TrainConfig,
  type TrainData,
} from '@advx/models';
import { blobs, evaluate, flatWeights, makeModel, trainConfig } from './helpers.js';

const D = 20;
const K = 3;
// Dropout on, so a monitor that ran on the training-time net or drew from the dropout stream would show.
const smallMaxout = (overrides: Partial<ModelSpec> = {}) => maxoutSpec({ units: 8, pieces: 3, initRange: 0.3, ...overrides });
const MONITOR: PgdMonitor = { kind: 'pgd', eps: 0.25, steps: 5, stepSize: (2.5 * 0.25) / 5, examples: 50, clip: true };
const adversarial = (monitor?: PgdMonitor, epochs = 3): TrainConfig => ({
  ...trainConfig({ epochs, batchSize: 20, objective: { kind: 'adversarial', alpha: 0.5, eps: 0.05, clip: false } }),
  ...(monitor ? { monitor } : {}),
});
// Stage 1 runs all 4 epochs (patience 100); this toy's stage 2 then runs to its cap of 3.
const protocol = (monitor?: PgdMonitor): ProtocolConfig => ({
  training: { ...adversarial(monitor, 4), learningRate: { initial: 0.2, decayFactor: 1.01, min: 1e-3 }, momentum: { initial: 0.5, final: 0.9, startEpoch: 1, saturateEpoch: 5 } },
  earlyStopping: { patience: 100, adversarialEps: null },
  continuation: { maxEpochs: 3 },
});
const withoutTimings = (history: EpochRecord[]) => history.map(({ examplesPerSecond: _, ...rest }) => rest);
const withoutMonitor = (history: EpochRecord[]) => withoutTimings(history).map(({ monitor: _, ...rest }) => rest);

async function trainRun(data: TrainData, config: TrainConfig) {
  const before = tf.memory().numTensors;
  const model = makeModel(smallMaxout(), D, K, 3);
  const reports = await train(model, data, config, Rng.fromSeed(3));
  const weights = flatWeights(model);
  model.dispose();
  expect(tf.memory().numTensors, 'train with a monitor leaked tensors').toBe(before);
  return { reports, weights };
}

async function protocolRun(data: { train: TrainData; validation: TrainData }, config: ProtocolConfig, hooks: Parameters<typeof fitProtocol>[4] = {}) {
  const before = tf.memory().numTensors;
  const model = makeModel(smallMaxout(), D, K, 7);
  const outcome = await fitProtocol(model, data, config, Rng.fromSeed(7), hooks);
  const weights = flatWeights(model);
  model.dispose();
  expect(tf.memory().numTensors, 'fitProtocol with a monitor leaked tensors').toBe(before);
  return { outcome, weights };
}

describe('the PGD monitor', () => {
  const data = blobs(200, D, K, 5, 0.1);
  const split = { train: blobs(200, D, K, 3, 0.1), validation: blobs(100, D, K, 4, 0.1) };

  it('records clean and PGD accuracy of the first `examples` training examples after every epoch, on the dropout-free net', async () => {
    const { reports } = await trainRun(data, adversarial(MONITOR));
    expect(reports).toHaveLength(3);
    for (const r of reports) {
      expect(r.monitor).not.toBeNull();
      for (const value of [r.monitor!.cleanAccuracy, r.monitor!.pgdAccuracy]) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
        // A count of the 50 examples.
        expect(Math.abs(value * 50 - Math.round(value * 50))).toBeLessThan(1e-6);
      }
    }
    // The clean reading is the inference net's accuracy on exactly those examples: rebuild the model after 3 epochs.
    const model = makeModel(smallMaxout(), D, K, 3);
    await train(model, data, adversarial(), Rng.fromSeed(3));
    const first = { images: data.images.slice(0, 50 * D), labels: data.labels.slice(0, 50), count: 50 };
    expect(reports[2].monitor!.cleanAccuracy).toBeCloseTo(1 - evaluate(model, first, D).error, 10);
    model.dispose();
    // ε = .25 is large for these blobs: PGD costs the net accuracy (this toy's fit is erratic, so not every epoch shows it).
    expect(reports.some((r) => r.monitor!.pgdAccuracy < r.monitor!.cleanAccuracy - 0.2)).toBe(true);
  });

  it('changes no weight and no loss (train)', async () => {
    const plain = await trainRun(data, adversarial());
    const monitored = await trainRun(data, adversarial(MONITOR));
    expect(plain.reports.every((r) => r.monitor === null)).toBe(true);
    expect(monitored.reports.map((r) => r.meanLoss)).toEqual(plain.reports.map((r) => r.meanLoss));
    expect(Array.from(monitored.weights)).toEqual(Array.from(plain.weights));
  });

  it('changes no weight and no record in either stage of the protocol, and its readings are in the history', async () => {
    const plain = await protocolRun(split, protocol());
    const monitored = await protocolRun(split, protocol(MONITOR));
    expect(Array.from(monitored.weights)).toEqual(Array.from(plain.weights));
    expect(withoutMonitor(monitored.outcome.history)).toEqual(withoutMonitor(plain.outcome.history));
    expect({ ...monitored.outcome, history: [] }).toEqual({ ...plain.outcome, history: [] });
    const stages = monitored.outcome.history.map((h) => h.stage);
    expect(stages).toContain(2);
    expect(monitored.outcome.history.every((h) => h.monitor !== null)).toBe(true);
    expect(plain.outcome.history.every((h) => h.monitor === null)).toBe(true);
    // The series numbers epochs over both stages.
    const series = monitorSeries(monitored.outcome.history);
    expect(series.map((p) => p.epoch)).toEqual(stages.map((_, i) => i + 1));
    expect(series.map((p) => [p.stage, p.stageEpoch])).toEqual(monitored.outcome.history.map((h) => [h.stage, h.epoch]));
    expect(series.map((p) => p.pgdAccuracy)).toEqual(monitored.outcome.history.map((h) => h.monitor!.pgdAccuracy));
    expect(monitorSeries(plain.outcome.history)).toEqual([]);
  });

  it('resumes bit for bit from a checkpoint in either stage, its readings included (through msgpack)', async () => {
    const packr = new Packr({ structuredClone: false, useRecords: false });
    const saved: Uint8Array[] = [];
    const reference = await protocolRun(split, protocol(MONITOR), { checkpoint: { due: () => true, save: async (c) => void saved.push(packr.pack(c)) } });
    const checkpoints = saved.map((bytes) => checkpointFromDecoded(packr.unpack(bytes)));
    const inStage1 = checkpoints.find((c) => c.stage === 1 && c.history.length === 1);
    const inStage2 = checkpoints.find((c) => c.stage === 2);
    expect(inStage1, 'a stage-1 checkpoint after epoch 1').toBeDefined();
    expect(inStage2, 'a stage-2 checkpoint (this toy must run ≥ 2 stage-2 epochs)').toBeDefined();
    expect(inStage1!.trainer.pgdMonitorStream).toHaveLength(4);
    expect(inStage1!.history[0].monitor).toEqual(reference.outcome.history[0].monitor);
    for (const resume of [inStage1!, inStage2!]) {
      const resumed = await protocolRun(split, protocol(MONITOR), { resume });
      expect(Array.from(resumed.weights)).toEqual(Array.from(reference.weights));
      expect(withoutTimings(resumed.outcome.history)).toEqual(withoutTimings(reference.outcome.history));
    }
  });

  it('a checkpoint of a run without a monitor has no monitor stream, and cannot resume a run with one', async () => {
    const saved: ProtocolCheckpoint[] = [];
    await protocolRun(split, protocol(), { checkpoint: { due: () => true, save: async (c) => void saved.push(structuredClone(c)) } });
    const stage1 = saved.find((c) => c.stage === 1)!;
    expect('pgdMonitorStream' in stage1.trainer).toBe(false);
    const before = tf.memory().numTensors;
    const model = makeModel(smallMaxout(), D, K, 7);
    await expect(fitProtocol(model, split, protocol(MONITOR), Rng.fromSeed(7), { resume: stage1 })).rejects.toThrow(/no PGD-monitor stream/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a monitor batch that is not a positive whole number of examples, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const model = makeModel(smallMaxout(), D, K, 1);
    await expect(train(model, data, adversarial({ ...MONITOR, examples: 0 }), Rng.fromSeed(1))).rejects.toThrow(/monitor.examples/);
    await expect(fitProtocol(model, split, protocol({ ...MONITOR, examples: 2.5 }), Rng.fromSeed(1))).rejects.toThrow(/monitor.examples/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
