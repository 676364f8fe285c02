/**
 * Fast gradient sign method — Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial
 * Examples", ICLR 2015, §4: x̃ = clip(x + ε · sign(∇ₓ J(θ, x, y))).
 *
 * Distance: L∞ (each input moves by at most ε). Input range: [clipMin, clipMax], default [0, 1].
 * Shapes: x [n, d] → x̃ [n, d]; labels [n] (integers).
 *
 *   const xAdv = fgsm(asAttackTarget(model), x, { eps: 0.25 });          // untargeted, no label leak
 *   const xAdv = fgsm(target, x, { eps: 0.1, labels: wanted, targeted: true });
 */
import * as tf from '@tensorflow/tfjs-core';
import { attackLabels, checkLinfOptions, clipToRange, linfStep, lossGradient } from './gradient.js';
import type { AttackTarget, LinfOptions } from './types.js';

export function fgsm(model: AttackTarget, x: tf.Tensor2D, options: LinfOptions): tf.Tensor2D {
  checkLinfOptions(options);
  const { eps, clipMin = 0, clipMax = 1, targeted = false } = options;
  return tf.tidy(() => {
    const targets = model.targets(attackLabels(model, x, options));
    const step = linfStep(lossGradient(model, x, targets, targeted), eps);
    return clipToRange(tf.add(x, step), clipMin, clipMax);
  });
}
