import { describe, expect, it } from 'vitest';
import { DEFAULT_MASKING_THRESHOLDS, MASKING_CHECK_IDS, maskingChecks, noiseBand, type MaskingMeasurements } from '@advx/metrics';

/** What a normal, undefended net measures: errors rise with ε and with attack strength, gradients everywhere. */
const normal: MaskingMeasurements = {
  count: 1000,
  eps: 0.25,
  epsilons: [0.1, 0.2, 0.3],
  fgsmCurve: [0.3, 0.7, 0.9],
  pgdCurve: [0.5, 0.95, 1],
  fgsm: 0.8,
  bim: 0.97,
  pgd: 0.98,
  apgd: 0.99,
  fgsmOnly: 0.002,
  square: 0.9,
  pgdMore: 0.985,
  apgdMore: 0.995,
  unbounded: 1,
  zeroGradient: 0,
  transfers: [{ from: 'twin', fgsm: 0.6, pgd: 0.7 }],
};

const statusOf = (m: MaskingMeasurements) => Object.fromEntries(maskingChecks(m).map((c) => [c.id, c.status]));

describe('gradient-masking checks', () => {
  it('pass, every one, on the measurements of a normal net, in the stated order', () => {
    const checks = maskingChecks(normal);
    expect(checks.map((c) => c.id)).toEqual(MASKING_CHECK_IDS);
    expect(checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.detail}`)).toEqual([]);
  });

  it.each<[string, Partial<MaskingMeasurements>]>([
    ['monotone-eps', { fgsmCurve: [0.4, 0.12, 0.5] }], // the FGSM-trained maxout of our catalogue: 40% at .1, 12% at .2
    ['monotone-eps', { pgdCurve: [0.5, 0.95, 0.6] }],
    ['iterative-beats-single', { fgsmOnly: 0.05 }],
    ['unbounded-reaches-100', { unbounded: 0.9 }],
    ['transfer-below-whitebox', { transfers: [{ from: 'baseline', fgsm: 0.95, pgd: 0.5 }] }],
    ['black-box-below-white-box', { square: 0.99, pgd: 0.8, apgd: 0.85, pgdMore: 0.81, apgdMore: 0.86 }],
    ['more-steps-no-change', { apgdMore: 0.99 + 0.05, apgd: 0.9 }],
    ['zero-gradients', { zeroGradient: 0.5 }],
  ])('%s fails when its quantity shows masking (%o) and only it', (id, change) => {
    const statuses = statusOf({ ...normal, ...change });
    expect(statuses[id]).toBe('fail');
    expect(Object.entries(statuses).filter(([other, s]) => other !== id && s === 'fail')).toEqual([]);
  });

  it('tolerates differences inside the noise band and names the band in the detail', () => {
    const band = noiseBand(0.7, 0.69, 1000);
    expect(band).toBeCloseTo(3 * Math.sqrt((0.7 * 0.3 + 0.69 * 0.31) / 1000), 12);
    // A dip of half the band passes; one of twice the band fails.
    expect(statusOf({ ...normal, fgsmCurve: [0.3, 0.7, 0.7 - band / 2] })['monotone-eps']).toBe('pass');
    const dip = maskingChecks({ ...normal, fgsmCurve: [0.3, 0.7, 0.7 - 2 * band] })[0];
    expect(dip.status).toBe('fail');
    expect(dip.detail).toMatch(/FGSM error falls from 70\.0% at ε = 0\.2 to .* at ε = 0\.3 \(noise band/);
    // The floor holds where sampling noise vanishes (rates at 0 or 1).
    expect(noiseBand(1, 1, 1000)).toBe(DEFAULT_MASKING_THRESHOLDS.noiseFloor);
  });

  it('is n/a, not pass, where there is nothing to compare', () => {
    const statuses = statusOf({ ...normal, epsilons: [0.25], fgsmCurve: [0.8], pgdCurve: [0.98], transfers: [] });
    expect(statuses['monotone-eps']).toBe('n/a');
    expect(statuses['transfer-below-whitebox']).toBe('n/a');
  });

  it('takes thresholds as options', () => {
    expect(statusOf({ ...normal, unbounded: 0.95 })['unbounded-reaches-100']).toBe('fail');
    expect(maskingChecks({ ...normal, unbounded: 0.95 }, { unboundedError: 0.9 }).find((c) => c.id === 'unbounded-reaches-100')!.status).toBe('pass');
  });
});
