import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { bim, fgsm, pgd } from '@advx/attacks';
import { asAttackTarget, maxoutSpec, softmaxRegressionSpec } from '@advx/models';
import { makeModel, maxAbsDiff, meanLoss, randomInputs } from './helpers.js';

const D = 20;
const K = 4;
const N = 16;

const smallMaxout = () => makeModel(maxoutSpec({ units: 8, pieces: 3, initRange: 0.5, inputKeep: 1, hiddenKeep: 1 }), D, K, 3);

function expectInBall(adv: tf.Tensor2D, x: Float32Array, eps: number, lo = 0, hi = 1): void {
  const out = adv.dataSync();
  expect(adv.shape).toEqual([N, D]);
  expect(Math.min(...out)).toBeGreaterThanOrEqual(lo);
  expect(Math.max(...out)).toBeLessThanOrEqual(hi);
  expect(maxAbsDiff(out, x)).toBeLessThanOrEqual(eps + 1e-6);
}

describe('bim and pgd', () => {
  it('stay inside the ε-ball and [0, 1]', () => {
    const model = smallMaxout();
    const { values, tensor: x } = randomInputs(N, D, 1);
    const eps = 0.1;
    // Step size larger than ε on purpose: only the projection keeps the result in the ball.
    const b = bim(asAttackTarget(model), x, { eps, stepSize: 0.07, steps: 5 });
    const p = pgd(asAttackTarget(model), x, { eps, stepSize: 0.07, steps: 5, rng: Rng.fromSeed(4) });
    expectInBall(b, values, eps);
    expectInBall(p, values, eps);
    // Both actually moved: most coordinates sit on the ball's boundary or a clip bound.
    expect(maxAbsDiff(b.dataSync(), values)).toBeGreaterThan(eps - 1e-6);
    tf.dispose([x, b, p]);
    model.dispose();
  });

  it('with steps = 1 and stepSize = ε, BIM equals FGSM', () => {
    const model = smallMaxout();
    const { tensor: x } = randomInputs(N, D, 2);
    const eps = 0.15;
    const one = bim(asAttackTarget(model), x, { eps, stepSize: eps, steps: 1 });
    const fast = fgsm(asAttackTarget(model), x, { eps });
    // BIM projects via x + clip(adv − x), which can differ from x + ε·sign by a float32 rounding.
    expect(maxAbsDiff(one.dataSync(), fast.dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, one, fast]);
    model.dispose();
  });

  it('PGD is deterministic given the Rng seed and differs between seeds', () => {
    const model = smallMaxout();
    const { tensor: x } = randomInputs(N, D, 3);
    const run = (seed: number) => {
      const adv = pgd(asAttackTarget(model), x, { eps: 0.1, stepSize: 0.01, steps: 3, rng: Rng.fromSeed(seed) });
      const values = adv.dataSync().slice();
      adv.dispose();
      return values;
    };
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-3);
    tf.dispose(x);
    model.dispose();
  });

  it('PGD with a random start differs from BIM, which starts at x', () => {
    const model = smallMaxout();
    const { tensor: x } = randomInputs(N, D, 5);
    const options = { eps: 0.1, stepSize: 0.01, steps: 2 };
    const b = bim(asAttackTarget(model), x, options);
    const p = pgd(asAttackTarget(model), x, { ...options, rng: Rng.fromSeed(1) });
    expect(maxAbsDiff(b.dataSync(), p.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([x, b, p]);
    model.dispose();
  });

  it('BIM with several steps reaches a loss ≥ FGSM’s on a small maxout model', () => {
    const model = smallMaxout();
    const { tensor: x } = randomInputs(N, D, 6);
    const labels = Array.from(tf.tidy(() => model.predict(model.scores(x))).dataSync());
    const eps = 0.1;
    const fast = fgsm(asAttackTarget(model), x, { eps });
    const iterated = bim(asAttackTarget(model), x, { eps, stepSize: eps / 4, steps: 10 });
    const clean = meanLoss(model, x, labels);
    const fgsmLoss = meanLoss(model, fast, labels);
    const bimLoss = meanLoss(model, iterated, labels);
    expect(fgsmLoss).toBeGreaterThan(clean);
    expect(bimLoss).toBeGreaterThanOrEqual(fgsmLoss);
    tf.dispose([x, fast, iterated]);
    model.dispose();
  });

  it('targeted BIM lowers the target class’s loss; bad options are rejected', () => {
    const model = smallMaxout();
    const { tensor: x } = randomInputs(N, D, 8);
    const wanted = Array.from({ length: N }, (_, n) => n % K);
    const wantedTensor = tf.tensor1d(wanted, 'int32');
    const adv = bim(asAttackTarget(model), x, { eps: 0.1, stepSize: 0.02, steps: 5, labels: wantedTensor, targeted: true });
    expect(meanLoss(model, adv, wanted)).toBeLessThan(meanLoss(model, x, wanted));
    const before = tf.memory().numTensors;
    expect(() => bim(asAttackTarget(model), x, { eps: 0.1, stepSize: 0.02, steps: 0 })).toThrow(/steps/);
    expect(() => bim(asAttackTarget(model), x, { eps: 0.1, stepSize: 0.02, steps: 1.5 })).toThrow(/steps/);
    expect(() => bim(asAttackTarget(model), x, { eps: 0.1, stepSize: 0, steps: 2 })).toThrow(/stepSize/);
    expect(() => bim(asAttackTarget(model), x, { eps: 0.1, stepSize: 0.01, steps: 2, targeted: true })).toThrow(/labels/);
    expect(() => pgd(asAttackTarget(model), x, { eps: -1, stepSize: 0.01, steps: 2, rng: Rng.fromSeed(1) })).toThrow(/eps/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, wantedTensor, adv]);
    model.dispose();
  });
});

describe('attacks leave no tensors behind', () => {
  it('fgsm, bim and pgd, untargeted and targeted, on softmax and maxout models', () => {
    for (const model of [makeModel(softmaxRegressionSpec({ initRange: 0.5 }), D, K), smallMaxout()]) {
      const { tensor: x } = randomInputs(N, D, 9);
      const labels = tf.tensor1d(Array.from({ length: N }, (_, n) => n % K), 'int32');
      const target = asAttackTarget(model);
      const calls: (() => tf.Tensor2D)[] = [
        () => fgsm(target, x, { eps: 0.1 }),
        () => fgsm(target, x, { eps: 0.1, labels, targeted: true }),
        () => bim(target, x, { eps: 0.1, stepSize: 0.02, steps: 4 }),
        () => bim(target, x, { eps: 0.1, stepSize: 0.02, steps: 4, labels }),
        () => pgd(target, x, { eps: 0.1, stepSize: 0.02, steps: 4, rng: Rng.fromSeed(2) }),
        () => pgd(target, x, { eps: 0.1, stepSize: 0.02, steps: 4, labels, targeted: true, rng: Rng.fromSeed(2) }),
      ];
      for (const [i, call] of calls.entries()) {
        const before = tf.memory().numTensors;
        const adv = call();
        expect(tf.memory().numTensors, `call ${i} keeps exactly its result`).toBe(before + 1);
        adv.dispose();
        expect(tf.memory().numTensors, `call ${i}`).toBe(before);
      }
      tf.dispose([x, labels]);
      model.dispose();
    }
  });
});
