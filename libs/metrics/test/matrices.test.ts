import { describe, expect, it } from 'vitest';
import { transferMatrices } from '@advx/metrics';

// Labels and predictions on 6 adversarial examples per source; hand-counted below.
const labels = new Uint8Array([0, 1, 2, 3, 4, 5]);
// On maxout's examples: maxout wrong on 0..4; softmax copies maxout on 0,1,2 and is right on 5 / wrong elsewhere; rbf is right on 0..2 and 5, and copies maxout on 3.
const onMaxout = {
  maxout: new Int32Array([9, 9, 8, 7, 6, 5]),
  softmax: new Int32Array([9, 9, 8, 1, 1, 5]),
  rbf: new Int32Array([0, 1, 2, 7, 0, 5]),
};
// On softmax's examples: softmax wrong on 0,1; maxout copies it on 0; rbf wrong everywhere but copies on 1.
const onSoftmax = {
  maxout: new Int32Array([7, 1, 2, 3, 4, 5]),
  softmax: new Int32Array([7, 8, 2, 3, 4, 5]),
  rbf: new Int32Array([9, 8, 9, 9, 9, 9]),
};
const targets = ['maxout', 'softmax', 'rbf'];

describe('transferMatrices (§8)', () => {
  const { transfer, agreement, agreementBothWrong } = transferMatrices({
    sources: ['maxout', 'softmax'],
    targets,
    labels,
    predictions: [targets.map((t) => onMaxout[t as keyof typeof onMaxout]), targets.map((t) => onSoftmax[t as keyof typeof onSoftmax])],
  });

  it('transfer: each target’s error rate on each source’s adversarial examples', () => {
    expect(transfer.rows).toEqual(['maxout', 'softmax']);
    expect(transfer.columns).toEqual(targets);
    expect(transfer.values[0]).toEqual([5 / 6, 5 / 6, 2 / 6]);
    expect(transfer.values[1]).toEqual([1 / 6, 2 / 6, 6 / 6]);
    expect(transfer.counts).toEqual([
      [6, 6, 6],
      [6, 6, 6],
    ]);
  });

  it('agreement: same class as the source, among the source’s mistakes', () => {
    // maxout wrong on 5 examples; softmax copies 3 of them; rbf copies 1 (example 3).
    expect(agreement.values[0]).toEqual([1, 3 / 5, 1 / 5]);
    expect(agreement.counts[0]).toEqual([5, 5, 5]);
    // softmax wrong on 2; maxout copies 1; rbf copies 1.
    expect(agreement.values[1]).toEqual([1 / 2, 1, 1 / 2]);
  });

  it('both wrong: same class, among examples both models get wrong', () => {
    // maxout & softmax both wrong on 0..4 → copies on 0,1,2 = 3/5; maxout & rbf both wrong on 3, 4 → copy on 3 = 1/2.
    expect(agreementBothWrong.values[0]).toEqual([1, 3 / 5, 1 / 2]);
    expect(agreementBothWrong.counts[0]).toEqual([5, 5, 2]);
    // softmax & maxout both wrong on 0 → 1/1; softmax & rbf both wrong on 0,1 → copies on 1 = 1/2.
    expect(agreementBothWrong.values[1]).toEqual([1, 1, 1 / 2]);
    expect(agreementBothWrong.counts[1]).toEqual([1, 2, 2]);
  });

  it('takes sourcePredictions and per-source labels when a source is not among the targets; empty cells are NaN', () => {
    const m = transferMatrices({
      sources: ['ensemble'],
      targets: ['rbf'],
      labels: [new Uint8Array([1, 1])],
      predictions: [[new Int32Array([1, 2])]],
      sourcePredictions: [new Int32Array([1, 1])],
    });
    expect(m.transfer.values).toEqual([[0.5]]);
    expect(m.agreement.values[0][0]).toBeNaN();
    expect(m.agreement.counts).toEqual([[0]]);
    expect(() => transferMatrices({ sources: ['a'], targets: ['b'], labels, predictions: [[onMaxout.rbf]] })).toThrow(/sourcePredictions/);
    expect(() => transferMatrices({ sources: ['a'], targets: ['a'], labels, predictions: [[new Int32Array(2)]] })).toThrow(/entries/);
  });
});
