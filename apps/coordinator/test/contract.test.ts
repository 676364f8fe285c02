import { describe, expect, it } from 'vitest';
import { allowedDifference, beyondContract, EXAMPLES_THAT_MAY_CHANGE, MEAN_ROUNDING } from './contract.js';

// An evaluation over 1,000 examples: 950 adversarial errors, of which the source got all.
const reference = { count: 1000, clean_error: 0.24, clean_confidence: 0.47, adv_error: 0.95, adv_confidence: 0.28, adv_confidence_on_errors: 0.28, source_adv_error: 0.95, agreement: 1, agreement_both_wrong: 1 };

describe('the determinism contract comparator (what the cross-split tests rely on)', () => {
  it('allows k examples on rates and k examples plus float32 rounding on means, over the set each is taken over', () => {
    const k = EXAMPLES_THAT_MAY_CHANGE;
    expect(allowedDifference('adv_error', reference)).toBeCloseTo(k / (1000 - k), 12);
    expect(allowedDifference('adv_confidence', reference)).toBeCloseTo(k / (1000 - k) + MEAN_ROUNDING, 12);
    expect(allowedDifference('adv_confidence_on_errors', reference)).toBeCloseTo(k / (950 - k) + MEAN_ROUNDING, 12);
    expect(allowedDifference('count', reference)).toBe(0);
  });

  it('passes the differences a thread split makes (1 ulp of a float32 sum, k flipped examples), flags more', () => {
    expect(beyondContract(reference, { ...reference, adv_confidence: reference.adv_confidence + 3.05e-8, adv_error: 0.952 })).toEqual([]);
    expect(beyondContract(reference, { ...reference, adv_error: 0.953 })).toEqual([expect.stringMatching(/^adv_error: 0.95 vs 0.953/)]);
    expect(beyondContract(reference, { ...reference, clean_confidence: 0.475 })).toHaveLength(1);
    // A metric with no stated form must match exactly, as must the counts.
    expect(beyondContract(reference, { ...reference, agreement_both_wrong: 0.999 })).toEqual(['agreement_both_wrong: 1 vs 0.999, |Δ| 1.00e-3 > 0.00e+0']);
    expect(beyondContract(reference, { ...reference, count: 999 })).toHaveLength(1);
    expect(beyondContract(reference, { ...reference, adv_error: null })).toEqual(['adv_error: 0.95 vs null']);
  });
});
