import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { logitsAlongDirection, piecewiseLinearFit } from '@advx/metrics';

const grid = Array.from({ length: 101 }, (_, i) => -1 + i / 50);

describe('logitsAlongDirection (Fig. 4)', () => {
  it('equals W(x + εη) + b for a linear model, from one batched forward pass', async () => {
    const d = 5;
    const k = 3;
    const W = Array.from({ length: d * k }, (_, i) => Math.sin(i + 1));
    const b = [0.1, -0.2, 0.3];
    const x = new Float32Array([0.2, 0.4, -0.1, 0.9, 0.5]);
    const eta = new Float32Array([1, -1, 1, 1, -1]);
    const epsilons = [-0.5, 0, 0.25, 1];
    const Wt = tf.tensor2d(W, [d, k]);
    const bt = tf.tensor1d(b);
    let calls = 0;
    const scoresFn = (input: tf.Tensor2D) => {
      calls++;
      expect(input.shape).toEqual([epsilons.length, d]);
      return tf.add(tf.matMul(input, Wt), bt) as tf.Tensor2D;
    };
    const before = tf.memory().numTensors;
    const out = await logitsAlongDirection(scoresFn, x, eta, epsilons);
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toBe(1);
    epsilons.forEach((e, ei) => {
      for (let c = 0; c < k; c++) {
        let z = b[c];
        for (let j = 0; j < d; j++) z += (x[j] + e * eta[j]) * W[j * k + c];
        expect(out[ei][c]).toBeCloseTo(z, 4);
      }
    });
    tf.dispose([Wt, bt]);
    await expect(logitsAlongDirection(scoresFn, x, new Float32Array(2), epsilons)).rejects.toThrow(/direction/);
  });
});

describe('piecewiseLinearFit', () => {
  const hinge = grid.map((x) => 2 * x + 1 - 9 * Math.max(0, x - 0.2) + 6 * Math.max(0, x + 0.5));
  const sine = grid.map((x) => Math.sin(3 * Math.PI * x));

  it('an exactly piecewise-linear (3 pieces, continuous) curve is explained completely; a line is not enough', () => {
    const fit = piecewiseLinearFit(grid, hinge, 3);
    expect(fit.continuous).toBe(true);
    expect(fit.r2).toBeGreaterThan(1 - 1e-9);
    expect(fit.segments).toBe(3);
    expect(fit.breakpoints[0]).toBeCloseTo(-0.5, 9);
    expect(fit.breakpoints[1]).toBeCloseTo(0.2, 9);
    expect(fit.r2Line).toBeLessThan(0.9);
    expect(fit.r2BySegments[1]).toBeLessThan(0.999);
    expect(fit.r2BySegments).toHaveLength(3);
    expect(fit.r2BySegments[0]).toBe(fit.r2Line);
  });

  it('a sine with 1.5 periods is explained clearly less well', () => {
    const fit = piecewiseLinearFit(grid, sine, 3);
    expect(fit.r2).toBeLessThan(0.85);
    expect(Math.abs(fit.r2Line)).toBeLessThan(0.3);
    // More segments never fit worse.
    expect(fit.r2BySegments[1]).toBeGreaterThanOrEqual(fit.r2BySegments[0]);
    expect(fit.r2BySegments[2]).toBeGreaterThanOrEqual(fit.r2BySegments[1]);
  });

  it('discontinuous segments: a step function with sloped sides fits exactly, where a continuous spline cannot', () => {
    const jump = grid.map((x) => (x < 0 ? x : 3 + 0.5 * x));
    const free = piecewiseLinearFit(grid, jump, 2, { continuous: false });
    expect(free.r2).toBeGreaterThan(1 - 1e-9);
    expect(free.breakpoints).toEqual([0]);
    const spline = piecewiseLinearFit(grid, jump, 2);
    expect(spline.r2).toBeLessThan(0.99);
    const hingeFree = piecewiseLinearFit(grid, hinge, 3, { continuous: false });
    expect(hingeFree.r2).toBeGreaterThan(1 - 1e-9);
    expect(piecewiseLinearFit(grid, sine, 3, { continuous: false }).r2).toBeLessThan(0.9);
  });

  it('is order-independent and validates its input', () => {
    const shuffled = grid.map((_, i) => (i * 37) % grid.length);
    const fit = piecewiseLinearFit(shuffled.map((i) => grid[i]), shuffled.map((i) => hinge[i]), 3);
    expect(fit.r2).toBeGreaterThan(1 - 1e-9);
    expect(() => piecewiseLinearFit([1, 2], [1], 2)).toThrow(/ys/);
    expect(() => piecewiseLinearFit(grid, hinge, 0)).toThrow(/maxSegments/);
    expect(piecewiseLinearFit([0, 1, 2], [5, 5, 5], 1).r2).toBe(1);
  });
});
