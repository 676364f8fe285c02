/**
 * Gaussian rubbish-class examples (Goodfellow, Shlens & Szegedy 2015, Appendix A): "10,000 samples
 * from N(0, I₇₈₄)" fed straight to the classifier. They are deliberately NOT clipped to the pixel
 * range: being far from the data is the point (a linear model grows more confident with the norm).
 *
 *   const x = rubbishExamples(rng.fork('rubbish'), 10_000, 784);   // Float32Array [10000 · 784]
 *
 * Score them with `rubbishStats` from @advx/metrics.
 */
import type { Rng } from '@advx/data';

export interface RubbishOptions {
  /** Mean of every coordinate (default 0). */
  mean?: number;
  /** Standard deviation of every coordinate (default 1). */
  std?: number;
}

/** `count` rows of `inputSize` i.i.d. N(mean, std²) values, row-major, drawn from `rng`. */
export function rubbishExamples(rng: Rng, count: number, inputSize: number, options: RubbishOptions = {}): Float32Array {
  const { mean = 0, std = 1 } = options;
  if (!(Number.isInteger(count) && count >= 0)) throw new Error(`count must be an integer ≥ 0, got ${count}`);
  if (!(Number.isInteger(inputSize) && inputSize >= 1)) throw new Error(`inputSize must be a positive integer, got ${inputSize}`);
  if (!(std >= 0) || !Number.isFinite(std) || !Number.isFinite(mean)) throw new Error(`need a finite mean and std ≥ 0, got mean ${mean}, std ${std}`);
  return rng.fillNormal(new Float32Array(count * inputSize), mean, std);
}
