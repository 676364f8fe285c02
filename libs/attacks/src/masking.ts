/**
 * The measurements behind the gradient-masking checks (libs/metrics, masking-checks.ts): on one
 * batch, which rows each of a fixed set of attacks misclassifies, reduced to per-batch counts so a
 * caller sums them over a split without reading anything back per batch.
 *
 * Why these (Carlini et al. 2019, "On evaluating adversarial robustness"; Athalye et al. 2018): a net
 * that masks its gradients rather than being robust shows it as FGSM error falling with ε, one-step
 * attacks fooling rows iterative ones miss, an unbounded attack short of 100%, black-box examples
 * beating white-box ones, more iterations still helping, or exactly-zero input gradients (the
 * transfer check needs other models: the caller judges this one on their FGSM and PGD examples). Every attack is the catalogue's curve setting: in the box [clipMin, clipMax], iterative
 * steps of 2.5 ε / steps (Madry et al.), the true labels.
 *
 *   const counts = maskingProbes(target, x, labels, { eps: 0.25, epsilons: [0.1, 0.25], steps: 20, queries: 300, imageShape: [28, 28, 1], rng });
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import type { MaskingMeasurements } from '@advx/metrics';
import { apgdCe } from './apgd.js';
import { fgsm } from './fgsm.js';
import { bim, pgd } from './iterative.js';
import { square } from './square.js';
import type { AttackTarget } from './types.js';

export interface MaskingProbeOptions {
  /** The ε of the per-example comparisons. */
  eps: number;
  /** The grid of the ε-monotonicity check (FGSM and PGD at each). */
  epsilons: number[];
  /** PGD, BIM and APGD-CE iterations; the "more" runs use twice as many (PGD at the same step size) and two restarts. */
  steps: number;
  /** Square's queries per example. */
  queries: number;
  /** [h, w, c] of a row, for Square's squares. */
  imageShape: [number, number, number];
  clipMin?: number;
  clipMax?: number;
  /** Randomised attacks draw from it in a fixed order, so a batch's counts repeat for its seed. */
  rng: Rng;
}

/** Per-batch counts of misclassified rows (float32 scalars), except `zeroGradient`: rows whose ∇ₓJ is exactly 0. */
export interface MaskingCounts {
  /** FGSM and PGD at each of `epsilons`, in order. */
  fgsmCurve: tf.Scalar[];
  pgdCurve: tf.Scalar[];
  fgsm: tf.Scalar;
  bim: tf.Scalar;
  pgd: tf.Scalar;
  apgd: tf.Scalar;
  /** Rows FGSM misclassifies and none of BIM, PGD and APGD-CE does. */
  fgsmOnly: tf.Scalar;
  square: tf.Scalar;
  /** PGD and APGD-CE with twice the iterations and two restarts (a row counts if either restart fools it). */
  pgdMore: tf.Scalar;
  apgdMore: tf.Scalar;
  /** PGD at ε = the whole box (clipMax − clipMin). */
  unbounded: tf.Scalar;
  zeroGradient: tf.Scalar;
}

/** The probes on one batch; run inside the caller's tf.tidy (every tensor but the counts is freed here). */
export function maskingProbes(target: AttackTarget, x: tf.Tensor2D, labels: tf.Tensor1D, options: MaskingProbeOptions): MaskingCounts {
  const { eps, steps, rng, clipMin = 0, clipMax = 1 } = options;
  if (!(steps >= 1) || !Number.isInteger(steps)) throw new Error(`steps must be a positive integer, got ${steps}`);
  const box = { clipMin, clipMax, labels };
  const iterative = (e: number, n = steps) => ({ ...box, eps: e, steps: n, stepSize: (2.5 * e) / n });
  const wrong = (input: tf.Tensor2D) => tf.tidy(() => tf.notEqual(target.predict(target.scores(input)), labels));
  const count = (rows: tf.Tensor) => tf.tidy(() => tf.sum(tf.cast(rows, 'float32')) as tf.Scalar);
  if (!Number.isFinite(clipMax - clipMin)) throw new Error('the masking probes need a bounded input box (clipMin, clipMax): the unbounded attack spans it');

  return tf.tidy(() => {
    // FGSM draws nothing from `rng`, so computing it first leaves every random draw where it was.
    const fgsmWrong = wrong(fgsm(target, x, { ...box, eps }));
    const fgsmCurve = options.epsilons.map((e) => count(e === eps ? fgsmWrong : wrong(fgsm(target, x, { ...box, eps: e }))));
    const pgdCurve = options.epsilons.map((e) => count(wrong(pgd(target, x, { ...iterative(e), rng }))));
    const bimWrong = wrong(bim(target, x, iterative(eps)));
    const pgdWrong = wrong(pgd(target, x, { ...iterative(eps), rng }));
    const apgdWrong = wrong(apgdCe(target, x, { ...box, eps, steps, restarts: 1, rng }));
    const iterativeWrong = tf.logicalOr(tf.logicalOr(bimWrong, pgdWrong), apgdWrong);
    // Twice the iterations at the same step size (so the path is twice as long), from two random starts.
    const more = { ...iterative(eps), steps: 2 * steps, rng };
    const pgdMoreWrong = tf.logicalOr(wrong(pgd(target, x, more)), wrong(pgd(target, x, more)));
    const apgdMoreWrong = wrong(apgdCe(target, x, { ...box, eps, steps: 2 * steps, restarts: 2, rng }));
    const grad = tf.grad((input) => tf.sum(target.exampleLosses(target.scores(input as tf.Tensor2D), target.targets(labels))))(x);
    return {
      fgsmCurve,
      pgdCurve,
      fgsm: count(fgsmWrong),
      bim: count(bimWrong),
      pgd: count(pgdWrong),
      apgd: count(apgdWrong),
      fgsmOnly: count(tf.logicalAnd(fgsmWrong, tf.logicalNot(iterativeWrong))),
      square: count(wrong(square(target, x, { ...box, eps, queries: options.queries, imageShape: options.imageShape, rng }))),
      pgdMore: count(pgdMoreWrong),
      apgdMore: count(apgdMoreWrong),
      unbounded: count(wrong(pgd(target, x, { ...iterative(clipMax - clipMin), rng }))),
      zeroGradient: count(tf.all(tf.equal(grad, 0), 1)),
    };
  });
}

/**
 * The probes' rates over a split: fractions of `count` examples, in the shape the checks read
 * (@advx/metrics maskingChecks), all but the transfer rates, which need other models.
 */
export type MaskingRates = Omit<MaskingMeasurements, 'transfers'>;

const SCALARS = ['fgsm', 'bim', 'pgd', 'apgd', 'fgsmOnly', 'square', 'pgdMore', 'apgdMore', 'unbounded', 'zeroGradient'] as const;

/**
 * Sums the probes' counts batch by batch on the device (one vector, in a fixed order) and reads them
 * back once, in `result()`, as rates.
 */
export class MaskingAccumulator {
  // kept so that creating or adding inside a caller's tf.tidy does not free the running sums.
  private sums: tf.Tensor1D | null = null;
  private count = 0;

  constructor(private readonly options: Pick<MaskingProbeOptions, 'eps' | 'epsilons'>) {}

  add(counts: MaskingCounts, rows: number): void {
    const next = tf.tidy(() => {
      const batch = tf.stack([...counts.fgsmCurve, ...counts.pgdCurve, ...SCALARS.map((name) => counts[name])]) as tf.Tensor1D;
      return this.sums ? (tf.add(this.sums, batch) as tf.Tensor1D) : batch;
    });
    this.sums?.dispose();
    this.sums = tf.keep(next);
    this.count += rows;
  }

  async result(): Promise<MaskingRates> {
    const { eps, epsilons } = this.options;
    const rates = this.sums ? Array.from(await this.sums.data(), (v) => v / this.count) : [];
    let at = 0;
    const take = (n: number) => rates.slice(at, (at += n));
    const fgsmCurve = take(epsilons.length);
    const pgdCurve = take(epsilons.length);
    const scalars = Object.fromEntries(SCALARS.map((name) => [name, take(1)[0] ?? NaN])) as Record<(typeof SCALARS)[number], number>;
    return { count: this.count, eps, epsilons, fgsmCurve, pgdCurve, ...scalars };
  }

  dispose(): void {
    this.sums?.dispose();
  }
}
