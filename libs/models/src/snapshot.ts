import * as tf from '@tensorflow/tfjs-core';

/**
 * Weights as host arrays and back, and a decoded checkpoint's arrays restored: what the classifier
 * protocol and the MP-DBM trainer both save between epochs and keep for the best epoch.
 */

/** Anything with trainable variables in a fixed order (Classifier, MpDbm). */
export interface HasVariables {
  readonly variables: tf.Variable[];
}

export async function readWeights(model: HasVariables): Promise<Float32Array[]> {
  return Promise.all(model.variables.map(async (v) => new Float32Array(await v.data())));
}

export function writeWeights(model: HasVariables, weights: Float32Array[]): void {
  const variables = model.variables;
  if (weights.length !== variables.length) throw new Error(`checkpoint has ${weights.length} weight tensors, the model ${variables.length}`);
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(weights[i], v.shape))));
}

/** A typed array that a byte-oriented codec (msgpack without typed-array support) handed back as bytes. */
function asFloat32(value: unknown, what: string): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value instanceof Uint8Array && value.byteLength % 4 === 0) return new Float32Array(Uint8Array.from(value).buffer);
  throw new Error(`checkpoint field ${what} is not a float32 array`);
}

/** The float arrays every training checkpoint holds: the weights, the trainer's velocities, the best epoch's weights. */
interface CheckpointArrays {
  weights: Float32Array[];
  trainer: { velocities: Float32Array[] };
  best: { weights: Float32Array[] } | null;
}

/** `c` with its float arrays restored (msgpack, as the coordinator stores checkpoints, returns Float32Arrays as their bytes). */
export function withFloatArrays<C extends CheckpointArrays>(c: C): C {
  return {
    ...c,
    weights: c.weights.map((w, i) => asFloat32(w, `weights[${i}]`)),
    trainer: { ...c.trainer, velocities: c.trainer.velocities.map((v, i) => asFloat32(v, `trainer.velocities[${i}]`)) },
    best: c.best ? { ...c.best, weights: c.best.weights.map((w, i) => asFloat32(w, `best.weights[${i}]`)) } : null,
  };
}
