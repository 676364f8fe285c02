import * as tf from '@tensorflow/tfjs-core';
import { filterClasses, type Dataset } from '@advx/data';
import { Classifier, Ensemble, MpDbm, loadTrainedModel, type Predictor } from '@advx/models';
import { head, viewSplit, type SharedDataset } from '../shared-data.js';
import { modelDirectory, resultPath } from '../../units/files.js';
import type { Runtime } from '../runtime.js';
import type { ProgressEvent } from '../../units/progress.js';
import { readResult as readStoredResult } from '../../units/store.js';
import { CorruptArtifactError, verifyUnitFiles } from '../../units/integrity.js';
import type { ArtifactsByKind } from '../../units/artifacts.js';
import type { DatasetRef, Metrics, Unit, UnitConfig, UnitKind, UnitResult } from '../../units/types.js';

/** What a unit runs with: the worker's backend and its kernels' threads, the sweep's shared datasets, the runs directory. */
export interface WorkerContext extends Runtime {
  datasets: Record<string, SharedDataset>;
  runsDir: string;
  progress: (event: ProgressEvent) => void;
}

/** A unit whose config is of kind K. */
export type UnitOf<K extends UnitKind> = Unit & { config: Extract<UnitConfig, { kind: K }> };

/**
 * A unit kind's work: what it measured, and the artifacts its kind leaves (units/artifacts.ts); the
 * runner adds the backend, timing and memory.
 */
export type Handler<K extends UnitKind> = (context: WorkerContext, unit: UnitOf<K>) => Promise<{ metrics: Metrics; artifacts?: K extends keyof ArtifactsByKind ? ArtifactsByKind[K] : never }>;

/** Evaluation batch: large enough to keep matMuls efficient, small enough for FGSM's gradient memory. */
const EVAL_BATCH = 500;

/**
 * The result of a unit this one depends on; the scheduler runs it only once that result is written.
 * One that is gone or does not pass the schema throws a CorruptArtifactError (units/integrity.ts),
 * on which the scheduler recomputes that unit before trying this one again.
 */
export async function readResult(context: WorkerContext, key: string): Promise<UnitResult> {
  const result = await readStoredResult(context.runsDir, key);
  if (!result) throw new CorruptArtifactError(key, resultPath(context.runsDir, key), 'missing');
  return result;
}

/** The split a unit works on, restricted to the experiment's classes and the preset's size. */
export function unitData(context: WorkerContext, ref: DatasetRef, split: 'train' | 'validation' | 'test'): Dataset {
  const shared = context.datasets[ref.name];
  if (!shared) throw new Error(`dataset ${ref.name} was not loaded for this sweep`);
  let data = viewSplit(shared, split);
  if (ref.classes) data = filterClasses(data, ref.classes, true);
  const count = split === 'train' ? ref.trainCount : split === 'test' ? ref.testCount : (ref.validationCount ?? null);
  return head(data, count);
}

export function flatSize(data: Dataset): number {
  return data.shape[0] * data.shape[1] * data.shape[2];
}

/** Examples [start, start + count) of `data` as tensors that view the shared dataset's memory. */
function batchTensors(data: Dataset, start: number, count: number): { x: tf.Tensor2D; labels: tf.Tensor1D } {
  const width = flatSize(data);
  return {
    x: tf.tensor2d(data.images.subarray(start * width, (start + count) * width), [count, width]),
    labels: tf.tensor1d(data.labels.subarray(start, start + count), 'int32'),
  };
}

/** Calls `body` inside tf.tidy for each EVAL_BATCH-sized slice of `data`; what it makes is freed with the batch. */
export function forEachBatch(data: Dataset, body: (x: tf.Tensor2D, labels: tf.Tensor1D, start: number, count: number) => void): void {
  for (let start = 0; start < data.count; start += EVAL_BATCH) {
    const count = Math.min(EVAL_BATCH, data.count - start);
    tf.tidy(() => {
      const { x, labels } = batchTensors(data, start, count);
      body(x, labels, start, count);
    });
  }
}

/**
 * Like forEachBatch, for results that leave the device: the tensors `compute` returns for a batch
 * are read back and handed to `collect`, then freed, before the next batch starts — so no more
 * than one batch of results is held, however large the split.
 */
export async function collectBatches(
  data: Dataset,
  compute: (x: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor[],
  collect: (values: tf.TypedArray[], start: number) => void,
): Promise<void> {
  for (let start = 0; start < data.count; start += EVAL_BATCH) {
    const count = Math.min(EVAL_BATCH, data.count - start);
    const results = tf.tidy(() => {
      const { x, labels } = batchTensors(data, start, count);
      return compute(x, labels);
    });
    try {
      collect(await Promise.all(results.map((t) => t.data())), start);
    } finally {
      tf.dispose(results);
    }
  }
}

/** A train unit's model, once its files are checked against the SHA-256 its result records (else a CorruptArtifactError). */
async function loadVerifiedModel(context: WorkerContext, key: string) {
  const result = await readResult(context, key);
  await verifyUnitFiles(context.runsDir, key, 'train', result.files);
  return (await loadTrainedModel(modelDirectory(context.runsDir, key))).model;
}

/**
 * One model, or an ensemble averaging the probabilities of several. `inference` reads an MP-DBM
 * with that classification procedure instead of its spec's (an error for any other model).
 */
export async function loadPredictor(context: WorkerContext, keys: string[], inference?: 'multi-inference'): Promise<{ predictor: Predictor; dispose: () => void }> {
  const loaded = await Promise.allSettled(keys.map((key) => loadVerifiedModel(context, key)));
  const models = loaded.flatMap((l) => (l.status === 'fulfilled' ? [l.value] : []));
  const failure = loaded.find((l) => l.status === 'rejected');
  if (failure) {
    for (const model of models) model.dispose(); // the members that did load must not leak
    throw failure.reason;
  }
  if (inference) {
    const [model] = models;
    if (models.length !== 1 || !(model instanceof MpDbm)) {
      for (const m of models) m.dispose();
      throw new Error(`inference "${inference}" reads one MP-DBM, not ${models.length === 1 ? 'a feed-forward classifier' : `${models.length} models`}`);
    }
    return { predictor: model.reading(inference), dispose: () => model.dispose() };
  }
  if (models.length === 1) return { predictor: models[0], dispose: () => models[0].dispose() };
  const classifiers = models.filter((m): m is Classifier => m instanceof Classifier);
  if (classifiers.length !== models.length) {
    for (const model of models) model.dispose();
    throw new Error('an ensemble averages feed-forward classifiers only, not MP-DBMs');
  }
  const ensemble = new Ensemble(classifiers);
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
