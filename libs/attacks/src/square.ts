/**
 * Square attack, L∞ — Andriushchenko et al., "Square Attack: a query-efficient black-box adversarial
 * attack via random search", ECCV 2020 (Algorithm 1), with the schedule of the authors' AutoAttack
 * code (fra31/auto-attack, square.py): it reads only the model's scores, never a gradient, so a net
 * that masks its gradients is attacked as well as any other (a black-box attack that beats the
 * white-box ones is the sign of masking).
 * - start: x + ε · (a random sign per image column and channel, the same down the column);
 * - each step: in every example still classified correctly, one random square of side
 *   s = round(√(p · h · w)) gets a fresh random sign ±ε per channel; kept where the margin
 *   (score of the true class − the best other score) falls; p halves on AutoAttack's schedule.
 * Unlike the authors' code, a square that would not change the image is not redrawn (on MNIST's
 * black background, a −ε square changes nothing after clipping, so some queries are wasted).
 *
 * Distance: L∞. Input range: [clipMin, clipMax], default [0, 1]. Shapes: x [n, h·w·c] (row-major
 * h, w, c) → [n, h·w·c]. Untargeted only.
 *
 *   const xAdv = square(target, x, { eps: 0.25, queries: 1000, imageShape: [28, 28, 1], rng: Rng.fromSeed(1) });
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import { attackLabels, checkLinfOptions, clipToRange, selectRows } from './gradient.js';
import type { AttackTarget, LinfOptions } from './types.js';

export interface SquareOptions extends Omit<LinfOptions, 'targeted'> {
  /** Model queries per example, the first (the start) included. */
  queries: number;
  /** [height, width, channels] of each flattened row. */
  imageShape: [number, number, number];
  /** Initial fraction of the image a square covers (.8 for L∞ in AutoAttack). */
  pInit?: number;
  rng: Rng;
}

/** AutoAttack's p_selection: the square's area fraction after `step` of `queries` steps. */
export function squareFraction(pInit: number, step: number, queries: number): number {
  const it = Math.floor((step / queries) * 10000);
  const halvings: [number, number][] = [[8000, 512], [6000, 256], [4000, 128], [2000, 64], [1000, 32], [500, 16], [200, 8], [50, 4], [10, 2]];
  for (const [after, divisor] of halvings) if (it > after) return pInit / divisor;
  return pInit;
}

/** Score of the true class minus the best other (negative = misclassified); one output: ±score. */
function margins(scores: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const k = scores.shape[1];
    if (k === 1) return tf.mul(tf.reshape(scores, [-1]), tf.sub(tf.mul(tf.cast(labels, 'float32'), 2), 1)) as tf.Tensor1D;
    const mask = tf.oneHot(tf.cast(labels, 'int32'), k);
    const trueScore = tf.sum(tf.mul(scores, mask), 1);
    const others = tf.max(tf.where(tf.cast(mask, 'bool'), tf.fill(scores.shape, -Infinity), scores), 1);
    return tf.sub(trueScore, others) as tf.Tensor1D;
  });
}

export function square(model: AttackTarget, x: tf.Tensor2D, options: SquareOptions): tf.Tensor2D {
  checkLinfOptions(options);
  const { eps, queries, imageShape, pInit = 0.8, clipMin = 0, clipMax = 1, rng } = options;
  const [h, w, c] = imageShape;
  const [n, d] = x.shape;
  if (h * w * c !== d) throw new Error(`imageShape ${h}×${w}×${c} does not match rows of ${d} values`);
  if (!(queries >= 1) || !Number.isInteger(queries)) throw new Error(`queries must be a positive integer, got ${queries}`);

  const stripes = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const signs = Array.from({ length: w * c }, () => (rng.uniform() < 0.5 ? -eps : eps));
    for (let r = 0; r < h; r++) for (let j = 0; j < w * c; j++) stripes[i * d + r * w * c + j] = signs[j];
  }
  const labels = tf.tidy(() => tf.clone(attackLabels(model, x, options)));
  let best = tf.tidy(() => clipToRange(tf.add(x, tf.tensor2d(stripes, [n, d])), clipMin, clipMax));
  let bestMargin = tf.tidy(() => margins(model.scores(best), labels));
  const window = new Float32Array(n * d);
  const values = new Float32Array(n * d);
  try {
    for (let step = 1; step < queries; step++) {
      const side = Math.min(Math.max(Math.round(Math.sqrt(squareFraction(pInit, step, queries) * h * w)), 1), h - 1);
      // The squares are drawn in JS from the seeded stream (identical across backends) and sent as two
      // n×d arrays per query: 2 × 4·n·d bytes, small beside the model's forward pass at MNIST sizes; a
      // bigger input would build the window from per-row corners on the device instead.
      window.fill(0);
      for (let i = 0; i < n; i++) {
        const top = rng.int(h - side + 1);
        const left = rng.int(w - side + 1);
        const signs = Array.from({ length: c }, () => (rng.uniform() < 0.5 ? -eps : eps));
        for (let r = top; r < top + side; r++)
          for (let col = left; col < left + side; col++)
            for (let ch = 0; ch < c; ch++) {
              const at = i * d + (r * w + col) * c + ch;
              window[at] = 1;
              values[at] = signs[ch];
            }
      }
      const [nextBest, nextMargin] = tf.tidy(() => {
        const inWindow = tf.tensor2d(window, [n, d]);
        // The candidate is the best point so far with the square set to x ± ε.
        const candidate = clipToRange(tf.add(tf.mul(best, tf.sub(1, inWindow)), tf.mul(tf.add(x, tf.tensor2d(values, [n, d])), inWindow)), clipMin, clipMax);
        const margin = margins(model.scores(candidate), labels);
        // Examples already misclassified stop moving (their queries are not spent in the authors' code).
        const accept = tf.logicalAnd(tf.less(margin, bestMargin), tf.greater(bestMargin, 0));
        return [selectRows(accept as tf.Tensor1D, candidate, best), tf.where(accept, margin, bestMargin) as tf.Tensor1D];
      });
      tf.dispose([best, bestMargin]);
      best = nextBest;
      bestMargin = nextMargin;
    }
    return best;
  } finally {
    tf.dispose([bestMargin, labels]);
  }
}
