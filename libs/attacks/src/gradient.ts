import * as tf from '@tensorflow/tfjs-core';
import type { AttackTarget, LinfOptions } from './types.js';

/**
 * Shared pieces of every L∞ gradient attack (as in cleverhans' compute_gradient / optimize_linear):
 * FGSM, BIM and PGD differ only in how they loop over these.
 */

/** Labels the attack works against: given ones, or the model's predictions on the clean input. */
export function attackLabels(model: AttackTarget, x: tf.Tensor2D, options: LinfOptions): tf.Tensor1D {
  if (options.labels) return options.labels;
  if (options.targeted) throw new Error('a targeted attack needs `labels` (the target classes)');
  return tf.tidy(() => model.predict(model.scores(x)));
}

/**
 * ∇ₓ J(x, y), negated for targeted attacks so that stepping along it always helps the attacker.
 */
export function lossGradient(model: AttackTarget, x: tf.Tensor2D, targets: tf.Tensor2D, targeted: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const grad = tf.grad((input) => model.loss(model.scores(input as tf.Tensor2D), targets))(x) as tf.Tensor2D;
    return targeted ? tf.neg(grad) : grad;
  });
}

/**
 * sign(x) ∈ {−1, 0, 1}, exact for every nonzero x. tfjs-backend-wasm's Sign kernel returns 0 for
 * |x| below ~1e-7, which would silently shrink FGSM steps where gradients are tiny (confident
 * predictions), so the project never uses tf.sign for perturbations.
 */
export function exactSign<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.sub(tf.cast(tf.greater(x, 0), 'float32'), tf.cast(tf.less(x, 0), 'float32')) as T);
}

/** The optimal L∞ step of size eps against a linearised loss: eps · sign(∇). */
export function linfStep(grad: tf.Tensor2D, eps: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(exactSign(grad), eps));
}

/** Projects `adv` into the L∞ ball of radius eps around x, then into the valid input range. */
export function projectLinf(adv: tf.Tensor2D, x: tf.Tensor2D, eps: number, clipMin?: number, clipMax?: number): tf.Tensor2D {
  return tf.tidy(() => clipToRange(tf.add(x, tf.clipByValue(tf.sub(adv, x), -eps, eps)), clipMin, clipMax));
}

/**
 * Per example (row), `a` where `condition` holds, else `b`. A 1-D condition selects whole rows of a
 * 2-D tensor (tf.where broadcasts only same-shaped conditions in tfjs, hence the tile).
 */
export function selectRows<T extends tf.Tensor>(condition: tf.Tensor1D, a: T, b: T): T {
  return tf.tidy(() => tf.where(a.rank === 2 ? tf.tile(tf.reshape(condition, [-1, 1]), [1, a.shape[1]!]) : condition, a, b) as T);
}

export function clipToRange(x: tf.Tensor2D, clipMin?: number, clipMax?: number): tf.Tensor2D {
  if (clipMin === undefined && clipMax === undefined) return x;
  return tf.clipByValue(x, clipMin ?? -Infinity, clipMax ?? Infinity);
}

export function checkLinfOptions(options: LinfOptions): void {
  if (!(options.eps >= 0) || !Number.isFinite(options.eps)) throw new Error(`eps must be a finite number ≥ 0, got ${options.eps}`);
  if (options.clipMin !== undefined && options.clipMax !== undefined && options.clipMin > options.clipMax) {
    throw new Error(`clipMin (${options.clipMin}) must not exceed clipMax (${options.clipMax})`);
  }
}
