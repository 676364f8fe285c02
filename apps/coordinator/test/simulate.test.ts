import { describe, expect, it } from 'vitest';
import { EXPERIMENTS } from '../src/catalogue/experiments/index.js';
import { planExperiment } from '../src/catalogue/plan.js';
import { makespanLowerBound, simulateSchedule } from '../src/schedule/simulate.js';
import type { Unit } from '../src/units/types.js';

describe('scheduling replay', () => {
  it('gives hand-computed makespans for independent units on 2 workers', () => {
    // Three independent maxout train units lasting 2, 2 and 3 s (in plan order).
    const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], 'smoke', [1, 2, 3], 'sum');
    const trains = plan.units.filter((u) => u.config.kind === 'train' && u.role === 'maxout');
    const seconds = new Map(trains.map((u, i) => [u.key, i === 2 ? 3 : 2]));
    // Same-cost estimates for all three, so orders tie and keep plan order: 2, 2 then 3 → 5 s.
    expect(simulateSchedule(trains, seconds, 2, 'longest-chain').makespan).toBe(5);
    expect(makespanLowerBound(trains, seconds, 2)).toBe(3.5);
    expect(simulateSchedule(trains, seconds, 1, 'plan-order').makespan).toBe(7);
    expect(simulateSchedule(trains, seconds, 3, 'plan-order')).toEqual({ order: 'plan-order', makespan: 3, idleFraction: 1 - 7 / 9 });
  });

  it('never beats the lower bound, and orders the default sweep better than plan order when maxout costs ~100 softmax runs', () => {
    const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], 'cpu', [1, 2, 3, 4, 5], 'sum');
    const cost = (u: Unit) => (u.config.kind === 'train' ? (u.role === 'maxout' ? 300 : 3) : 10);
    const seconds = new Map(plan.units.map((u) => [u.key, cost(u)]));
    const bound = makespanLowerBound(plan.units, seconds, 2);
    const [resultsFirst, longest, planOrder] = (['results-first', 'longest-chain', 'plan-order'] as const).map((o) => simulateSchedule(plan.units, seconds, 2, o));
    for (const s of [resultsFirst, longest, planOrder]) expect(s.makespan).toBeGreaterThanOrEqual(bound - 1e-9);
    expect(resultsFirst.makespan).toBeLessThan(planOrder.makespan);
    expect(longest.makespan).toBeLessThanOrEqual(resultsFirst.makespan);
  });
});
