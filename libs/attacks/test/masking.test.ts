// The gradient-masking battery end to end on models built to mask on purpose: each check of
// maskingChecks fires on a model whose masking it is meant to catch, and every check passes on a
// normal (linear softmax) model. Inputs are 4 × 5 "images" so Square has squares to draw.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { MaskingAccumulator, fgsm, maskingProbes, pgd, type AttackTarget, type MaskingProbeOptions } from '@advx/attacks';
import { maskingChecks, type CheckOutcome, type MaskingCheckId } from '@advx/metrics';

const D = 20;
const K = 4;
const N = 300;
const IMAGE: [number, number, number] = [4, 5, 1];

/** Softmax cross-entropy on scores from `scores`, labels one-hot: the AttackTarget of any scoring function. */
function softmaxTarget(scores: (x: tf.Tensor2D) => tf.Tensor2D): AttackTarget {
  const exampleLosses = (s: tf.Tensor2D, targets: tf.Tensor2D) => tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(s)), 1)) as tf.Tensor1D;
  return {
    scores,
    exampleLosses,
    loss: (s, targets) => tf.mean(exampleLosses(s, targets)),
    targets: (labels) => tf.oneHot(tf.cast(labels, 'int32'), K) as tf.Tensor2D,
    predict: (s) => tf.argMax(s, 1) as tf.Tensor1D,
  };
}

/** A random linear map, x ↦ x W + b, with W's entries ~ U(−scale, scale). */
function linear(seed: number, inputs = D, scale = 1) {
  const rng = Rng.fromSeed(seed);
  const w = tf.tensor2d(rng.fillUniform(new Float32Array(inputs * K), -scale, scale), [inputs, K]);
  const b = tf.tensor1d(rng.fillUniform(new Float32Array(K), -0.5, 0.5));
  return { w, b, apply: (x: tf.Tensor2D) => tf.add(tf.matMul(x, w), b) as tf.Tensor2D };
}

/** A model of `scores` whose backward pass is replaced by `backward(dy, x)` (∂/∂x of Σ dy · scores). */
function withGradient(scores: (x: tf.Tensor2D) => tf.Tensor2D, backward: (dy: tf.Tensor2D, x: tf.Tensor2D) => tf.Tensor2D) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return { value: scores(x as tf.Tensor2D), gradFunc: (dy, saved) => backward(dy as tf.Tensor2D, saved[0] as tf.Tensor2D) };
  }) as (x: tf.Tensor2D) => tf.Tensor2D;
}

/**
 * Runs the battery on a model: labels are its own clean predictions (clean error 0), inputs U(lo, hi).
 * `sources` are models whose examples it is judged on.
 */
async function battery(model: AttackTarget, sources: AttackTarget[], inputs: { lo: number; hi: number }, options: Partial<MaskingProbeOptions> = {}) {
  const probe: MaskingProbeOptions = { eps: 0.25, epsilons: [0.1, 0.2, 0.3], steps: 10, queries: 100, imageShape: IMAGE, rng: Rng.fromSeed(9), ...options };
  const accumulator = new MaskingAccumulator(probe);
  const x = tf.tensor2d(Rng.fromSeed(4).fillUniform(new Float32Array(N * D), inputs.lo, inputs.hi), [N, D]);
  const labels = tf.tidy(() => model.predict(model.scores(x)));
  const before = tf.memory().numTensors;
  tf.tidy(() => accumulator.add(maskingProbes(model, x, labels, probe), N));
  expect(tf.memory().numTensors - before, 'tensors left by a batch (the accumulator keeps one)').toBe(1);
  // The transfer check's rates, as the coordinator's evaluate units measure them: the source crafts, the model judges.
  const judged = (craft: () => tf.Tensor2D) => tf.tidy(() => tf.mean(tf.cast(tf.notEqual(model.predict(model.scores(craft())), labels), 'float32')).dataSync()[0]);
  const iterative = { eps: probe.eps, steps: probe.steps, stepSize: (2.5 * probe.eps) / probe.steps, labels, rng: Rng.fromSeed(10) };
  const transfers = sources.map((source, i) => ({
    from: `source ${i}`,
    fgsm: judged(() => fgsm(source, x, { eps: probe.eps, labels })),
    pgd: judged(() => pgd(source, x, iterative)),
  }));
  tf.dispose([x, labels]);
  const rates = await accumulator.result();
  accumulator.dispose();
  return { rates, checks: maskingChecks({ ...rates, transfers }) };
}

const byId = (checks: CheckOutcome[]) => Object.fromEntries(checks.map((c) => [c.id, c])) as Record<MaskingCheckId, CheckOutcome>;
const describeChecks = (checks: CheckOutcome[]) => checks.map((c) => `${c.id} ${c.status}: ${c.detail}`).join('\n');

describe('gradient-masking battery on models that mask on purpose', () => {
  const inner = linear(1);
  const normal = softmaxTarget(inner.apply);
  const twin = softmaxTarget(linear(2).apply);
  const box = { lo: 0, hi: 1 };

  it('passes every check on a normal linear softmax model, judged against an independent twin', async () => {
    const { rates, checks } = await battery(normal, [twin], box, { eps: 0.05, epsilons: [0.025, 0.05, 0.1] });
    expect(checks.filter((c) => c.status !== 'pass'), describeChecks(checks)).toEqual([]);
    // Not vacuous: FGSM fools some examples and not all, PGD more.
    expect(rates.fgsm).toBeGreaterThan(0.05);
    expect(rates.fgsm).toBeLessThan(0.95);
    expect(rates.pgd).toBeGreaterThanOrEqual(rates.fgsm);
  });

  it('a rounding input layer (zero gradients): zero-gradients, black-box, unbounded and transfer checks fire', async () => {
    const rounded = softmaxTarget((x) => inner.apply(tf.round(x) as tf.Tensor2D));
    const { checks } = await battery(rounded, [normal], box);
    const c = byId(checks);
    for (const id of ['zero-gradients', 'black-box-below-white-box', 'unbounded-reaches-100', 'transfer-below-whitebox'] as const) expect(c[id].status, describeChecks(checks)).toBe('fail');
    expect(c['zero-gradients'].value).toBe(1);
  });

  it('a periodic input layer (period .2): FGSM error falls from ε = .1 to .2, and monotone-eps fires', async () => {
    // cos(2π x / .2) maps x ± .2 to the same features and x ± .1 to their negation.
    const features = linear(3, D, 1);
    const periodic = softmaxTarget((x) => features.apply(tf.cos(tf.mul(x, (2 * Math.PI) / 0.2)) as tf.Tensor2D));
    const { rates, checks } = await battery(periodic, [], { lo: 0.3, hi: 0.7 }, { epsilons: [0.1, 0.2] });
    expect(rates.fgsmCurve[0]).toBeGreaterThan(rates.fgsmCurve[1] + 0.2);
    expect(byId(checks)['monotone-eps'].status, describeChecks(checks)).toBe('fail');
  });

  it('gradients only at the clean inputs (zero one step away): FGSM fools what every iterative attack misses', async () => {
    const x0 = tf.tensor2d(Rng.fromSeed(4).fillUniform(new Float32Array(N * D), 0, 1), [N, D]);
    const atData = withGradient(inner.apply, (dy, x) => {
      const exact = tf.matMul(dy, inner.w, false, true);
      const onData = tf.tile(tf.reshape(tf.all(tf.equal(x, x0), 1), [-1, 1]), [1, D]);
      return tf.where(onData, exact, tf.zerosLike(exact)) as tf.Tensor2D;
    });
    const { rates, checks } = await battery(softmaxTarget(atData), [], box);
    x0.dispose();
    expect(rates.fgsm).toBeGreaterThan(0.05);
    expect(byId(checks)['iterative-beats-single'].status, describeChecks(checks)).toBe('fail');
  });

  it('noisy gradients (each component\'s sign flipped with probability .4): twice the iterations still help, and more-steps-no-change fires', async () => {
    let calls = 0;
    const noisy = withGradient(inner.apply, (dy) => {
      const exact = tf.matMul(dy, inner.w, false, true);
      const flips = tf.sign(tf.sub(tf.randomUniform(exact.shape, 0, 1, 'float32', 1000 + calls++), 0.4));
      return tf.mul(exact, flips) as tf.Tensor2D;
    });
    const { rates, checks } = await battery(softmaxTarget(noisy), [], box, { eps: 0.1, epsilons: [0.05, 0.1] });
    expect(rates.pgdMore).toBeGreaterThan(rates.pgd);
    expect(byId(checks)['more-steps-no-change'].status, describeChecks(checks)).toBe('fail');
  });
});
