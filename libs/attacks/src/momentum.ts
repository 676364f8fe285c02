/**
 * Momentum iterative FGSM — Dong et al., "Boosting Adversarial Attacks with Momentum", CVPR 2018,
 * Algorithm 1:
 *   g₀ = 0,   g_{t+1} = μ g_t + ∇ₓJ(x_t, y) / ‖∇ₓJ(x_t, y)‖₁,   x_{t+1} = clip_{x,ε}(x_t + α sign(g_{t+1}))
 * with α = ε / T by default, so T steps can just reach the ball's surface. The L1 norm is per example.
 *
 * Distance: L∞. Input range: [clipMin, clipMax], default [0, 1]. Shapes: x [n, d] → [n, d].
 *
 *   const xAdv = miFgsm(target, x, { eps: 0.25, steps: 10, decay: 1 });
 */
import * as tf from '@tensorflow/tfjs-core';
import { attackLabels, checkLinfOptions, linfStep, lossGradient, projectLinf } from './gradient.js';
import type { AttackTarget, LinfOptions } from './types.js';

export interface MomentumOptions extends LinfOptions {
  steps: number;
  /** μ, the decay of the accumulated gradient (1 in the paper). */
  decay?: number;
  /** α; default ε / steps. */
  stepSize?: number;
}

export function miFgsm(model: AttackTarget, x: tf.Tensor2D, options: MomentumOptions): tf.Tensor2D {
  checkLinfOptions(options);
  const { eps, steps, decay = 1, clipMin = 0, clipMax = 1, targeted = false } = options;
  if (!(steps >= 1) || !Number.isInteger(steps)) throw new Error(`steps must be a positive integer, got ${steps}`);
  if (!(decay >= 0)) throw new Error(`decay must be ≥ 0, got ${decay}`);
  const stepSize = options.stepSize ?? eps / steps;
  const targets = tf.tidy(() => model.targets(attackLabels(model, x, options)));
  let adv = tf.clone(x);
  let momentum: tf.Tensor2D = tf.zerosLike(x);
  try {
    for (let t = 0; t < steps; t++) {
      const [nextAdv, nextMomentum] = tf.tidy(() => {
        const grad = lossGradient(model, adv, targets, targeted);
        // A floor on the norm: an example with a zero gradient keeps its momentum and does not divide by 0.
        const l1 = tf.maximum(tf.sum(tf.abs(grad), 1, true), 1e-12);
        const g = tf.add(tf.mul(momentum, decay), tf.div(grad, l1)) as tf.Tensor2D;
        return [projectLinf(tf.add(adv, linfStep(g, stepSize)), x, eps, clipMin, clipMax), g];
      });
      adv.dispose();
      momentum.dispose();
      adv = nextAdv;
      momentum = nextMomentum;
    }
    return adv;
  } finally {
    momentum.dispose();
    targets.dispose();
  }
}
