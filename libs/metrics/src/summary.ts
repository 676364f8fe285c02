/** Mean ± sample standard deviation and a 95% Student-t confidence interval over seeds. */
export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
  std: number;
  /** Half-width of the 95% confidence interval of the mean (NaN for n < 2). */
  ci95: number;
  values: number[];
}

// Two-sided 95% Student-t critical values t_{0.975, df} for df = 1..30; beyond that the normal 1.96 is within 1.5%.
const T_975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export function tCritical95(degreesOfFreedom: number): number {
  if (degreesOfFreedom < 1) return NaN;
  return T_975[degreesOfFreedom - 1] ?? 1.96;
}

export function summarize(values: number[]): Summary {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  if (n === 0) return { n, mean: NaN, std: NaN, ci95: NaN, values };
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  const std = Math.sqrt(variance);
  return { n, mean, std, ci95: n > 1 ? (tCritical95(n - 1) * std) / Math.sqrt(n) : NaN, values };
}
