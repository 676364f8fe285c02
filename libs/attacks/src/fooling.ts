/**
 * Fooling images for a chosen class (Goodfellow, Shlens & Szegedy 2015, Appendix A and Fig. 5):
 * draw x ~ N(0, I), add ε·∇ₓ p(y = i | x), and call it a success when the model then assigns class i
 * probability ≥ 0.5 ("at least 50% confidence", Fig. 5). "If we repeat this sampling process until it
 * succeeds, we [have] a randomized algorithm with variable runtime"; the paper reports the per-step
 * success rate (CIFAR-10: 100% for frogs and trucks, 24.7% for airplanes, 75.3% on average).
 *
 * The paper is ambiguous in two places, so both readings are options:
 * - step: the text writes ε∇ₓp(y=i|x) (raw gradient) but Fig. 5's caption says "taking a gradient
 *   sign step in the direction that increases the probability"; default 'sign' (ε then has the same
 *   L∞ meaning as in FGSM), 'gradient' for the literal formula.
 * - mode: 'resample' (default) reads "repeat this sampling process" literally: every step is a fresh
 *   Gaussian sample plus ONE step, so steps are independent trials and the per-step success rate is the
 *   paper's number. 'iterate' keeps stepping from the same sample (x ← x + ε·step) until it succeeds.
 *
 * All samples of all classes form one [classes · samplesPerClass, d] batch per step; nothing is read
 * back until the loop ends. Shapes: inputs are flattened rows, as everywhere in advx.
 *
 *   const run = await foolingRun(classifier, rng.fork('fooling'), { classes: [0, 1, 2], samplesPerClass: 100, eps: 0.1, maxSteps: 10, inputSize: 3072 });
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import type { ScoresFn } from './types.js';
import { exactSign } from './gradient.js';

/** What the fooling search needs of a model: scores and the head's per-class probabilities. */
export interface FoolingTarget {
  scores: ScoresFn;
  probabilities(scores: tf.Tensor2D): tf.Tensor2D;
}

export interface FoolingOptions {
  /** Target classes i (indices into the model's outputs). */
  classes: number[];
  samplesPerClass: number;
  eps: number;
  /** Steps per sample: independent trials ('resample') or iterations ('iterate'). */
  maxSteps: number;
  inputSize: number;
  /** Clip every stepped x into [min, max]; default null (App. A's Gaussian samples are unclipped). */
  clip?: [number, number] | null;
  /** 'sign' (default): x + ε·sign(∇ₓp); 'gradient': x + ε·∇ₓp. */
  step?: 'sign' | 'gradient';
  /** 'resample' (default): a fresh N(0, I) sample every step; 'iterate': keep stepping the same sample. */
  mode?: 'resample' | 'iterate';
  /** Success when p(y = i | x) ≥ threshold (default 0.5); 'argmax' instead requires argmax p = i. */
  success?: { kind: 'probability'; threshold: number } | { kind: 'argmax' };
  /** Standard deviation of the Gaussian start (default 1: N(0, I)). */
  std?: number;
}

export interface FoolingResult {
  classes: number[];
  /** Per class: fraction of its samples that reached class i within maxSteps. */
  successRateByClass: number[];
  /**
   * Per class: the success rate of a single step. 'resample': successes over all samples × maxSteps
   * independent trials (every trial is run, also after a sample's first success): the paper's
   * "per-step success rate". 'iterate': the fraction that succeeded at step 1.
   */
  perStepSuccessRateByClass: number[];
  /** Per class, per sample: the 1-based step of the first success, or -1 if none within maxSteps. */
  stepsToSuccess: number[][];
  /**
   * One example per class, row-major [classes.length · inputSize], for a Fig. 5-style grid: the
   * first successful sample's image at its first success, or sample 0's last image if none succeeded.
   */
  examples: Float32Array;
  /** Whether each class's example in `examples` fooled the model. */
  exampleSucceeded: boolean[];
}

export async function foolingRun(model: FoolingTarget, rng: Rng, options: FoolingOptions): Promise<FoolingResult> {
  const { classes, samplesPerClass, eps, maxSteps, inputSize, clip = null, step = 'sign', mode = 'resample', success = { kind: 'probability', threshold: 0.5 }, std = 1 } = options;
  if (classes.length === 0 || !classes.every((c) => Number.isInteger(c) && c >= 0)) throw new Error(`classes must be non-empty non-negative integers, got [${classes}]`);
  for (const [name, v] of Object.entries({ samplesPerClass, maxSteps, inputSize })) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name} must be a positive integer, got ${v}`);
  }
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`eps must be a finite number ≥ 0, got ${eps}`);
  if (clip && !(clip[0] <= clip[1])) throw new Error(`clip [${clip}] must have min ≤ max`);

  const n = classes.length * samplesPerClass;
  const rowClass = Int32Array.from({ length: n }, (_, r) => classes[Math.floor(r / samplesPerClass)]);
  const gaussian = () => tf.tensor2d(rng.fillNormal(new Float32Array(n * inputSize), 0, std), [n, inputSize]);

  const targetClass = tf.tensor1d(rowClass, 'int32');
  let outputs = -1;
  // Device-side state: the first successful step per row (0 = none yet), successes summed over steps,
  // the kept image per row, and (iterate mode) the current point.
  let firstStep: tf.Tensor1D = tf.zeros([n]);
  let successes: tf.Tensor1D = tf.zeros([n]);
  let kept: tf.Tensor2D = tf.zeros([n, inputSize]);
  let current: tf.Tensor2D | null = mode === 'iterate' ? gaussian() : null;
  try {
    for (let s = 1; s <= maxSteps; s++) {
      const start = current ?? gaussian();
      const next = tf.tidy(() => {
        const probabilityOfTarget = (x: tf.Tensor2D) => {
          const p = model.probabilities(model.scores(x));
          if (outputs < 0) outputs = p.shape[1];
          return tf.sum(tf.mul(p, tf.oneHot(targetClass, p.shape[1])), 1);
        };
        // Rows are independent, so the gradient of the summed target probabilities is each row's own ∇ₓ p(y = i | x).
        const grad = tf.grad((x) => tf.sum(probabilityOfTarget(x as tf.Tensor2D)))(start) as tf.Tensor2D;
        let x = tf.add(start, tf.mul(step === 'sign' ? exactSign(grad) : grad, eps)) as tf.Tensor2D;
        if (clip) x = tf.clipByValue(x, clip[0], clip[1]);
        const p = model.probabilities(model.scores(x));
        const hit =
          success.kind === 'argmax'
            ? tf.equal(tf.argMax(p, 1), targetClass)
            : tf.greaterEqual(tf.sum(tf.mul(p, tf.oneHot(targetClass, p.shape[1])), 1), success.threshold);
        const hitF = tf.cast(hit, 'float32') as tf.Tensor1D;
        const done = tf.greater(firstStep, 0);
        const doneColumn = tf.reshape(done, [n, 1]);
        return {
          firstStep: tf.where(tf.logicalAnd(hit, tf.logicalNot(done)), tf.fill([n], s), firstStep) as tf.Tensor1D,
          successes: tf.add(successes, hitF) as tf.Tensor1D,
          kept: tf.where(doneColumn, kept, x) as tf.Tensor2D,
        };
      });
      if (start !== current) start.dispose();
      firstStep.dispose();
      successes.dispose();
      kept.dispose();
      ({ firstStep, successes, kept } = next);
      if (current) {
        // Iterate: rows that have succeeded stay frozen at their first successful image.
        current.dispose();
        current = tf.clone(kept);
      }
    }
    if (classes.some((c) => c >= outputs)) throw new Error(`classes [${classes}] out of range for a model with ${outputs} outputs`);

    const [first, count] = await Promise.all([firstStep.data(), successes.data()]);
    const successRateByClass: number[] = [];
    const perStepSuccessRateByClass: number[] = [];
    const stepsToSuccess: number[][] = [];
    const exampleRows: number[] = [];
    const exampleSucceeded: boolean[] = [];
    classes.forEach((_, k) => {
      const rows = Array.from({ length: samplesPerClass }, (_, j) => k * samplesPerClass + j);
      const steps = rows.map((r) => (first[r] > 0 ? first[r] : -1));
      const succeeded = steps.filter((v) => v > 0).length;
      stepsToSuccess.push(steps);
      successRateByClass.push(succeeded / samplesPerClass);
      perStepSuccessRateByClass.push(
        mode === 'resample' ? rows.reduce((a, r) => a + count[r], 0) / (samplesPerClass * maxSteps) : steps.filter((v) => v === 1).length / samplesPerClass,
      );
      const winner = rows.find((r) => first[r] > 0);
      exampleRows.push(winner ?? rows[0]);
      exampleSucceeded.push(winner !== undefined);
    });
    const picked = tf.tidy(() => tf.gather(kept, tf.tensor1d(exampleRows, 'int32')));
    const examples = (await picked.data()) as Float32Array;
    picked.dispose();
    return { classes: [...classes], successRateByClass, perStepSuccessRateByClass, stepsToSuccess, examples, exampleSucceeded };
  } finally {
    tf.dispose([targetClass, firstStep, successes, kept]);
    current?.dispose();
  }
}
