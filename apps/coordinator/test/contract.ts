import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metrics, UnitResult } from '../src/units/types.js';

/**
 * The determinism contract (README, "Determinism") as the tests check it.
 * - Same seed, backend, threads per unit, CPU and TensorFlow build: bitwise-identical numbers, so
 *   those comparisons use toEqual.
 * - Another thread split: Eigen sums in another order, the trained weights differ in their last
 *   bits, and an evaluation may differ by whole examples plus the float32 rounding of its means.
 *   `beyondContract` checks exactly that, metric by metric.
 */

/**
 * Examples whose outcome (prediction, or FGSM's sign of a near-zero gradient component) a thread
 * split may change per evaluation. Measured 0 on every evaluation of the smoke catalogue with Eigen
 * kernels at 1 vs 2 threads (README); 2 leaves room without hiding a real difference (a wrong seed or
 * model moves these rates by tens of examples).
 */
export const EXAMPLES_THAT_MAY_CHANGE = 2;

/**
 * Rounding of a mean of float32 values in [0, 1] summed on the device in batches of 500: recursive
 * summation of b terms errs by at most (b − 1)·2⁻²⁴ of the sum, so two summation orders differ by
 * at most 2 · 499 · 2⁻²⁴ ≈ 6e-5 of the mean (≤ 1). Observed: 1–8 ulps of the sum, ~3e-8.
 */
export const MEAN_ROUNDING = 1e-4;

/** What an evaluation's metric is over: rates count examples exactly, means also round. */
type Form = { over: number; rounds: boolean };
const FORMS: Record<string, (m: Metrics) => Form> = {
  clean_error: (m) => ({ over: m.count!, rounds: false }),
  adv_error: (m) => ({ over: m.count!, rounds: false }),
  source_adv_error: (m) => ({ over: m.count!, rounds: false }),
  clean_confidence: (m) => ({ over: m.count!, rounds: true }),
  adv_confidence: (m) => ({ over: m.count!, rounds: true }),
  adv_confidence_on_errors: (m) => ({ over: m.adv_error! * m.count!, rounds: true }),
  agreement: (m) => ({ over: m.source_adv_error! * m.count!, rounds: false }),
  source_adv_confidence: (m) => ({ over: m.count!, rounds: true }),
  reference_adv_error: (m) => ({ over: m.count!, rounds: false }),
  reference_agreement: (m) => ({ over: m.reference_adv_error! * m.count!, rounds: false }),
  // The battery's probes (masking units): error rates over the probed examples.
  ...Object.fromEntries(['fgsm_error', 'bim_error', 'pgd_error', 'apgd_error', 'fgsm_only', 'square_error', 'pgd_more_error', 'apgd_more_error', 'unbounded_error', 'zero_gradient'].map((name) => [name, (m: Metrics) => ({ over: m.count!, rounds: false })])),
  // agreement_both_wrong and reference_agreement_both_wrong are over the examples both models get
  // wrong, a count the metrics do not give: they must match exactly until it is recorded.
};

/** The largest difference the contract allows for one metric of an evaluation, or 0 where it states none. */
export function allowedDifference(name: string, reference: Metrics): number {
  const form = FORMS[name]?.(reference);
  if (!form) return 0; // counts, and anything without a stated form, must match exactly
  // k of the examples a mean is over may change: a mean of values in [0, 1] over n moves by at most k / (n − k).
  const k = EXAMPLES_THAT_MAY_CHANGE;
  return k / Math.max(1, form.over - k) + (form.rounds ? MEAN_ROUNDING : 0);
}

/** Each metric of `other` outside the contract's tolerance around `reference`, as a message (empty: within). */
export function beyondContract(reference: Metrics, other: Metrics): string[] {
  const problems: string[] = [];
  for (const name of new Set([...Object.keys(reference), ...Object.keys(other)])) {
    const [a, b] = [reference[name], other[name]];
    if (a === b) continue;
    if (typeof a !== 'number' || typeof b !== 'number') {
      problems.push(`${name}: ${a} vs ${b}`);
      continue;
    }
    const allowed = allowedDifference(name, reference);
    if (!(Math.abs(a - b) <= allowed)) problems.push(`${name}: ${a} vs ${b}, |Δ| ${Math.abs(a - b).toExponential(2)} > ${allowed.toExponential(2)}`);
  }
  return problems;
}

/** A sweep's finished units by key, from `<out>/runs/<key>/result.json`. */
export function unitResults(out: string): Map<string, UnitResult> {
  const runs = join(out, 'runs');
  const keys = readdirSync(runs).filter((key) => existsSync(join(runs, key, 'result.json')));
  return new Map(keys.map((key) => [key, JSON.parse(readFileSync(join(runs, key, 'result.json'), 'utf8')) as UnitResult]));
}

/** Timings are measurements of the run, not results: left out of every comparison. */
export function numbersOf(result: UnitResult): Metrics {
  const { examples_per_second: _timing, ...numbers } = result.metrics;
  return numbers;
}
