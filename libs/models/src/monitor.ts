/**
 * A catastrophic-overfitting monitor for FGSM adversarial training (Wong, Rice & Kolter, "Fast is
 * better than free", ICLR 2020, §5): after each epoch, PGD on a fixed batch of training examples.
 * FGSM training can abruptly learn to defeat its own single step while PGD accuracy falls to ~0 in
 * an epoch; FGSM training accuracy stays high, so only a multi-step attack on the same examples
 * sees it. The reading is of the inference (dropout-free) net, as a robustness evaluation would
 * see it, and draws its random start from its own stream, so it changes nothing about training.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import { pgd } from '@advx/attacks';
import { asAttackTarget } from './attack-target.js';
import type { Classifier } from './classifier.js';

/** PGD (Madry et al.) from a uniform random start, with the true labels, on the first `examples` training examples. */
export interface PgdMonitor {
  kind: 'pgd';
  eps: number;
  steps: number;
  stepSize: number;
  /** How many of the training set's first examples, the same every epoch (fewer if the set is smaller). */
  examples: number;
  /** Clip to the pixel range [0, 1] (robustness evaluations do; the paper's training objective does not). */
  clip: boolean;
}

/** One epoch's reading, fractions of the monitor batch. */
export interface MonitorReading {
  cleanAccuracy: number;
  /** 1 − PGD error: Wong et al.'s signal (it collapses under catastrophic overfitting). */
  pgdAccuracy: number;
}

export function checkMonitor(monitor: PgdMonitor): void {
  if (!(Number.isInteger(monitor.examples) && monitor.examples >= 1)) throw new Error(`monitor.examples must be a positive integer, got ${monitor.examples}`);
}

/**
 * The reading on the first `monitor.examples` rows of `images`/`labels`. One batch, one read-back:
 * it runs between epochs, never inside the training loop.
 */
export async function readMonitor(model: Classifier, images: tf.Tensor2D, labels: tf.Tensor1D, monitor: PgdMonitor, rng: Rng): Promise<MonitorReading> {
  const count = Math.min(monitor.examples, images.shape[0]);
  const range = monitor.clip ? { clipMin: 0, clipMax: 1 } : { clipMin: -Infinity, clipMax: Infinity };
  const target = asAttackTarget(model);
  const correct = tf.tidy(() => {
    const x = tf.slice(images, [0, 0], [count, -1]) as tf.Tensor2D;
    const y = tf.slice(labels, [0], [count]) as tf.Tensor1D;
    const xAdv = pgd(target, x, { eps: monitor.eps, steps: monitor.steps, stepSize: monitor.stepSize, labels: y, rng, ...range });
    const right = (input: tf.Tensor2D) => tf.sum(tf.cast(tf.equal(model.predict(model.scores(input)), y), 'float32'));
    return tf.stack([right(x), right(xAdv)]);
  });
  const [clean, adversarial] = await correct.data();
  correct.dispose();
  return { cleanAccuracy: clean / count, pgdAccuracy: adversarial / count };
}
