import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@advx/data';
import type { ModelSpec } from './spec.js';
import { convGeometry, convMaxoutForward, type ConvGeometry } from './conv-maxout.js';

/** Per-step dropout masks (inverted-dropout scaled), one per dropped layer input; absent at test time. */
export type DropoutMasks = tf.Tensor2D[];

interface DenseParams {
  name: string;
  weights: tf.Variable<tf.Rank.R2>;
  bias: tf.Variable<tf.Rank.R1>;
  /** Columns per unit: > 1 for maxout, where a unit is the max over its pieces. */
  pieces: number;
  /** Set for conv maxout layers: weights are the [k·k·cin, units·pieces] kernel (conv-maxout.ts). */
  conv?: ConvGeometry;
  /** Per-layer max-norm overriding spec.maxColumnNorm (undefined = use the spec's). */
  maxNorm?: number | null;
}

interface RbfParams {
  centres: tf.Variable<tf.Rank.R2>;
  /** β = exp(logPrecision) keeps precisions positive without a constraint. */
  logPrecision: tf.Variable<tf.Rank.R2>;
}

/**
 * A feed-forward classifier built from a ModelSpec: maxout hidden layers, then a dense head
 * (softmax or sigmoid) or an RBF output layer. `scores` are logits for the dense heads and
 * log-probabilities for RBF; `loss` and `probabilities` interpret them according to the head, so
 * attacks can treat every model as `(x) => scores` plus its own cost J.
 */
export class Classifier {
  readonly outputs: number;
  private readonly dense: DenseParams[] = [];
  private readonly rbf: RbfParams | null = null;
  /** Flattened output width of each hidden layer (units for dense maxout, h·w·units for conv). */
  private readonly hiddenWidths: number[] = [];

  constructor(
    readonly spec: ModelSpec,
    readonly inputSize: number,
    numClasses: number,
    rng: Rng,
  ) {
    this.outputs = spec.outputs ?? numClasses;
    const init = rng.fork('init');
    let width = inputSize;
    let image = spec.imageShape ?? null;
    if (image && image[0] * image[1] * image[2] !== inputSize) throw new Error(`imageShape ${image.join('×')} does not match inputSize ${inputSize}`);
    spec.hidden.forEach((layer, i) => {
      const conv = layer.kind === 'conv-maxout' ? convGeometry(layer, image, i) : undefined;
      this.dense.push({ ...this.makeDense(`hidden${i}`, conv?.fanIn ?? width, layer.units * layer.pieces, layer.pieces, init), conv, maxNorm: layer.maxNorm });
      width = conv?.outputSize ?? layer.units;
      image = conv?.output ?? null;
      this.hiddenWidths.push(width);
    });
    if (spec.head === 'rbf') {
      this.rbf = {
        centres: ownedVariable(() => tf.tensor2d(init.fillUniform(new Float32Array(width * this.outputs)), [width, this.outputs])),
        // exp(-β·d²) with d² summed over 784 pixels needs a small β to start with non-vanishing outputs.
        logPrecision: ownedVariable(() => tf.fill([width, this.outputs], Math.log(0.01)) as tf.Tensor2D),
      };
    } else {
      this.dense.push(this.makeDense('output', width, this.outputs, 1, init));
    }
  }

  private makeDense(name: string, fanIn: number, columns: number, pieces: number, rng: Rng): DenseParams {
    const r = this.spec.initRange;
    const values = rng.fillUniform(new Float32Array(fanIn * columns), -r, r);
    return {
      name,
      // tfjs variable names are global to the engine, so the stable names live here instead.
      weights: ownedVariable(() => tf.tensor2d(values, [fanIn, columns])),
      bias: ownedVariable(() => tf.zeros([columns]) as tf.Tensor1D),
      pieces,
    };
  }

  /** Parameters with stable names (`hidden0/W`, `output/b`, `rbf/centres`), for saving and loading. */
  get namedVariables(): [string, tf.Variable][] {
    const named: [string, tf.Variable][] = this.dense.flatMap((d): [string, tf.Variable][] => [
      [`${d.name}/W`, d.weights],
      [`${d.name}/b`, d.bias],
    ]);
    if (this.rbf) named.push(['rbf/centres', this.rbf.centres], ['rbf/logPrecision', this.rbf.logPrecision]);
    return named;
  }

  get variables(): tf.Variable[] {
    return this.namedVariables.map(([, v]) => v);
  }

  /** The first layer's weight matrix [inputSize, columns] (Fig. 3 visualises it; L1 penalises it). */
  get firstLayerWeights(): tf.Variable<tf.Rank.R2> {
    return this.dense[0]?.weights ?? this.rbf!.centres;
  }

  /**
   * Input widths that dropout applies to, in order: the input, then each hidden layer's output,
   * with the keep-probability and the value a kept entry is multiplied by (ModelSpec.inputScale).
   */
  dropoutWidths(): { width: number; keep: number; scale: number }[] {
    const { inputKeep, hiddenKeep, inputScale = 1 / inputKeep } = this.spec;
    const widths = [{ width: this.inputSize, keep: inputKeep, scale: inputScale }];
    for (const width of this.hiddenWidths) widths.push({ width, keep: hiddenKeep, scale: 1 / hiddenKeep });
    return widths;
  }

  /** Scores for a batch x [n, inputSize]; with masks, the training-time (dropout) network. */
  scores(x: tf.Tensor2D, masks?: DropoutMasks): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x;
      const hiddenCount = this.spec.hidden.length;
      for (let i = 0; i < this.dense.length; i++) {
        if (masks?.[i]) h = tf.mul(h, masks[i]);
        const { weights, bias, pieces, conv } = this.dense[i];
        if (conv) {
          h = convMaxoutForward(h, weights, bias, conv);
          continue;
        }
        const z = tf.add(tf.matMul(h, weights), bias) as tf.Tensor2D;
        h = i < hiddenCount && pieces > 1 ? tf.max(tf.reshape(z, [z.shape[0], -1, pieces]), 2) : z;
      }
      if (this.rbf) {
        if (masks?.[hiddenCount]) h = tf.mul(h, masks[hiddenCount]);
        return this.rbfLogProbabilities(h, this.rbf);
      }
      return h;
    });
  }

  /** log p_i = -Σ_j β_ij (x_j - w_ij)², expanded so it is three matMuls, not an [n, d, k] tensor. */
  private rbfLogProbabilities(x: tf.Tensor2D, { centres, logPrecision }: RbfParams): tf.Tensor2D {
    const beta = tf.exp(logPrecision);
    const xx = tf.matMul(tf.square(x), beta);
    const xw = tf.matMul(x, tf.mul(beta, centres));
    const ww = tf.sum(tf.mul(beta, tf.square(centres)), 0);
    return tf.neg(tf.add(tf.sub(xx, tf.mul(xw, 2)), ww)) as tf.Tensor2D;
  }

  /** Per-class probabilities (softmax rows sum to 1; sigmoid and RBF outputs are independent). */
  probabilities(scores: tf.Tensor2D): tf.Tensor2D {
    switch (this.spec.head) {
      case 'softmax':
        return tf.softmax(scores);
      case 'sigmoid':
        return tf.sigmoid(scores);
      case 'rbf':
        return tf.exp(scores);
    }
  }

  /** Targets for the loss from integer labels: one-hot, or the 0/1 label itself for one output. */
  targets(labels: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() =>
      this.outputs === 1 ? (tf.reshape(tf.cast(labels, 'float32'), [-1, 1]) as tf.Tensor2D) : (tf.cast(tf.oneHot(tf.cast(labels, 'int32'), this.outputs), 'float32') as tf.Tensor2D),
    );
  }

  /** The training cost J (mean over the batch) of scores against targets from `targets()`. */
  loss(scores: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => tf.mean(this.exampleLosses(scores, targets)));
  }

  /** J per example [n] (what `loss` averages): attacks that step each example on its own read it (APGD). */
  exampleLosses(scores: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      switch (this.spec.head) {
        case 'softmax':
          return tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(scores)), 1)) as tf.Tensor1D;
        case 'sigmoid':
          return tf.sum(sigmoidCrossEntropy(scores, targets), 1) as tf.Tensor1D;
        case 'rbf': {
          // log(1 - p) with p = exp(s) ≤ 1; the floor keeps the gradient finite where p → 1.
          const logNotP = tf.log(tf.maximum(tf.sub(1, tf.exp(scores)), 1e-7));
          return tf.neg(tf.sum(tf.add(tf.mul(targets, scores), tf.mul(tf.sub(1, targets), logNotP)), 1)) as tf.Tensor1D;
        }
      }
    });
  }

  /** Predicted class per row: argmax, or the sign of the single logit for logistic regression. */
  predict(scores: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => (this.outputs === 1 ? (tf.reshape(tf.cast(tf.greater(scores, 0), 'int32'), [-1]) as tf.Tensor1D) : tf.argMax(scores, 1)));
  }

  /** Confidence in the predicted class: max probability (for one sigmoid output, max(p, 1 - p)). */
  confidence(scores: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const p = this.probabilities(scores);
      return this.outputs === 1 ? (tf.reshape(tf.maximum(p, tf.sub(1, p)), [-1]) as tf.Tensor1D) : tf.max(p, 1);
    });
  }

  /** Projects each unit's incoming weights back into the max-norm ball (pylearn2 max_col_norm). */
  applyConstraints(): void {
    tf.tidy(() => {
      for (const { weights, maxNorm } of this.dense) {
        const limit = maxNorm === undefined ? this.spec.maxColumnNorm : maxNorm;
        if (limit === null) continue;
        const norms = tf.sqrt(tf.sum(tf.square(weights), 0, true));
        // limit / max(norm, limit): limit/norm past the limit, exactly 1 within it, in two ops.
        const scale = tf.div(limit, tf.maximum(norms, limit));
        weights.assign(tf.mul(weights, scale) as tf.Tensor2D);
      }
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** A variable whose initial-value tensor is released at once (the variable keeps its own reference). */
export function ownedVariable<R extends tf.Rank>(initial: () => tf.Tensor<R>): tf.Variable<R> {
  return tf.tidy(() => tf.variable(initial()));
}

/** Numerically stable σ cross-entropy: max(s, 0) - s·t + log(1 + exp(-|s|)). */
export function sigmoidCrossEntropy(scores: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(scores), tf.mul(scores, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(scores))))));
}
