import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { filterClasses, type Dataset } from '@advx/data';
import { Ensemble, loadModel, type Predictor } from '@advx/models';
import { head, viewSplit, type SharedDataset } from '../shared-data.js';
import type { DatasetRef, Unit, UnitConfig, UnitOutput, UnitResult } from '../units.js';

/** What a worker thread holds for its whole life: the backend in use and the shared dataset. */
export interface WorkerContext {
  backend: string;
  datasets: Record<string, SharedDataset>;
  runsDir: string;
  progress: (event: ProgressEvent) => void;
}

/** A training unit's progress after each epoch; `elapsedSeconds` since the unit started, for ETAs. */
export type ProgressEvent = { type: 'epoch'; key: string; role: string; seed: number; epoch: number; epochs: number; loss: number; examplesPerSecond: number; elapsedSeconds: number };

/** A unit kind's work: what it measured; the runner adds the backend, timing and memory. */
export type Handler = (context: WorkerContext, unit: Unit) => Promise<Pick<UnitOutput, 'metrics' | 'artifacts'>>;

/** Evaluation batch: large enough to keep matMuls efficient, small enough for FGSM's gradient memory. */
export const EVAL_BATCH = 500;

/**
 * Files a unit leaves beside its result.json for the units that read it, by unit kind: a train
 * unit's model, a craft unit's adversarial examples. `complete` is the file whose presence means
 * the directory is whole. The BullMQ executor ships these directories between machines.
 */
const UNIT_FILES: Partial<Record<UnitConfig['kind'], { directory: string; complete: string }>> = {
  train: { directory: 'model', complete: 'model.json' },
  craft: { directory: 'adversarial', complete: 'examples.msgpack' },
};

export function unitFiles(runsDir: string, key: string, kind: UnitConfig['kind']): { directory: string; complete: string } | null {
  const files = UNIT_FILES[kind];
  return files ? { directory: join(runsDir, key, files.directory), complete: join(runsDir, key, files.directory, files.complete) } : null;
}

export function modelDirectory(runsDir: string, trainKey: string): string {
  return join(runsDir, trainKey, 'model');
}

export async function readResult(context: WorkerContext, key: string): Promise<UnitResult> {
  return JSON.parse(await readFile(join(context.runsDir, key, 'result.json'), 'utf8')) as UnitResult;
}

/** The split a unit works on, restricted to the experiment's classes and the preset's size. */
export function unitData(context: WorkerContext, ref: DatasetRef, split: 'train' | 'validation' | 'test'): Dataset {
  const shared = context.datasets[ref.name];
  if (!shared) throw new Error(`dataset ${ref.name} was not loaded for this sweep`);
  let data = viewSplit(shared, split);
  if (ref.classes) data = filterClasses(data, ref.classes, true);
  const count = split === 'train' ? ref.trainCount : split === 'test' ? ref.testCount : null;
  return head(data, count);
}

export function flatSize(data: Dataset): number {
  return data.shape[0] * data.shape[1] * data.shape[2];
}

/**
 * Calls `body` inside tf.tidy for each EVAL_BATCH-sized slice of `data`, as tensors that view the
 * shared dataset's memory; whatever `body` does not return is freed with the batch.
 */
export function forEachBatch(data: Dataset, body: (x: tf.Tensor2D, labels: tf.Tensor1D, start: number, count: number) => void): void {
  const width = flatSize(data);
  for (let start = 0; start < data.count; start += EVAL_BATCH) {
    const count = Math.min(EVAL_BATCH, data.count - start);
    tf.tidy(() => {
      const x = tf.tensor2d(data.images.subarray(start * width, (start + count) * width), [count, width]);
      const labels = tf.tensor1d(data.labels.subarray(start, start + count), 'int32');
      body(x, labels, start, count);
    });
  }
}

/** One model, or an ensemble averaging the probabilities of several. */
export async function loadPredictor(context: WorkerContext, keys: string[]): Promise<{ predictor: Predictor; dispose: () => void }> {
  const models = await Promise.all(keys.map(async (key) => (await loadModel(modelDirectory(context.runsDir, key))).model));
  if (models.length === 1) return { predictor: models[0], dispose: () => models[0].dispose() };
  const ensemble = new Ensemble(models);
  return { predictor: ensemble, dispose: () => ensemble.dispose() };
}

/** Runs `analyse` on a unit's model (or ensemble) and the test split it names, then releases the model. */
export async function withModelAndTestData<T>(
  context: WorkerContext,
  dataset: DatasetRef,
  model: string[],
  analyse: (predictor: Predictor, data: Dataset, width: number) => Promise<T>,
): Promise<T> {
  const data = unitData(context, dataset, 'test');
  const { predictor, dispose } = await loadPredictor(context, model);
  try {
    return await analyse(predictor, data, flatSize(data));
  } finally {
    dispose();
  }
}
