/**
 * How a claim's metric is shown: most are rates (error, agreement, confidence), shown as percents;
 * a few are plain numbers (a margin, a gradient norm, an ε), shown with four significant digits.
 */
export type MetricUnit = 'fraction' | 'number';

export function formatMetric(x: number | null | undefined, unit: MetricUnit = 'fraction'): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  return unit === 'fraction' ? `${(x * 100).toFixed(2)}%` : String(Number(x.toPrecision(4)));
}
