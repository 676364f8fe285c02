import * as tf from '@tensorflow/tfjs-core';

/** Error and confidence over a dataset, as the paper reports them. Rates are fractions in [0, 1]. */
export interface ClassificationStats {
  count: number;
  error: number;
  /** Mean confidence (probability of the predicted class) over all examples. */
  confidence: number;
  /** Mean confidence over the misclassified examples only (NaN when there are none). */
  confidenceOnErrors: number;
}

/**
 * Accumulates classification stats batch by batch on the device; nothing is read back until
 * `result()`, so evaluation never stalls the backend once per batch.
 */
export class ClassificationAccumulator {
  // kept so that creating the accumulator inside a caller's tf.tidy does not free it.
  private sums: tf.Tensor1D = tf.keep(tf.zeros([3]));
  private count = 0;

  /** predictions, labels: int [n]; confidence: float [n]. */
  add(predictions: tf.Tensor1D, labels: tf.Tensor1D, confidence: tf.Tensor1D): void {
    const next = tf.tidy(() => {
      const wrong = tf.cast(tf.notEqual(tf.cast(predictions, 'int32'), tf.cast(labels, 'int32')), 'float32');
      const batch = tf.stack([tf.sum(wrong), tf.sum(confidence), tf.sum(tf.mul(confidence, wrong))]) as tf.Tensor1D;
      return tf.add(this.sums, batch) as tf.Tensor1D;
    });
    this.sums.dispose();
    // kept: callers usually add() inside their own tf.tidy, which would otherwise free the running sums.
    this.sums = tf.keep(next);
    this.count += predictions.shape[0];
  }

  async result(): Promise<ClassificationStats> {
    const [errors, confidenceSum, confidenceOnErrorsSum] = await this.sums.data();
    return {
      count: this.count,
      error: this.count ? errors / this.count : NaN,
      confidence: this.count ? confidenceSum / this.count : NaN,
      confidenceOnErrors: errors ? confidenceOnErrorsSum / errors : NaN,
    };
  }

  dispose(): void {
    this.sums.dispose();
  }
}
