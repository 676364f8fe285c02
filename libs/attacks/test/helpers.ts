import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@advx/data';
import { Classifier, type ModelSpec } from '@advx/models';

/** A classifier over `inputSize` inputs with `numClasses` classes, initialised from `seed`. */
export function makeModel(spec: ModelSpec, inputSize: number, numClasses: number, seed = 1): Classifier {
  return new Classifier(spec, inputSize, numClasses, Rng.fromSeed(seed));
}

/** Uniform [0, 1) inputs, plain and as a tensor (the caller disposes the tensor). */
export function randomInputs(rows: number, cols: number, seed: number): { values: Float32Array; tensor: tf.Tensor2D } {
  const values = Rng.fromSeed(seed).fillUniform(new Float32Array(rows * cols));
  return { values, tensor: tf.tensor2d(values, [rows, cols]) };
}

export function randomLabels(rows: number, numClasses: number, seed: number): Int32Array {
  const rng = Rng.fromSeed(seed);
  return Int32Array.from({ length: rows }, () => rng.int(numClasses));
}

/** Every named variable of the model, read back as plain arrays. */
export function weightsOf(model: Classifier): Map<string, { values: Float32Array; shape: number[] }> {
  return new Map(model.namedVariables.map(([name, v]) => [name, { values: v.dataSync() as Float32Array, shape: v.shape }]));
}

/** Row-major [rows, cols] array as nested rows. */
export function rowsOf(values: ArrayLike<number>, cols: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < values.length; i += cols) rows.push(Array.from(values).slice(i, i + cols));
  return rows;
}

/** Mean loss of the model on x against integer labels, as a number. */
export function meanLoss(model: Classifier, x: tf.Tensor2D, labels: ArrayLike<number>): number {
  return tf.tidy(() => model.loss(model.scores(x), model.targets(tf.tensor1d(Array.from(labels), 'int32'))).dataSync()[0]);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
