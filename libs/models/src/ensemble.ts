import * as tf from '@tensorflow/tfjs-core';
import type { Classifier } from './classifier.js';

/** What evaluation and attacks use of a model; a Classifier and an Ensemble both provide it. */
export interface Predictor {
  readonly outputs: number;
  scores(x: tf.Tensor2D): tf.Tensor2D;
  probabilities(scores: tf.Tensor2D): tf.Tensor2D;
  loss(scores: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar;
  /** The loss per example [n]; `loss` is its mean. */
  exampleLosses(scores: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D;
  targets(labels: tf.Tensor1D): tf.Tensor2D;
  predict(scores: tf.Tensor2D): tf.Tensor1D;
  confidence(scores: tf.Tensor2D): tf.Tensor1D;
}

/**
 * An ensemble that averages its members' class probabilities (§9). Its scores are the log of the
 * averaged probabilities, so softmax(scores) is that average and the cross-entropy on them is the
 * ensemble's own cost: FGSM against an Ensemble attacks the average, not any one member.
 */
export class Ensemble implements Predictor {
  readonly outputs: number;

  constructor(readonly members: Classifier[]) {
    if (members.length === 0) throw new Error('an ensemble needs at least one member');
    const heads = new Set(members.map((m) => m.spec.head));
    if (heads.size !== 1 || !heads.has('softmax')) throw new Error('ensembles average softmax members only');
    this.outputs = members[0].outputs;
  }

  scores(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const probabilities = this.members.map((m) => tf.softmax(m.scores(x)));
      return tf.log(tf.maximum(tf.div(tf.addN(probabilities), this.members.length), 1e-30)) as tf.Tensor2D;
    });
  }

  probabilities(scores: tf.Tensor2D): tf.Tensor2D {
    return tf.softmax(scores);
  }

  loss(scores: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    return this.members[0].loss(scores, targets);
  }

  exampleLosses(scores: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
    return this.members[0].exampleLosses(scores, targets);
  }

  targets(labels: tf.Tensor1D): tf.Tensor2D {
    return this.members[0].targets(labels);
  }

  predict(scores: tf.Tensor2D): tf.Tensor1D {
    return tf.argMax(scores, 1);
  }

  confidence(scores: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.max(tf.softmax(scores), 1));
  }

  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}
