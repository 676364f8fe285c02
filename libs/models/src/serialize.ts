import * as tf from '@tensorflow/tfjs-core';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '@advx/data';
import { Classifier } from './classifier.js';
import { MpDbm } from './mp-dbm/model.js';
import type { MpDbmSpec } from './mp-dbm/spec.js';
import type { ModelSpec } from './spec.js';

/**
 * Models are stored in the TensorFlow.js artifact layout — `model.json` with a `weightsManifest`
 * plus `weights.bin` — so tfjs tooling can read the weights; our ModelSpec rides in
 * `userDefinedMetadata` to rebuild the graph.
 */
type StoredModel = {
  generatedBy: string;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
} & (
  | { format: 'advx-classifier'; userDefinedMetadata: { spec: ModelSpec; inputSize: number; numClasses: number } }
  /** An MP-DBM (mp-dbm/model.ts): the same layout, its spec rebuilds the inference graph. */
  | { format: 'advx-mp-dbm'; userDefinedMetadata: { spec: MpDbmSpec; inputSize: number; numClasses: number } }
);

/** A model the coordinator trains and attacks: either family, saved and loaded alike. */
export type TrainedModel = Classifier | MpDbm;

export async function saveModel(model: TrainedModel, directory: string, numClasses: number): Promise<void> {
  const named: tf.NamedTensorMap = Object.fromEntries(model.namedVariables);
  const { data, specs } = await tf.io.encodeWeights(named);
  const manifest = { generatedBy: `advx, TensorFlow.js ${tf.version_core}`, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] };
  const stored: StoredModel =
    model instanceof MpDbm
      ? { format: 'advx-mp-dbm', userDefinedMetadata: { spec: model.spec, inputSize: model.inputSize, numClasses }, ...manifest }
      : { format: 'advx-classifier', userDefinedMetadata: { spec: model.spec, inputSize: model.inputSize, numClasses }, ...manifest };
  // Written beside the target and renamed, so a crash never leaves a half-written model behind.
  const staging = `${directory}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, 'weights.bin'), Buffer.from(data as ArrayBuffer));
  await writeFile(join(staging, 'model.json'), JSON.stringify(stored, null, 2));
  await rm(directory, { recursive: true, force: true });
  await rename(staging, directory);
}

/** A saved Classifier (a saved MP-DBM is refused: loadTrainedModel reads either). */
export async function loadModel(directory: string): Promise<{ model: Classifier; numClasses: number }> {
  const { model, numClasses } = await loadTrainedModel(directory);
  if (model instanceof Classifier) return { model, numClasses };
  model.dispose();
  throw new Error(`${join(directory, 'model.json')}: an MP-DBM, not a feed-forward classifier (load it with loadTrainedModel)`);
}

/** A saved model of either family, rebuilt from the spec in its model.json. */
export async function loadTrainedModel(directory: string): Promise<{ model: TrainedModel; numClasses: number }> {
  const path = join(directory, 'model.json');
  const stored = JSON.parse(await readFile(path, 'utf8')) as StoredModel;
  if (stored.format !== 'advx-classifier' && stored.format !== 'advx-mp-dbm') throw new Error(`${path}: not an advx model (format ${String((stored as { format: unknown }).format)})`);
  const { inputSize, numClasses } = stored.userDefinedMetadata;
  const [group] = stored.weightsManifest;
  const bytes = await readFile(join(directory, group.paths[0]));
  // The PRNG only fills the initial values, which are overwritten at once.
  const model: TrainedModel =
    stored.format === 'advx-mp-dbm' ? new MpDbm(stored.userDefinedMetadata.spec, inputSize, numClasses, Rng.fromSeed(0)) : new Classifier(stored.userDefinedMetadata.spec, inputSize, numClasses, Rng.fromSeed(0));
  let weights: tf.NamedTensorMap = {};
  try {
    // Shapes are checked before decoding: a wrong size in the manifest would shift every later weight's bytes
    // and fail inside tfjs with a message that names no weight.
    const needed = new Map(model.namedVariables.map(([name, variable]) => [name, variable.shape]));
    for (const { name, shape } of group.weights) {
      const need = needed.get(name);
      if (need && shape.join('x') !== need.join('x')) throw new Error(`${path}: weight "${name}" has shape ${shape} but the spec needs ${need}`);
    }
    weights = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), group.weights);
    for (const [name, variable] of model.namedVariables) {
      const value = weights[name];
      if (!value) throw new Error(`${path}: weight "${name}" is missing`);
      if (value.shape.join('x') !== variable.shape.join('x')) throw new Error(`${path}: weight "${name}" has shape ${value.shape} but the spec needs ${variable.shape}`);
      variable.assign(value);
    }
  } catch (error) {
    // A rejected file must not leak the half-built model's variables.
    model.dispose();
    throw error;
  } finally {
    tf.dispose(Object.values(weights));
  }
  return { model, numClasses };
}
