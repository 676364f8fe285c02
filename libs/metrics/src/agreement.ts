import * as tf from '@tensorflow/tfjs-core';

/** §8: how a target model's predictions relate to a source model's on the source's adversarial examples. */
export interface AgreementStats {
  /** The source's own error on its adversarial examples. */
  sourceError: number;
  /** Among examples the source misclassifies: fraction where the target predicts the source's class (null if none). */
  agreement: number | null;
  /** Among examples both misclassify: fraction where they predict the same class (null if none). */
  agreementBothWrong: number | null;
}

/**
 * Accumulates §8's agreement counts batch by batch on the device (one cell of an agreement
 * matrix); nothing is read back until `result()`.
 */
export class AgreementAccumulator {
  // kept so that creating the accumulator inside a caller's tf.tidy does not free it.
  private sums: tf.Tensor1D = tf.keep(tf.zeros([4]));
  private count = 0;

  /** labels, sourcePrediction, targetPrediction: int [n], the predictions made on the same adversarial inputs. */
  add(labels: tf.Tensor1D, sourcePrediction: tf.Tensor1D, targetPrediction: tf.Tensor1D): void {
    const next = tf.tidy(() => {
      const asFloat = (t: tf.Tensor) => tf.cast(t, 'float32');
      const [y, source, target] = [labels, sourcePrediction, targetPrediction].map((t) => tf.cast(t, 'int32'));
      const sourceWrong = asFloat(tf.notEqual(source, y));
      const bothWrong = tf.mul(sourceWrong, asFloat(tf.notEqual(target, y)));
      const agree = asFloat(tf.equal(target, source));
      const batch = tf.stack([tf.sum(sourceWrong), tf.sum(tf.mul(sourceWrong, agree)), tf.sum(bothWrong), tf.sum(tf.mul(bothWrong, agree))]);
      return tf.add(this.sums, batch) as tf.Tensor1D;
    });
    this.sums.dispose();
    this.sums = tf.keep(next);
    this.count += labels.shape[0];
  }

  async result(): Promise<AgreementStats> {
    const [sourceWrong, agreeWhenSourceWrong, bothWrong, agreeWhenBothWrong] = await this.sums.data();
    return {
      sourceError: this.count ? sourceWrong / this.count : NaN,
      agreement: sourceWrong ? agreeWhenSourceWrong / sourceWrong : null,
      agreementBothWrong: bothWrong ? agreeWhenBothWrong / bothWrong : null,
    };
  }

  dispose(): void {
    this.sums.dispose();
  }
}
