import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import { ownedVariable } from '../classifier.js';
import type { Predictor } from '../ensemble.js';
import { meanField, multiInference, type DbmParams } from './mean-field.js';
import { checkMpDbmSpec, type MpDbmInit, type MpDbmSpec } from './spec.js';

interface Layer {
  name: string;
  weights: tf.Variable<tf.Rank.R2>;
  bias: tf.Variable<tf.Rank.R1>;
  maxNorm: number | null;
}

/** Initial weights [fanIn, units] as pylearn2 draws them (sparse_init or irange), from our PRNG. */
function initialWeights(init: MpDbmInit, fanIn: number, units: number, rng: Rng): Float32Array {
  const w = new Float32Array(fanIn * units);
  if (init.kind === 'uniform') return rng.fillUniform(w, -init.range, init.range);
  // Each unit gets `count` distinct random inputs with N(0, stdev²) weights (rejection as pylearn2 does).
  for (let unit = 0; unit < units; unit++) {
    for (let k = 0; k < init.count; k++) {
      let row = rng.int(fanIn);
      while (w[row * units + unit] !== 0) row = rng.int(fanIn);
      w[row * units + unit] = rng.normal() * init.stdev;
    }
  }
  return w;
}

/** logit of the pixel means, clipped to [1e-7, 1 − 1e-7] (pylearn2 init_sigmoid_bias_from_marginals). */
export function visibleBiasFromMarginals(images: Float32Array, count: number, width: number): Float32Array {
  const mean = new Float64Array(width);
  for (let n = 0; n < count; n++) for (let j = 0; j < width; j++) mean[j] += images[n * width + j];
  return Float32Array.from(mean, (s) => {
    const p = Math.min(1 - 1e-7, Math.max(1e-7, s / count));
    return Math.log(p / (1 - p));
  });
}

/**
 * An MP-DBM as a classifier: `scores(x)` runs mean-field inference with the pixels clamped to x and
 * the label unobserved, and returns the label layer's total input (softmax of it is the inferred
 * label distribution). Everything is tfjs ops, so FGSM, BIM, PGD and the rest differentiate through
 * the inference procedure itself, with no surrogate. It provides what `Predictor` asks, so the
 * attacks, evaluations and analyses take it as they take a Classifier.
 */
export class MpDbm implements Predictor {
  readonly outputs: number;
  private readonly visibleBias: tf.Variable<tf.Rank.R1>;
  private readonly layers: Layer[] = [];

  /** `visibleBias`: σ(b_v) = pixel marginals (spec.visibleBias = 'marginals'; the trainer computes them); absent = 0. */
  constructor(
    readonly spec: MpDbmSpec,
    readonly inputSize: number,
    numClasses: number,
    rng: Rng,
    visibleBias?: Float32Array,
  ) {
    checkMpDbmSpec(spec, inputSize);
    if (visibleBias && visibleBias.length !== inputSize) throw new Error(`mp-dbm: visible bias has ${visibleBias.length} entries, the input ${inputSize}`);
    this.outputs = numClasses;
    const init = rng.fork('init');
    this.visibleBias = ownedVariable(() => (visibleBias ? tf.tensor1d(visibleBias) : tf.zeros([inputSize])) as tf.Tensor1D);
    let fanIn = inputSize;
    spec.hidden.forEach((layer, i) => {
      const w = initialWeights(layer.init, fanIn, layer.units, init);
      this.layers.push({ name: `h${i}`, weights: ownedVariable(() => tf.tensor2d(w, [fanIn, layer.units])), bias: ownedVariable(() => tf.fill([layer.units], layer.initBias) as tf.Tensor1D), maxNorm: layer.maxNorm });
      fanIn = layer.units;
    });
    const w = initialWeights(spec.label.init, fanIn, numClasses, init);
    this.layers.push({ name: 'label', weights: ownedVariable(() => tf.tensor2d(w, [fanIn, numClasses])), bias: ownedVariable(() => tf.zeros([numClasses]) as tf.Tensor1D), maxNorm: spec.label.maxNorm });
  }

  /** Parameters with stable names (`visible/b`, `h0/W`, `label/b`), for saving and loading. */
  get namedVariables(): [string, tf.Variable][] {
    return [['visible/b', this.visibleBias], ...this.layers.flatMap((l): [string, tf.Variable][] => [[`${l.name}/W`, l.weights], [`${l.name}/b`, l.bias]])];
  }

  get variables(): tf.Variable[] {
    return this.namedVariables.map(([, v]) => v);
  }

  get params(): DbmParams {
    return { visibleBias: this.visibleBias, layers: this.layers.map(({ weights, bias }) => ({ weights, bias })) };
  }

  /** The label's total input after mean field with x clamped (spec.classify says which procedure). */
  scores(x: tf.Tensor2D): tf.Tensor2D {
    return this.scoresBy(this.spec.classify, x);
  }

  private scoresBy(classify: MpDbmSpec['classify'], x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => (classify === 'multi-inference' ? multiInference : meanField)(this.params, x, this.spec.iterations).labelLogits);
  }

  /**
   * This model read with another classification procedure (the same weights, not a copy): how an
   * evaluation asks for the multi-inference trick of a net that early stopping selected by mean
   * field. Disposing the model disposes what the reading uses.
   */
  reading(classify: MpDbmSpec['classify']): Predictor {
    return {
      outputs: this.outputs,
      scores: (x) => this.scoresBy(classify, x),
      probabilities: (s) => this.probabilities(s),
      loss: (s, t) => this.loss(s, t),
      exampleLosses: (s, t) => this.exampleLosses(s, t),
      targets: (labels) => this.targets(labels),
      predict: (s) => this.predict(s),
      confidence: (s) => this.confidence(s),
    };
  }

  probabilities(scores: tf.Tensor2D): tf.Tensor2D {
    return tf.softmax(scores);
  }

  targets(labels: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => tf.cast(tf.oneHot(tf.cast(labels, 'int32'), this.outputs), 'float32') as tf.Tensor2D);
  }

  /** Cross-entropy of the inferred label distribution: the J that attacks through inference ascend. */
  loss(scores: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => tf.mean(this.exampleLosses(scores, targets)));
  }

  exampleLosses(scores: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(scores)), 1)) as tf.Tensor1D);
  }

  predict(scores: tf.Tensor2D): tf.Tensor1D {
    return tf.argMax(scores, 1);
  }

  confidence(scores: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.max(tf.softmax(scores), 1));
  }

  /** pylearn2 MaxL2FilterNorm(axis 0) after every update: each unit's incoming weights into its ball. */
  applyConstraints(): void {
    tf.tidy(() => {
      for (const { weights, maxNorm } of this.layers) {
        if (maxNorm === null) continue;
        const norms = tf.sqrt(tf.sum(tf.square(weights), 0, true));
        weights.assign(tf.mul(weights, tf.div(maxNorm, tf.maximum(norms, maxNorm))) as tf.Tensor2D);
      }
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
