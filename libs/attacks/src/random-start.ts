/**
 * Single-step attacks that start from a random point, so a loss surface that is flat (masked) at the
 * clean input cannot hide its slope a little way off.
 *
 * R+FGSM — Tramèr et al., "Ensemble Adversarial Training", ICLR 2018, eq. 7:
 *   x' = x + α · sign(N(0, I)),   x̃ = clip(x' + (ε − α) · sign(∇ₓ' J(x', y)))
 * FGSM with a uniform random start — Wong, Rice & Kolter, "Fast is better than free", ICLR 2020:
 *   δ ~ U(−ε, ε)^d,   δ ← clip_[−ε, ε](δ + α · sign(∇δ J(x + δ, y))),   x̃ = clip(x + δ)   (α = 1.25 ε there)
 *
 * Distance: L∞ (both stay within ε of x). Input range: [clipMin, clipMax], default [0, 1].
 * Shapes: x [n, d] → x̃ [n, d].
 *
 *   const xAdv = rfgsm(target, x, { eps: 0.25, alpha: 0.125, rng: Rng.fromSeed(1) });
 *   const xAdv = fgsmRandomStart(target, x, { eps: 0.25, stepSize: 0.3125, rng: Rng.fromSeed(1) });
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import { attackLabels, checkLinfOptions, clipToRange, linfStep, lossGradient, projectLinf } from './gradient.js';
import type { AttackTarget, LinfOptions } from './types.js';

export interface RfgsmOptions extends LinfOptions {
  /** Size of the random sign step, 0 ≤ α ≤ ε (Tramèr et al. use ε/2). */
  alpha: number;
  rng: Rng;
}

export interface RandomStartFgsmOptions extends LinfOptions {
  /** The gradient step from the random start (Wong et al. use 1.25 ε; then δ is clipped back to ε). */
  stepSize: number;
  rng: Rng;
}

/** ±1 with probability ½ each: sign(N(0, I)) without drawing normals. */
function randomSigns(rng: Rng, size: number): Float32Array {
  return rng.fillUniform(new Float32Array(size)).map((u) => (u < 0.5 ? -1 : 1));
}

export function rfgsm(model: AttackTarget, x: tf.Tensor2D, options: RfgsmOptions): tf.Tensor2D {
  checkLinfOptions(options);
  const { eps, alpha, clipMin = 0, clipMax = 1, targeted = false } = options;
  if (!(alpha >= 0 && alpha <= eps)) throw new Error(`alpha must lie in [0, eps] = [0, ${eps}], got ${alpha}`);
  const signs = randomSigns(options.rng, x.size);
  return tf.tidy(() => {
    // Labels come from the clean input, as for every other attack here.
    const targets = model.targets(attackLabels(model, x, options));
    const start = clipToRange(tf.add(x, tf.mul(tf.tensor2d(signs, x.shape), alpha)), clipMin, clipMax);
    const step = linfStep(lossGradient(model, start, targets, targeted), eps - alpha);
    return clipToRange(tf.add(start, step), clipMin, clipMax);
  });
}

export function fgsmRandomStart(model: AttackTarget, x: tf.Tensor2D, options: RandomStartFgsmOptions): tf.Tensor2D {
  checkLinfOptions(options);
  const { eps, stepSize, clipMin = 0, clipMax = 1, targeted = false } = options;
  if (!(stepSize > 0)) throw new Error(`stepSize must be > 0, got ${stepSize}`);
  const noise = options.rng.fillUniform(new Float32Array(x.size), -eps, eps);
  return tf.tidy(() => {
    const targets = model.targets(attackLabels(model, x, options));
    const start = projectLinf(tf.add(x, tf.tensor2d(noise, x.shape)), x, eps, clipMin, clipMax);
    return projectLinf(tf.add(start, linfStep(lossGradient(model, start, targets, targeted), stepSize)), x, eps, clipMin, clipMax);
  });
}
