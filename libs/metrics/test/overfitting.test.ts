import { describe, expect, it } from 'vitest';
import { catastrophicOverfitting } from '@advx/metrics';

/** Readings at epochs 1, 2, … */
const run = (...accuracies: number[]) => accuracies.map((pgdAccuracy, i) => ({ epoch: i + 1, pgdAccuracy }));

describe('catastrophicOverfitting (Wong, Rice & Kolter 2020)', () => {
  it('fails a collapse: PGD accuracy from .72 to .01 within two epochs', () => {
    const check = catastrophicOverfitting(run(0.6, 0.7, 0.72, 0.05, 0.01));
    expect(check.status).toBe('fail');
    expect(check.value).toBeCloseTo(0.71, 12);
    expect(check.threshold).toBe(0.3);
    expect(check.detail).toBe('PGD accuracy fell by more than 30.0 points: from 72.0% (epoch 3) to 1.0% (epoch 5); 1.0% at the last epoch (5)');
  });

  it('passes a steady rise, with nothing fallen', () => {
    const check = catastrophicOverfitting(run(0.1, 0.2, 0.3, 0.4, 0.5));
    expect(check).toEqual({ status: 'pass', value: 0, threshold: 0.3, detail: 'PGD accuracy peaked at 50.0% (epoch 5) and ends at 50.0%; it never fell' });
  });

  it('passes noise within the threshold, reporting its largest fall', () => {
    const check = catastrophicOverfitting(run(0.5, 0.42, 0.55, 0.38, 0.6, 0.45));
    expect(check.status).toBe('pass');
    expect(check.value).toBeCloseTo(0.17, 12);
    expect(check.threshold).toBe(0.3);
    expect(check.detail).toContain('its largest fall, 17.0 points (epoch 3 to 4), is within 30.0');
    // The same noise under a tighter, explicit threshold is a collapse.
    expect(catastrophicOverfitting(run(0.5, 0.42, 0.55, 0.38, 0.6, 0.45), { maxDrop: 0.1 })).toMatchObject({ status: 'fail', threshold: 0.1 });
  });

  it('fails a smaller fall that ends below the floor from a best well above it, and passes a net that was never robust', () => {
    // .3 → .02 is a fall of .28 (< .3), but to below .05 from a best ≥ .2.
    const check = catastrophicOverfitting(run(0.1, 0.25, 0.3, 0.02));
    expect(check.status).toBe('fail');
    expect(check.value).toBeCloseTo(0.28, 12);
    expect(check.threshold).toBeCloseTo(0.25, 12);
    expect(check.detail).toMatch(/^PGD accuracy fell to below the 5.0% floor: from 30.0% \(epoch 3\) to 2.0% \(epoch 4\)/);
    // Never above .2: near 0 throughout is no collapse (nothing was there to lose).
    expect(catastrophicOverfitting(run(0.1, 0.05, 0.02, 0.03)).status).toBe('pass');
  });

  it('is n/a with no readings or one, and fails a fall even if a later epoch recovers', () => {
    expect(catastrophicOverfitting([])).toEqual({ status: 'n/a', value: 0, threshold: 0.3, detail: 'no PGD-monitor readings' });
    expect(catastrophicOverfitting(run(0.4)).status).toBe('n/a');
    expect(catastrophicOverfitting(run(0.6, 0.1, 0.6)).status).toBe('fail');
  });

  it('refuses epochs that do not increase (stage-local numbering) and accuracies outside [0, 1]', () => {
    expect(() => catastrophicOverfitting([{ epoch: 1, pgdAccuracy: 0.5 }, { epoch: 2, pgdAccuracy: 0.5 }, { epoch: 1, pgdAccuracy: 0.5 }])).toThrow(/epochs must increase/);
    expect(() => catastrophicOverfitting(run(0.5, 1.5))).toThrow(/\[0, 1\]/);
    expect(() => catastrophicOverfitting(run(0.5, Number.NaN))).toThrow(/\[0, 1\]/);
    expect(() => catastrophicOverfitting(run(0.5), { floor: 0.3, floorFrom: 0.2 })).toThrow(/floor/);
  });
});
