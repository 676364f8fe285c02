// R+FGSM, FGSM with a random start, MI-FGSM, APGD-CE, Square and the worst case over a list:
// the ε-ball and the input box always hold; on binary logistic regression, where the loss-maximising
// point of the ball is known in closed form (x* = x − ε (2y − 1) sign(w), unclipped), each attack
// lands where its update rule says; APGD's best loss never falls and is at least PGD's.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { apgdCe, apgdCeRun, apgdCheckpoints, fgsm, firstSuccessful, fgsmRandomStart, miFgsm, pgd, rfgsm, square, squareFraction, worstCase, type AttackTarget } from '@advx/attacks';
import { asAttackTarget, logisticRegressionSpec, maxoutSpec, type Classifier } from '@advx/models';
import { makeModel, maxAbsDiff, randomInputs, randomLabels } from './helpers.js';

const D = 20; // a 4 × 5 "image" for Square
const K = 4;
const N = 16;
const IMAGE: [number, number, number] = [4, 5, 1];
const UNBOXED = { clipMin: -Infinity, clipMax: Infinity };

const smallMaxout = (seed = 3) => makeModel(maxoutSpec({ units: 8, pieces: 3, initRange: 0.5, inputKeep: 1, hiddenKeep: 1 }), D, K, seed);

/** Every attack, as one call with its randomness seeded. */
function attacks(target: AttackTarget, eps: number, box: { clipMin?: number; clipMax?: number } = {}) {
  return {
    rfgsm: (x: tf.Tensor2D) => rfgsm(target, x, { eps, alpha: eps / 2, rng: Rng.fromSeed(1), ...box }),
    fgsmRandomStart: (x: tf.Tensor2D) => fgsmRandomStart(target, x, { eps, stepSize: 1.25 * eps, rng: Rng.fromSeed(2), ...box }),
    miFgsm: (x: tf.Tensor2D) => miFgsm(target, x, { eps, steps: 5, ...box }),
    apgdCe: (x: tf.Tensor2D) => apgdCe(target, x, { eps, steps: 10, restarts: 2, rng: Rng.fromSeed(3), ...box }),
    square: (x: tf.Tensor2D) => square(target, x, { eps, queries: 30, imageShape: IMAGE, rng: Rng.fromSeed(4), ...box }),
  };
}

/** Binary logistic regression with its weights read back, and the closed-form worst point of the ball. */
function linearCase(eps: number) {
  const model = makeModel(logisticRegressionSpec({ initRange: 1 }), D, 2, 5);
  const w = model.variables[0].dataSync();
  const { values, tensor: x } = randomInputs(N, D, 6);
  const labels = randomLabels(N, 2, 7);
  const labelTensor = tf.tensor1d(labels, 'int32');
  // ∂J/∂x = (σ(s) − y) w, whose sign is −(2y − 1) sign(w) for every x.
  const direction = (n: number, j: number) => -(2 * labels[n] - 1) * Math.sign(w[j]);
  const optimum = Float32Array.from(values, (v, i) => v + eps * direction(Math.floor(i / D), i % D));
  return { model, target: asAttackTarget(model), x, values, labels: labelTensor, direction, optimum };
}

describe('strong attacks: ε-ball and box', () => {
  it.each([
    ['[0, 1]', {}, 0, 1],
    ['[−0.5, 1.5]', { clipMin: -0.5, clipMax: 1.5 }, -0.5, 1.5],
  ])('every attack stays within ε of x and inside %s', (_, box, lo, hi) => {
    const model = smallMaxout();
    const { values, tensor: x } = randomInputs(N, D, 1);
    const eps = 0.2;
    for (const [name, attack] of Object.entries(attacks(asAttackTarget(model), eps, box))) {
      const adv = attack(x);
      const out = adv.dataSync();
      expect(adv.shape, name).toEqual([N, D]);
      expect(Math.min(...out), name).toBeGreaterThanOrEqual(lo);
      expect(Math.max(...out), name).toBeLessThanOrEqual(hi);
      expect(maxAbsDiff(out, values), name).toBeLessThanOrEqual(eps + 1e-6);
      expect(maxAbsDiff(out, values), `${name} moved`).toBeGreaterThan(eps / 4);
      adv.dispose();
    }
    x.dispose();
    model.dispose();
  });

  it('leave exactly their result behind, and repeat given their seeds', () => {
    const model = smallMaxout();
    const { tensor: x } = randomInputs(N, D, 2);
    for (const [name, attack] of Object.entries(attacks(asAttackTarget(model), 0.1))) {
      const before = tf.memory().numTensors;
      const a = attack(x);
      expect(tf.memory().numTensors, name).toBe(before + 1);
      const b = attack(x);
      expect(Array.from(b.dataSync()), name).toEqual(Array.from(a.dataSync()));
      tf.dispose([a, b]);
      expect(tf.memory().numTensors, name).toBe(before);
    }
    x.dispose();
    model.dispose();
  });

  it('reject bad options with a message naming the option', () => {
    const model = smallMaxout();
    const target = asAttackTarget(model);
    const { tensor: x } = randomInputs(N, D, 3);
    const rng = Rng.fromSeed(1);
    expect(() => rfgsm(target, x, { eps: 0.1, alpha: 0.2, rng })).toThrow(/alpha must lie in \[0, eps\]/);
    expect(() => fgsmRandomStart(target, x, { eps: 0.1, stepSize: 0, rng })).toThrow(/stepSize/);
    expect(() => miFgsm(target, x, { eps: 0.1, steps: 0 })).toThrow(/steps/);
    expect(() => apgdCe(target, x, { eps: 0.1, steps: 10, restarts: 0, rng })).toThrow(/restarts/);
    expect(() => square(target, x, { eps: 0.1, queries: 10, imageShape: [5, 5, 1], rng })).toThrow(/imageShape 5×5×1 does not match rows of 20/);
    x.dispose();
    model.dispose();
  });
});

describe('strong attacks on logistic regression (closed form)', () => {
  const eps = 0.1;

  it('MI-FGSM with α = ε/T walks straight to x*: the gradient sign never changes', () => {
    const { model, target, x, labels, optimum } = linearCase(eps);
    const adv = miFgsm(target, x, { eps, steps: 4, labels, ...UNBOXED });
    expect(maxAbsDiff(adv.dataSync(), optimum)).toBeLessThan(1e-6);
    tf.dispose([adv, x, labels]);
    model.dispose();
  });

  it('FGSM from a random start with a step ≥ 2ε ends at x* (δ is clipped back to ±ε)', () => {
    const { model, target, x, labels, optimum } = linearCase(eps);
    const adv = fgsmRandomStart(target, x, { eps, stepSize: 2 * eps, labels, rng: Rng.fromSeed(9), ...UNBOXED });
    expect(maxAbsDiff(adv.dataSync(), optimum)).toBeLessThan(1e-6);
    tf.dispose([adv, x, labels]);
    model.dispose();
  });

  it('R+FGSM is x + α·(random signs) + (ε − α)·sign(∇): each coordinate is off x* by 0 or 2α', () => {
    const { model, target, x, values, labels, direction } = linearCase(eps);
    const alpha = 0.04;
    const adv = rfgsm(target, x, { eps, alpha, labels, rng: Rng.fromSeed(10), ...UNBOXED }).dataSync();
    let flipped = 0;
    for (let i = 0; i < adv.length; i++) {
      const rest = adv[i] - values[i] - (eps - alpha) * direction(Math.floor(i / D), i % D);
      expect(Math.abs(Math.abs(rest) - alpha), `coordinate ${i}`).toBeLessThan(1e-6);
      if (Math.sign(rest) !== direction(Math.floor(i / D), i % D)) flipped++;
    }
    // The random step goes against x* about half the time.
    expect(flipped).toBeGreaterThan(adv.length * 0.3);
    expect(flipped).toBeLessThan(adv.length * 0.7);
    tf.dispose([x, labels]);
    model.dispose();
  });

  it('APGD-CE reaches the maximal loss J(x*) in its first step and keeps it', () => {
    const { model, target, x, labels, optimum } = linearCase(eps);
    const run = apgdCeRun(target, x, labels, { eps, steps: 8, rng: Rng.fromSeed(11), trace: true, ...UNBOXED });
    const atOptimum = tf.tidy(() => model.exampleLosses(model.scores(tf.tensor2d(optimum, [N, D])), model.targets(labels)).dataSync());
    const best = run.bestLoss.dataSync();
    for (let n = 0; n < N; n++) expect(best[n], `example ${n}`).toBeCloseTo(atOptimum[n], 4);
    tf.dispose([run.adversarial, run.fooled, run.bestLoss, ...run.bestLossHistory!, x, labels]);
    model.dispose();
  });

  it('Square finds the misclassifying vertices when x* misclassifies every example', () => {
    const big = 0.6;
    const { model, target, x, labels, optimum } = linearCase(big);
    const predictions = (input: tf.Tensor2D) => tf.tidy(() => Array.from(model.predict(model.scores(input)).dataSync()));
    const truth = Array.from(labels.dataSync());
    const optimumTensor = tf.tensor2d(optimum, [N, D]);
    const wrongAtOptimum = predictions(optimumTensor).filter((p, n) => p !== truth[n]).length;
    const adv = square(target, x, { eps: big, queries: 200, imageShape: IMAGE, labels, rng: Rng.fromSeed(12), ...UNBOXED });
    const wrong = predictions(adv).filter((p, n) => p !== truth[n]).length;
    expect(wrongAtOptimum).toBe(N);
    expect(wrong).toBeGreaterThanOrEqual(N - 1);
    tf.dispose([adv, x, labels, optimumTensor]);
    model.dispose();
  });
});

describe('APGD-CE', () => {
  it('checks its step size where the paper says: p = 0, .22, then + max(Δ − .03, .06)', () => {
    // Croce & Hein (2020), §3.2: p_{j+1} = p_j + max(p_j − p_{j−1} − .03, .06), times N_iter = 100.
    expect(apgdCheckpoints(100)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect(apgdCheckpoints(10)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('never lowers any example’s best loss, and halves steps so it ends at least as high as PGD', () => {
    const model = smallMaxout(4);
    const target = asAttackTarget(model);
    const { tensor: x } = randomInputs(64, D, 13);
    const labels = tf.tidy(() => model.predict(model.scores(x)));
    const eps = 0.05;
    const run = apgdCeRun(target, x, labels, { eps, steps: 20, rng: Rng.fromSeed(14), trace: true });
    const history = run.bestLossHistory!.map((t) => t.dataSync());
    for (let k = 1; k < history.length; k++) for (let n = 0; n < 64; n++) expect(history[k][n], `step ${k}, example ${n}`).toBeGreaterThanOrEqual(history[k - 1][n]);
    const pgdAdv = pgd(target, x, { eps, stepSize: eps / 4, steps: 20, labels, rng: Rng.fromSeed(14) });
    const pgdLoss = tf.tidy(() => tf.mean(model.exampleLosses(model.scores(pgdAdv), model.targets(labels))).dataSync()[0]);
    const apgdLoss = tf.tidy(() => tf.mean(run.bestLoss).dataSync()[0]);
    expect(apgdLoss).toBeGreaterThanOrEqual(pgdLoss);
    tf.dispose([run.adversarial, run.fooled, run.bestLoss, ...run.bestLossHistory!, pgdAdv, x, labels]);
    model.dispose();
  });
});

describe('Square', () => {
  it('shrinks its squares on AutoAttack’s schedule', () => {
    const steps = [0, 1, 2, 5, 6, 20, 21, 50, 51, 100, 101, 200, 201, 400, 401, 600, 601, 800, 801, 999];
    const divisors = [1, 1, 2, 2, 4, 4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 512];
    steps.forEach((step, i) => expect(squareFraction(0.8, step, 1000), `step ${step}`).toBeCloseTo(0.8 / divisors[i], 12));
  });
});

describe('worst case over attacks', () => {
  it('is the union: an example counts as broken by the first attack that fools it', async () => {
    const model: Classifier = smallMaxout(5);
    const target = asAttackTarget(model);
    const { tensor: x } = randomInputs(N, D, 15);
    const labels = tf.tensor1d(randomLabels(N, K, 16), 'int32');
    const identity = (rows: tf.Tensor2D) => tf.clone(rows);
    const strong = (rows: tf.Tensor2D, rowLabels: tf.Tensor1D) => fgsm(target, rows, { eps: 0.15, labels: rowLabels });
    const wrongUnder = (adv: tf.Tensor2D) => tf.tidy(() => Array.from(tf.notEqual(model.predict(model.scores(adv)), labels).dataSync()));
    const cleanWrong = wrongUnder(x);
    const fgsmAll = strong(x, labels);
    const fgsmWrong = wrongUnder(fgsmAll);
    const before = tf.memory().numTensors;
    const { adversarial, brokenBy } = await worstCase(target, x, labels, [identity, strong]);
    expect(tf.memory().numTensors).toBe(before + 1);
    for (let n = 0; n < N; n++) {
      expect(brokenBy[n], `example ${n}`).toBe(cleanWrong[n] ? -2 : fgsmWrong[n] ? 1 : -1);
    }
    const rows = adversarial.arraySync();
    const fgsmRows = fgsmAll.arraySync();
    const cleanRows = x.arraySync();
    for (let n = 0; n < N; n++) expect(rows[n]).toEqual(brokenBy[n] === 1 ? fgsmRows[n] : cleanRows[n]);
    expect(fgsmWrong.some(Boolean) && fgsmWrong.some((w, n) => !w && !cleanWrong[n])).toBe(true);
    // The on-device variant (every attack on every row) picks the same examples.
    const onDevice = firstSuccessful(target, x, labels, [identity, strong]);
    expect(onDevice.arraySync()).toEqual(rows);
    onDevice.dispose();
    tf.dispose([adversarial, fgsmAll, x, labels]);
    model.dispose();
  });
});
