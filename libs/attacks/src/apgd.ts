/**
 * APGD-CE — Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of
 * diverse parameter-free attacks", ICML 2020 (Algorithm 1), following the authors' AutoAttack code
 * (fra31/auto-attack, autopgd_base.py, L∞, cross-entropy):
 * - start at a random point with ‖δ‖∞ = ε; step size η = 2ε per example;
 * - x_{k+1} = P(x_k + a (P(x_k + η sign ∇) − x_k) + (1 − a)(x_k − x_{k−1})), a = 1 on the first step, .75 after;
 * - checkpoints after 22% of the iterations, then every 3% less, down to 6%: an example whose loss
 *   rose in at most ρ = 75% of the steps since the last checkpoint, or whose best loss did not
 *   improve when the step was not already halved there, halves η and restarts from its best point;
 * - restarts: each example keeps the first restart that misclassifies it.
 * Returns, per example, the last misclassified iterate of the first successful restart, else the
 * clean input (so "error under APGD" counts exactly the examples some iterate fooled).
 * One difference from the authors' code: the first checkpoint compares the first step's loss with
 * the starting point's (their buffer compares it with an unfilled row).
 *
 * Distance: L∞. Input range: [clipMin, clipMax], default [0, 1]. Shapes: x [n, d] → [n, d].
 *
 *   const xAdv = apgdCe(target, x, { eps: 0.25, steps: 100, restarts: 1, rng: Rng.fromSeed(1) });
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import { attackLabels, checkLinfOptions, exactSign, projectLinf, selectRows as where } from './gradient.js';
import type { AttackTarget, LinfOptions } from './types.js';

export interface ApgdOptions extends Omit<LinfOptions, 'targeted'> {
  steps: number;
  /** Independent random starts; an example keeps the first that fools the model (default 1). */
  restarts?: number;
  /** ρ, the fraction of increasing steps below which η is halved (default .75). */
  rho?: number;
  rng: Rng;
}

/** One run's outcome, per example; `bestLossHistory[k]` is the best loss after step k (k = 0: the start). */
export interface ApgdRun {
  adversarial: tf.Tensor2D;
  fooled: tf.Tensor1D;
  bestLoss: tf.Tensor1D;
  bestLossHistory: tf.Tensor1D[] | null;
}

/** The iterations after which step sizes are checked: AutoAttack's n_iter_2, size_decr and n_iter_min. */
export function apgdCheckpoints(steps: number): number[] {
  const first = Math.max(Math.floor(0.22 * steps), 1);
  const decrease = Math.max(Math.floor(0.03 * steps), 1);
  const minimum = Math.max(Math.floor(0.06 * steps), 1);
  const checkpoints: number[] = [];
  for (let window = first, at = first; at <= steps; window = Math.max(window - decrease, minimum), at += window) checkpoints.push(at);
  return checkpoints;
}

/** Per-example losses, logits and ∇ₓ of their sum, from one forward and one backward pass. */
function lossesAndGradient(model: AttackTarget, x: tf.Tensor2D, targets: tf.Tensor2D): { scores: tf.Tensor2D; losses: tf.Tensor1D; grad: tf.Tensor2D } {
  let kept: [tf.Tensor2D, tf.Tensor1D] | null = null;
  const grad = tf.grad((input) => {
    const scores = model.scores(input as tf.Tensor2D);
    const losses = model.exampleLosses(scores, targets);
    kept = [tf.keep(scores), tf.keep(losses)];
    return tf.sum(losses);
  })(x) as tf.Tensor2D;
  // Kept tensors escape every scope; clones hand them to the caller's tidy, and the originals go.
  const [scores, losses] = kept!;
  const result = { scores: tf.clone(scores), losses: tf.clone(losses), grad };
  tf.dispose([scores, losses]);
  return result;
}

/** One APGD-CE run from a fresh random start. The caller disposes what it returns. */
export function apgdCeRun(model: AttackTarget, x: tf.Tensor2D, labels: tf.Tensor1D, options: ApgdOptions & { trace?: boolean }): ApgdRun {
  const { eps, steps, rho = 0.75, clipMin = 0, clipMax = 1 } = options;
  const n = x.shape[0];
  const noise = options.rng.fillUniform(new Float32Array(x.size), -1, 1);
  // Step k + 1 ends a window at a checkpoint: the window's length scales ρ's count of increases.
  const windowEndingAt = new Map<number, number>(apgdCheckpoints(steps).map((at, i, all) => [at, at - (all[i - 1] ?? 0)]));

  const state = tf.tidy(() => {
    const targets = model.targets(labels);
    const t = tf.tensor2d(noise, x.shape);
    const start = projectLinf(tf.add(x, tf.mul(tf.div(t, tf.add(tf.max(tf.abs(t), 1, true), 1e-12)), eps)), x, eps, clipMin, clipMax);
    const { scores, losses, grad } = lossesAndGradient(model, start, targets);
    return {
      targets,
      current: start,
      previous: start,
      grad,
      best: start,
      bestGrad: grad,
      bestLoss: losses,
      lastLoss: losses,
      lossAtLastCheck: losses,
      halvedAtLastCheck: tf.ones([n]) as tf.Tensor1D,
      increases: tf.zeros([n]) as tf.Tensor1D,
      stepSize: tf.fill([n, 1], 2 * eps) as tf.Tensor2D,
      fooled: tf.notEqual(model.predict(scores), labels) as tf.Tensor1D,
      adversarial: start,
    };
  });
  let s: typeof state = state;
  const history: tf.Tensor1D[] | null = options.trace ? [tf.clone(s.bestLoss)] : null;
  for (let k = 0; k < steps; k++) {
    const windowLength = windowEndingAt.get(k + 1);
    const checkNow = windowLength !== undefined;
    const next = tf.tidy(() => {
      const a = k > 0 ? 0.75 : 1;
      const z = projectLinf(tf.add(s.current, tf.mul(exactSign(s.grad), s.stepSize)), x, eps, clipMin, clipMax);
      const moved = projectLinf(tf.add(tf.add(s.current, tf.mul(tf.sub(z, s.current), a)), tf.mul(tf.sub(s.current, s.previous), 1 - a)), x, eps, clipMin, clipMax);
      const { scores, losses, grad } = lossesAndGradient(model, moved, s.targets);
      const wrong = tf.notEqual(model.predict(scores), labels) as tf.Tensor1D;
      const improved = tf.greater(losses, s.bestLoss) as tf.Tensor1D;
      const bestLoss = where(improved, losses, s.bestLoss);
      const best = where(improved, moved, s.best);
      const bestGrad = where(improved, grad, s.bestGrad);
      const increases = tf.add(s.increases, tf.cast(tf.greater(losses, s.lastLoss), 'float32')) as tf.Tensor1D;
      const common = {
        targets: tf.clone(s.targets),
        previous: s.current.clone(),
        best,
        bestGrad,
        bestLoss,
        lastLoss: losses,
        fooled: tf.logicalOr(s.fooled, wrong) as tf.Tensor1D,
        adversarial: where(wrong, moved, s.adversarial),
      };
      if (!checkNow) return { ...common, current: moved, grad, increases, stepSize: tf.clone(s.stepSize), lossAtLastCheck: tf.clone(s.lossAtLastCheck), halvedAtLastCheck: tf.clone(s.halvedAtLastCheck) };
      const oscillating = tf.lessEqual(increases, windowLength * rho);
      const stalled = tf.logicalAnd(tf.equal(s.halvedAtLastCheck, 0), tf.greaterEqual(s.lossAtLastCheck, bestLoss));
      const halve = tf.logicalOr(oscillating, stalled) as tf.Tensor1D;
      return {
        ...common,
        current: where(halve, best, moved),
        grad: where(halve, bestGrad, grad),
        increases: tf.zeros([n]) as tf.Tensor1D,
        stepSize: where(halve, tf.div(s.stepSize, 2), s.stepSize) as tf.Tensor2D,
        lossAtLastCheck: tf.clone(bestLoss),
        halvedAtLastCheck: tf.cast(halve, 'float32') as tf.Tensor1D,
      };
    });
    tf.dispose(Object.values(s));
    s = next;
    history?.push(tf.clone(s.bestLoss));
  }
  const { adversarial, fooled, bestLoss, ...rest } = s;
  tf.dispose(Object.values(rest));
  return { adversarial, fooled, bestLoss, bestLossHistory: history };
}

export function apgdCe(model: AttackTarget, x: tf.Tensor2D, options: ApgdOptions): tf.Tensor2D {
  checkLinfOptions(options);
  if (!(options.steps >= 1) || !Number.isInteger(options.steps)) throw new Error(`steps must be a positive integer, got ${options.steps}`);
  const restarts = options.restarts ?? 1;
  if (!(restarts >= 1) || !Number.isInteger(restarts)) throw new Error(`restarts must be a positive integer, got ${restarts}`);
  const labels = tf.tidy(() => tf.clone(attackLabels(model, x, options)));
  let adversarial = tf.clone(x);
  let fooled = tf.tidy(() => tf.notEqual(model.predict(model.scores(x)), labels) as tf.Tensor1D);
  try {
    for (let r = 0; r < restarts; r++) {
      const run = apgdCeRun(model, x, labels, options);
      const [nextAdversarial, nextFooled] = tf.tidy(() => {
        const fresh = tf.logicalAnd(run.fooled, tf.logicalNot(fooled)) as tf.Tensor1D;
        return [where(fresh, run.adversarial, adversarial), tf.logicalOr(fooled, run.fooled) as tf.Tensor1D];
      });
      tf.dispose([run.adversarial, run.fooled, run.bestLoss, adversarial, fooled]);
      adversarial = nextAdversarial;
      fooled = nextFooled;
    }
    return adversarial;
  } finally {
    tf.dispose([fooled, labels]);
  }
}
