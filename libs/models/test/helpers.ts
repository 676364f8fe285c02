import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@advx/data';
import { Classifier, type ModelSpec, type TrainConfig, type TrainData } from '@advx/models';

/**
 * Well-separated synthetic classes in [0, 1]^d: each class has a random mean in [0.2, 0.8]^d and
 * its examples add uniform noise of half-width `spread`.
 */
export function blobs(count: number, inputSize: number, numClasses: number, seed: number, spread = 0.1): TrainData {
  const rng = Rng.fromSeed(seed);
  const means = Array.from({ length: numClasses }, () => rng.fillUniform(new Float32Array(inputSize), 0.2, 0.8));
  const images = new Float32Array(count * inputSize);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const c = rng.int(numClasses);
    labels[n] = c;
    for (let j = 0; j < inputSize; j++) images[n * inputSize + j] = Math.min(1, Math.max(0, means[c][j] + spread * (2 * rng.uniform() - 1)));
  }
  return { images, labels, count };
}

/** Uniform random inputs with random labels: nothing to learn, just numbers to push through. */
export function noiseData(count: number, inputSize: number, numClasses: number, seed: number): TrainData {
  const rng = Rng.fromSeed(seed);
  const images = rng.fillUniform(new Float32Array(count * inputSize));
  const labels = Uint8Array.from({ length: count }, () => rng.int(numClasses));
  return { images, labels, count };
}

/** A training config with a constant learning rate and momentum (the schedules have tests of their own). */
export function trainConfig(
  overrides: Partial<Omit<TrainConfig, 'learningRate' | 'momentum'>> & { learningRate?: number | TrainConfig['learningRate']; momentum?: number | TrainConfig['momentum'] } = {},
): TrainConfig {
  const { learningRate = 0.1, momentum = 0.5, ...rest } = overrides;
  return {
    epochs: 1,
    batchSize: 20,
    learningRate: typeof learningRate === 'number' ? { initial: learningRate, decayFactor: 1, min: 0 } : learningRate,
    momentum: typeof momentum === 'number' ? { initial: momentum, final: momentum, startEpoch: 1, saturateEpoch: 1 } : momentum,
    objective: { kind: 'clean' },
    ...rest,
  };
}

export function makeModel(spec: ModelSpec, inputSize: number, numClasses: number, seed: number): Classifier {
  return new Classifier(spec, inputSize, numClasses, Rng.fromSeed(seed));
}

/** All parameters, concatenated in namedVariables order. */
export function flatWeights(model: Classifier): Float32Array {
  const parts = model.namedVariables.map(([, v]) => v.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function weightMap(model: Classifier): Map<string, Float32Array> {
  return new Map(model.namedVariables.map(([name, v]) => [name, v.dataSync().slice() as Float32Array]));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

export function asTensor(data: TrainData, inputSize: number): { x: tf.Tensor2D; labels: tf.Tensor1D } {
  return { x: tf.tensor2d(data.images, [data.count, inputSize]), labels: tf.tensor1d(data.labels, 'int32') };
}

/** Error rate and mean loss of a model on a data set. */
export function evaluate(model: Classifier, data: TrainData, inputSize: number): { error: number; loss: number } {
  return tf.tidy(() => {
    const { x, labels } = asTensor(data, inputSize);
    const scores = model.scores(x);
    const predicted = model.predict(scores).dataSync();
    const wrong = Array.from(predicted).filter((p, i) => p !== data.labels[i]).length;
    return { error: wrong / data.count, loss: model.loss(scores, model.targets(labels)).dataSync()[0] };
  });
}
