import * as tf from '@tensorflow/tfjs-core';
import { Rng, type Dataset } from '@advx/data';
import { fgsm } from '@advx/attacks';
import { ClassificationAccumulator } from '@advx/metrics';
import { Classifier, asAttackTarget, loadModel, saveModel, train } from '@advx/models';
import { join } from 'node:path';
import { head, viewSplit, type SharedDataset } from './shared-data.js';
import type { EvaluateUnitConfig, EvaluationMetrics, TrainMetrics, TrainUnitConfig, Unit, UnitOutput } from './units.js';

/** What a worker thread holds for its whole life: the backend in use and the shared dataset. */
export interface WorkerContext {
  backend: string;
  dataset: SharedDataset;
  runsDir: string;
  progress: (event: ProgressEvent) => void;
}

export type ProgressEvent = { type: 'epoch'; key: string; role: string; seed: number; epoch: number; epochs: number; loss: number; examplesPerSecond: number };

const EVAL_BATCH = 500;

export function modelDirectory(runsDir: string, trainKey: string): string {
  return join(runsDir, trainKey, 'model');
}

function flatten(dataset: Dataset): number {
  return dataset.shape[0] * dataset.shape[1] * dataset.shape[2];
}

async function runTrain(context: WorkerContext, unit: Unit, config: TrainUnitConfig): Promise<TrainMetrics> {
  const data = head(viewSplit(context.dataset, 'train'), config.dataset.trainCount);
  const rng = Rng.fromSeed(config.seed).fork(config.model.name);
  const model = new Classifier(config.model, flatten(data), data.numClasses, rng);
  try {
    const reports = await train(model, data, config.training, rng, {
      onEpoch: (r) =>
        context.progress({ type: 'epoch', key: unit.key, role: unit.role, seed: unit.seed, epoch: r.epoch, epochs: r.epochs, loss: r.meanLoss, examplesPerSecond: r.examplesPerSecond }),
    });
    await saveModel(model, modelDirectory(context.runsDir, unit.key), data.numClasses);
    const last = reports[reports.length - 1];
    const speeds = reports.map((r) => r.examplesPerSecond).sort((a, b) => a - b);
    return { epochs: reports.length, final_loss: last.meanLoss, examples_per_second: speeds[Math.floor(speeds.length / 2)], train_count: data.count };
  } finally {
    model.dispose();
  }
}

async function runEvaluate(context: WorkerContext, config: EvaluateUnitConfig): Promise<EvaluationMetrics> {
  const data = head(viewSplit(context.dataset, 'test'), config.dataset.testCount);
  const { model } = await loadModel(modelDirectory(context.runsDir, config.model));
  const clean = new ClassificationAccumulator();
  const adversarial = new ClassificationAccumulator();
  const target = asAttackTarget(model);
  const width = flatten(data);
  try {
    for (let start = 0; start < data.count; start += EVAL_BATCH) {
      const count = Math.min(EVAL_BATCH, data.count - start);
      tf.tidy(() => {
        const x = tf.tensor2d(data.images.subarray(start * width, (start + count) * width), [count, width]);
        const labels = tf.tensor1d(data.labels.subarray(start, start + count), 'int32');
        const scores = model.scores(x);
        clean.add(model.predict(scores), labels, model.confidence(scores));
        if (config.attack) {
          // The paper's FGSM uses the true label y in J(θ, x, y).
          const xAdv = fgsm(target, x, { eps: config.attack.eps, labels });
          const advScores = model.scores(xAdv);
          adversarial.add(model.predict(advScores), labels, model.confidence(advScores));
        }
      });
    }
    const c = await clean.result();
    const a = config.attack ? await adversarial.result() : null;
    return {
      clean_error: c.error,
      clean_confidence: c.confidence,
      adv_error: a?.error ?? null,
      adv_confidence: a?.confidence ?? null,
      adv_confidence_on_errors: a?.confidenceOnErrors ?? null,
      count: c.count,
    };
  } finally {
    clean.dispose();
    adversarial.dispose();
    model.dispose();
  }
}

export async function runUnit(context: WorkerContext, unit: Unit): Promise<UnitOutput> {
  const started = performance.now();
  const before = tf.memory().numTensors;
  const metrics = unit.config.kind === 'train' ? await runTrain(context, unit, unit.config) : await runEvaluate(context, unit.config);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`unit ${unit.key} leaked ${leaked} tensors`);
  return { metrics, backend: context.backend, computeSeconds: (performance.now() - started) / 1000 };
}
