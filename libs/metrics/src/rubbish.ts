import * as tf from '@tensorflow/tfjs-core';

/**
 * Rubbish-class statistics (Goodfellow, Shlens & Szegedy 2015, Appendix A): on degenerate inputs
 * (e.g. N(0, I) samples), "assigning a probability greater than 0.5 to any class" is a false positive.
 */
export interface RubbishStats {
  count: number;
  /** Fraction of inputs with some class probability > threshold (the paper's "error rate"). */
  falsePositiveRate: number;
  /** Mean of the largest class probability over the false positives (NaN when there are none). */
  meanConfidenceOnFalsePositives: number;
  /** Per class: how many false positives have it as their most probable class. */
  classHistogram: number[];
}

/**
 * `probabilities` [n, k] from the model's head (softmax rows, or independent sigmoid/RBF outputs).
 * Reduced on the device; one read-back of two [n] vectors.
 */
export async function rubbishStats(probabilities: tf.Tensor2D, threshold = 0.5): Promise<RubbishStats> {
  const [n, k] = probabilities.shape;
  const [top, arg] = tf.tidy(() => [tf.max(probabilities, 1), tf.argMax(probabilities, 1)]);
  try {
    const [topValues, argValues] = await Promise.all([top.data(), arg.data()]);
    const classHistogram = new Array<number>(k).fill(0);
    let positives = 0;
    let confidence = 0;
    for (let i = 0; i < n; i++) {
      if (!(topValues[i] > threshold)) continue;
      positives++;
      confidence += topValues[i];
      classHistogram[argValues[i]]++;
    }
    return { count: n, falsePositiveRate: n ? positives / n : NaN, meanConfidenceOnFalsePositives: positives ? confidence / positives : NaN, classHistogram };
  } finally {
    top.dispose();
    arg.dispose();
  }
}
