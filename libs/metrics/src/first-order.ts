import * as tf from '@tensorflow/tfjs-core';

/**
 * The paper's linear account of FGSM, measured per example (beyond the paper). With the margin
 * m(x) = z_y(x) − z_r(x) between the true class y and the runner-up r at x (held fixed), a model that
 * is linear in x loses exactly ε·‖∇ₓm‖₁ of margin under the step x − ε·sign(∇ₓm), so the runner-up
 * overtakes y for every ε > ε* = m / ‖∇ₓm‖₁. How often a one-step attack succeeds at an ε is then
 * about how often ε* < ε: set by how large margins are against input-gradient norms, not by any
 * nonlinearity. The realized drop over ε·‖∇ₓm‖₁ says how linear the model actually is along that
 * direction (1 = linear). Steps are unclipped, as the paper's FGSM.
 *
 * What this does not measure, by construction: only the runner-up's margin is linearized, so
 * another class that a step would push past y sooner is not counted (the `runnerUp*` errors are
 * lower bounds on the linearized and on the stepped model's error), and the step follows the
 * margin's gradient, not the cross-entropy's as FGSM does (the two agree when the runner-up
 * dominates the other wrong classes). A margin of exactly 0 counts as not flipped. Examples whose
 * margin or gradient is not finite are counted apart (`nonFinite`) and left out of everything else.
 */
export interface FirstOrderExamples {
  /** Per example: m(x) (negative when x is misclassified). */
  margins: Float32Array;
  /** Per example: ‖∇ₓm‖₁. */
  gradientL1: Float32Array;
  /** Per ε, per example: m(x − ε·sign ∇ₓm). */
  marginsAfter: Float32Array[];
}

/**
 * The margins of `scores` on x [n, d] with labels [n], their input-gradient ℓ1 norms, and the margins
 * after a signed step of each ε, in batches of `batchSize` (per batch: a forward pass, a gradient,
 * and |ε| forward passes).
 */
export async function firstOrderExamples(scores: (x: tf.Tensor2D) => tf.Tensor2D, x: tf.Tensor2D, labels: tf.Tensor1D, epsilons: number[], batchSize = 500): Promise<FirstOrderExamples> {
  const [n] = x.shape;
  const margins = new Float32Array(n);
  const gradientL1 = new Float32Array(n);
  const marginsAfter = epsilons.map(() => new Float32Array(n));
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const outputs = tf.tidy(() => {
      const xb = tf.slice(x, [start, 0], [size, -1]) as tf.Tensor2D;
      const z = scores(xb);
      const k = z.shape[1];
      const own = tf.oneHot(tf.cast(tf.slice(labels, [start], [size]), 'int32'), k);
      // The runner-up at x: the highest other score (its one-hot, held fixed along the step).
      const runnerUp = tf.oneHot(tf.argMax(tf.where(tf.cast(own, 'bool'), tf.fill(z.shape, -Infinity), z), 1), k);
      const direction = tf.sub(own, runnerUp);
      const marginOf = (scored: tf.Tensor2D) => tf.sum(tf.mul(scored, direction), 1);
      // Margins are per example, so the gradient of their sum is each example's own.
      const grad = tf.grad((input) => tf.sum(marginOf(scores(input as tf.Tensor2D))))(xb);
      const sign = tf.sign(grad);
      return [marginOf(z), tf.sum(tf.abs(grad), 1), ...epsilons.map((eps) => marginOf(scores(tf.sub(xb, tf.mul(sign, eps)) as tf.Tensor2D)))];
    });
    const values = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
    tf.dispose(outputs);
    margins.set(values[0], start);
    gradientL1.set(values[1], start);
    epsilons.forEach((_, e) => marginsAfter[e].set(values[2 + e], start));
  }
  return { margins, gradientL1, marginsAfter };
}

export interface FirstOrderSummary {
  /** Examples whose margin or gradient norm is not finite: left out of every statistic below. */
  nonFinite: number;
  /** Over correctly classified examples (m > 0): the median margin, ‖∇ₓm‖₁ and ε* = m / ‖∇ₓm‖₁ (∞ for a zero gradient). */
  medianMargin: number;
  medianGradientL1: number;
  medianEpsStar: number;
  /**
   * Per ε, over the finite examples: how often the runner-up overtakes y in the linearized model
   * (m − ε‖∇m‖₁ < 0) and after the step (m after the step < 0). Lower bounds on the error of each.
   */
  runnerUpLinearError: number[];
  runnerUpStepError: number[];
  /** Per ε, over correctly classified examples with a nonzero gradient: the median realized margin drop over ε·‖∇ₓm‖₁. */
  medianDropRatio: number[];
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function summarizeFirstOrder(examples: FirstOrderExamples, epsilons: number[]): FirstOrderSummary {
  const { margins, gradientL1, marginsAfter } = examples;
  const all = Array.from({ length: margins.length }, (_, i) => i);
  const finite = all.filter((i) => Number.isFinite(margins[i]) && Number.isFinite(gradientL1[i]));
  const correct = finite.filter((i) => margins[i] > 0);
  const moved = correct.filter((i) => gradientL1[i] > 0);
  const rate = (flipped: (i: number) => boolean) => (finite.length ? finite.filter(flipped).length / finite.length : NaN);
  return {
    nonFinite: all.length - finite.length,
    medianMargin: median(correct.map((i) => margins[i])),
    medianGradientL1: median(correct.map((i) => gradientL1[i])),
    medianEpsStar: median(correct.map((i) => (gradientL1[i] > 0 ? margins[i] / gradientL1[i] : Infinity))),
    runnerUpLinearError: epsilons.map((eps) => rate((i) => margins[i] - eps * gradientL1[i] < 0)),
    runnerUpStepError: marginsAfter.map((after) => rate((i) => after[i] < 0)),
    medianDropRatio: epsilons.map((eps, e) => median(moved.map((i) => (margins[i] - marginsAfter[e][i]) / (eps * gradientL1[i])))),
  };
}

/** The metric a first-order unit reports for one ε ("runner_up_step_error_eps_0.25"): one name for the handler and the claims that read it. */
export const firstOrderMetric = (metric: 'runner_up_linear_error' | 'runner_up_step_error' | 'median_drop_ratio', eps: number): string => `${metric}_eps_${eps}`;
