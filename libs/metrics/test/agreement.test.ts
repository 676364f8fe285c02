import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { AgreementAccumulator } from '@advx/metrics';

// Labels and predictions on 6 adversarial examples crafted on maxout; hand-counted below.
const labels = [0, 1, 2, 3, 4, 5];
const maxout = [9, 9, 8, 7, 6, 5]; // wrong on 0..4
const softmax = [9, 9, 8, 1, 1, 5]; // copies maxout on 0,1,2; wrong on 0..4
const rbf = [0, 1, 2, 7, 0, 5]; // right on 0,1,2,5; wrong on 3 (copying maxout) and 4

async function cell(target: number[], batches: number[][]) {
  const acc = new AgreementAccumulator();
  for (const [start, end] of batches) {
    tf.tidy(() => acc.add(tf.tensor1d(labels.slice(start, end), 'int32'), tf.tensor1d(maxout.slice(start, end), 'int32'), tf.tensor1d(target.slice(start, end), 'int32')));
  }
  const result = await acc.result();
  acc.dispose();
  return result;
}

describe('AgreementAccumulator (§8)', () => {
  it('agreement among the source’s mistakes, and among shared mistakes', async () => {
    expect(await cell(softmax, [[0, 6]])).toEqual({ sourceError: 5 / 6, agreement: 3 / 5, agreementBothWrong: 3 / 5 });
    expect(await cell(rbf, [[0, 6]])).toEqual({ sourceError: 5 / 6, agreement: 1 / 5, agreementBothWrong: 1 / 2 });
  });

  it('gives the same counts however the examples are batched, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    expect(
      await cell(rbf, [
        [0, 2],
        [2, 5],
        [5, 6],
      ]),
    ).toEqual(await cell(rbf, [[0, 6]]));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is null where no example qualifies', async () => {
    expect(await cell(maxout.map((_, i) => labels[i]), [[5, 6]])).toEqual({ sourceError: 0, agreement: null, agreementBothWrong: null });
  });
});
