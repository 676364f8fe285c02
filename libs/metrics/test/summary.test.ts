import { describe, expect, it } from 'vitest';
import { summarize, tCritical95 } from '@advx/metrics';

describe('summarize', () => {
  it('mean, sample std (n − 1) and 95% Student-t half-width for n = 5', () => {
    const values = [0.9, 1.1, 1.3, 0.7, 1.0];
    const mean = 1.0;
    const std = Math.sqrt((0.01 + 0.01 + 0.09 + 0.09 + 0) / 4);
    const s = summarize(values);
    expect(s.n).toBe(5);
    expect(s.mean).toBeCloseTo(mean, 12);
    expect(s.std).toBeCloseTo(std, 12);
    // Not the population std (÷ n), which would be smaller.
    expect(s.std).toBeGreaterThan(Math.sqrt(0.2 / 5) + 1e-3);
    expect(s.ci95).toBeCloseTo((2.776 * std) / Math.sqrt(5), 12);
    expect(s.values).toEqual(values);
  });

  it('n = 2 uses t = 12.706; large n falls back to 1.96', () => {
    const two = summarize([1, 3]);
    expect(two.mean).toBe(2);
    expect(two.std).toBeCloseTo(Math.SQRT2, 12);
    expect(two.ci95).toBeCloseTo((12.706 * Math.SQRT2) / Math.SQRT2, 12);
    const many = Array.from({ length: 40 }, (_, i) => i % 2);
    const s = summarize(many);
    expect(s.mean).toBeCloseTo(0.5, 12);
    const std = Math.sqrt((40 * 0.25) / 39);
    expect(s.std).toBeCloseTo(std, 12);
    expect(s.ci95).toBeCloseTo((1.96 * std) / Math.sqrt(40), 12);
  });

  it('n = 1 → std 0 and ci95 NaN', () => {
    const s = summarize([0.42]);
    expect(s).toMatchObject({ n: 1, mean: 0.42, std: 0 });
    expect(s.ci95).toBeNaN();
  });

  it('filters NaN (and infinite) values but reports the originals', () => {
    const values = [1, NaN, 2, 3, Infinity, NaN];
    const s = summarize(values);
    expect(s.n).toBe(3);
    expect(s.mean).toBe(2);
    expect(s.std).toBeCloseTo(1, 12);
    expect(s.ci95).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 12);
    expect(s.values).toEqual(values);
  });

  it('no finite values → NaN everywhere, n = 0', () => {
    for (const values of [[], [NaN, NaN]]) {
      const s = summarize(values);
      expect(s.n).toBe(0);
      expect(s.mean).toBeNaN();
      expect(s.std).toBeNaN();
      expect(s.ci95).toBeNaN();
    }
  });

  it('identical values → std 0 and ci95 0', () => {
    const s = summarize([0.25, 0.25, 0.25]);
    expect(s.mean).toBe(0.25);
    expect(s.std).toBe(0);
    expect(s.ci95).toBe(0);
  });
});

describe('tCritical95', () => {
  it('tabulated two-sided 95% values', () => {
    expect(tCritical95(1)).toBe(12.706);
    expect(tCritical95(4)).toBe(2.776);
    expect(tCritical95(9)).toBe(2.262);
    expect(tCritical95(30)).toBe(2.042);
    expect(tCritical95(31)).toBe(1.96);
    expect(tCritical95(0)).toBeNaN();
  });

  it('decreases with the degrees of freedom', () => {
    for (let df = 1; df < 31; df++) expect(tCritical95(df + 1)).toBeLessThan(tCritical95(df));
  });
});
