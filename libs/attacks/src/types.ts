import type * as tf from '@tensorflow/tfjs-core';

/** The model as attacks see it: a function from inputs [n, d] to scores [n, k] (logits for softmax). */
export type ScoresFn = (x: tf.Tensor2D) => tf.Tensor2D;

/** The cost J(scores, targets) whose input-gradient the attack follows; mean over the batch. */
export type LossFn = (scores: tf.Tensor2D, targets: tf.Tensor2D) => tf.Scalar;

/** Turns integer labels [n] into the loss's targets (one-hot for softmax, 0/1 for one sigmoid). */
export type TargetsFn = (labels: tf.Tensor1D) => tf.Tensor2D;

/** What an attack needs of a model; `Classifier` from @advx/models satisfies it via `asAttackTarget`. */
export interface AttackTarget {
  scores: ScoresFn;
  loss: LossFn;
  /** The loss per example [n] (`loss` is its mean), for attacks that keep per-example state (APGD). */
  exampleLosses: (scores: tf.Tensor2D, targets: tf.Tensor2D) => tf.Tensor1D;
  targets: TargetsFn;
  /** Predicted labels from scores; used when no labels are given, to avoid label leaking. */
  predict: (scores: tf.Tensor2D) => tf.Tensor1D;
}

export interface LinfOptions {
  /** L∞ budget: every pixel moves by at most eps. */
  eps: number;
  /** Valid input range; the result is clipped into it (MNIST pixels are in [0, 1]). */
  clipMin?: number;
  clipMax?: number;
  /**
   * Labels [n]. Untargeted: the true labels (if omitted, the model's own predictions, which avoids
   * label leaking). Targeted: the classes to move towards (required).
   */
  labels?: tf.Tensor1D;
  targeted?: boolean;
}
