import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { rubbishStats } from '@advx/metrics';

describe('rubbishStats (App. A)', () => {
  it('counts rows with any probability > threshold, their mean max probability and argmax histogram', async () => {
    const p = tf.tensor2d(
      [
        [0.9, 0.05, 0.05], // FP, class 0
        [0.3, 0.3, 0.4], // not
        [0.1, 0.7, 0.2], // FP, class 1
        [0.5, 0.25, 0.25], // exactly .5 is not > .5
        [0.2, 0.6, 0.9], // independent sigmoids: FP, class 2 (max .9)
      ],
      [5, 3],
    );
    const before = tf.memory().numTensors;
    const stats = await rubbishStats(p);
    expect(tf.memory().numTensors).toBe(before);
    expect(stats.count).toBe(5);
    expect(stats.falsePositiveRate).toBeCloseTo(3 / 5, 9);
    expect(stats.meanConfidenceOnFalsePositives).toBeCloseTo((0.9 + 0.7 + 0.9) / 3, 6);
    expect(stats.classHistogram).toEqual([1, 1, 1]);
    const strict = await rubbishStats(p, 0.8);
    expect(strict.falsePositiveRate).toBeCloseTo(2 / 5, 9);
    expect(strict.classHistogram).toEqual([1, 0, 1]);
    p.dispose();
  });

  it('no false positives: rate 0, confidence NaN (undefined in the paper), empty histogram', async () => {
    const p = tf.fill([4, 10], 0.1) as tf.Tensor2D;
    const stats = await rubbishStats(p);
    expect(stats.falsePositiveRate).toBe(0);
    expect(stats.meanConfidenceOnFalsePositives).toBeNaN();
    expect(stats.classHistogram).toEqual(new Array(10).fill(0));
    p.dispose();
  });
});
