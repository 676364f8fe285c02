import { describe, expect, it } from 'vitest';
import { learningRateAt, momentumAt, PYLEARN2_MNIST_LEARNING_RATE as LR, PYLEARN2_MNIST_MOMENTUM as MOMENTUM } from '@advx/models';

// Hand-computed from pylearn2's formulas (sgd.py ExponentialDecay, learning_rule.py MomentumAdjustor)
// and checked against the constants mnist_pi_continued.yaml stores for Goodfellow's best epoch, 243.
describe('schedules by the absolute update and epoch count (pylearn2 mnist_pi)', () => {
  it('learning rate: .1 for the first update, then ÷ 1.000004 per update', () => {
    expect(learningRateAt(LR, 0)).toBe(0.1);
    expect(learningRateAt(LR, 1)).toBe(0.1 / 1.000004);
    expect(learningRateAt(LR, 1)).toBeCloseTo(0.0999996000016, 14);
    expect(learningRateAt(LR, 500 * 250)).toBeCloseTo(0.0606530, 6);
  });

  it('learning rate after 243 epochs of 500 updates is what mnist_pi_continued.yaml continues with (0.0615082606673)', () => {
    // pylearn2 computes in float64 and stores a float32 shared variable: agree to float32 precision.
    expect(learningRateAt(LR, 243 * 500)).toBeCloseTo(0.06150824053, 10);
    expect(Math.abs(learningRateAt(LR, 243 * 500) - 0.0615082606673)).toBeLessThan(1e-7);
  });

  it('learning rate is floored at 1e-6 (after ~5,756 epochs) and stays there', () => {
    const floorUpdate = Math.ceil(Math.log(0.1 / 1e-6) / Math.log(1.000004));
    expect(learningRateAt(LR, floorUpdate - 2)).toBeGreaterThan(1e-6);
    expect(learningRateAt(LR, floorUpdate + 1)).toBe(1e-6);
    expect(learningRateAt(LR, 10 ** 9)).toBe(1e-6);
  });

  it('momentum: .5 in epoch 1, linear to .7 in epoch 250, then .7', () => {
    expect(momentumAt(MOMENTUM, 1)).toBe(0.5);
    expect(momentumAt(MOMENTUM, 2)).toBeCloseTo(0.5 + 0.2 / 249, 15);
    expect(momentumAt(MOMENTUM, 243)).toBeCloseTo(0.5 + (0.2 * 242) / 249, 15);
    // mnist_pi_continued.yaml's init_momentum, computed by pylearn2 in float32: equal to float32 precision.
    expect(Math.abs(momentumAt(MOMENTUM, 243) - 0.694376766682)).toBeLessThan(1e-6);
    expect(momentumAt(MOMENTUM, 250)).toBeCloseTo(0.7, 15);
    expect(momentumAt(MOMENTUM, 251)).toBeCloseTo(0.7, 15);
    expect(momentumAt(MOMENTUM, 5000)).toBeCloseTo(0.7, 15);
  });

  it('a schedule that saturates at its start jumps straight to the final momentum (pylearn2 w = 0)', () => {
    expect(momentumAt({ initial: 0.5, final: 0.9, startEpoch: 3, saturateEpoch: 3 }, 2)).toBe(0.5);
    expect(momentumAt({ initial: 0.5, final: 0.9, startEpoch: 3, saturateEpoch: 3 }, 3)).toBe(0.9);
  });

  it('rejects counts that are not counts', () => {
    expect(() => learningRateAt(LR, -1)).toThrow(/update count/);
    expect(() => learningRateAt(LR, 1.5)).toThrow(/update count/);
    expect(() => momentumAt(MOMENTUM, 0)).toThrow(/epoch/);
  });
});
