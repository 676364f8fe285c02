/**
 * Basic iterative method (Kurakin et al. 2017) and projected gradient descent (Madry et al. 2018):
 * repeated FGSM steps of size `stepSize`, each projected back into the L∞ ε-ball around x and the
 * input range. PGD starts from a uniformly random point in the ball; BIM starts at x.
 *
 * Distance: L∞. Input range: [clipMin, clipMax], default [0, 1]. Shapes: x [n, d] → [n, d].
 *
 *   const xAdv = pgd(target, x, { eps: 0.25, stepSize: 0.01, steps: 40, rng: Rng.fromSeed(1) });
 *   const xAdv = bim(target, x, { eps: 0.25, stepSize: 0.01, steps: 40 });
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import { attackLabels, checkLinfOptions, linfStep, lossGradient, projectLinf } from './gradient.js';
import type { AttackTarget, LinfOptions } from './types.js';

export interface IterativeOptions extends LinfOptions {
  stepSize: number;
  steps: number;
}

export interface PgdOptions extends IterativeOptions {
  /** Source of the random start (our seeded PRNG, so runs repeat exactly). */
  rng: Rng;
}

function iterate(model: AttackTarget, x: tf.Tensor2D, start: tf.Tensor2D, options: IterativeOptions): tf.Tensor2D {
  checkLinfOptions(options);
  if (!(options.steps >= 1) || !Number.isInteger(options.steps)) throw new Error(`steps must be a positive integer, got ${options.steps}`);
  if (!(options.stepSize > 0)) throw new Error(`stepSize must be > 0, got ${options.stepSize}`);
  const { eps, clipMin = 0, clipMax = 1, targeted = false } = options;
  // Labels are fixed from the clean input so later steps cannot drift to a label already flipped.
  const targets = tf.tidy(() => model.targets(attackLabels(model, x, options)));
  let adv = tf.clone(start);
  for (let i = 0; i < options.steps; i++) {
    const next = tf.tidy(() => {
      const step = linfStep(lossGradient(model, adv, targets, targeted), options.stepSize);
      return projectLinf(tf.add(adv, step), x, eps, clipMin, clipMax);
    });
    adv.dispose();
    adv = next;
  }
  targets.dispose();
  return adv;
}

export function bim(model: AttackTarget, x: tf.Tensor2D, options: IterativeOptions): tf.Tensor2D {
  return iterate(model, x, x, options);
}

export function pgd(model: AttackTarget, x: tf.Tensor2D, options: PgdOptions): tf.Tensor2D {
  // Checked before the random start is drawn: a negative eps would otherwise fail inside tf.clipByValue.
  checkLinfOptions(options);
  const { eps, clipMin = 0, clipMax = 1 } = options;
  const noise = options.rng.fillUniform(new Float32Array(x.size), -eps, eps);
  const start = tf.tidy(() => projectLinf(tf.add(x, tf.tensor2d(noise, x.shape)), x, eps, clipMin, clipMax));
  try {
    return iterate(model, x, start, options);
  } finally {
    start.dispose();
  }
}
