import { describe, expect, it } from 'vitest';
import { attackPasses, bottomLevels } from '../src/schedule/cost.js';
import { EXPERIMENTS } from '../src/catalogue/experiments/index.js';
import { planExperiment } from '../src/catalogue/plan.js';

describe('unit cost estimates', () => {
  it('count an attack in forward-pass equivalents: 3 per gradient step, 1 to judge', () => {
    expect(attackPasses(null)).toBe(1);
    expect(attackPasses({ kind: 'fgsm', eps: 0.25, clip: true })).toBe(4);
    expect(attackPasses({ kind: 'pgd', eps: 0.25, steps: 10, stepSize: 0.03, clip: true })).toBe(31);
    expect(attackPasses({ kind: 'apgd-ce', eps: 0.25, steps: 10, restarts: 2, clip: true })).toBe(61);
    expect(attackPasses({ kind: 'square', eps: 0.25, queries: 300, clip: true })).toBe(301);
    expect(attackPasses({ kind: 'worst-case', eps: 0.25, clip: true, attacks: [{ kind: 'fgsm', eps: 0.25, clip: true }, { kind: 'square', eps: 0.25, queries: 300, clip: true }] })).toBe(305);
  });

  it('put a model’s training above everything that reads it, and a maxout net far above softmax regression', () => {
    const plan = planExperiment(EXPERIMENTS['fgsm-baseline'], 'cpu', [1], 'sum');
    const levels = bottomLevels(plan.units);
    const key = (role: string) => plan.units.find((u) => u.role === role)!.key;
    for (const unit of plan.units) for (const d of unit.dependsOn) expect(levels.get(d)!).toBeGreaterThan(levels.get(unit.key)!);
    // 2·(784·1200 + 240·1200 + 240·10) forward FLOPs per example against 2·784·10: 157×, less what
    // the two schedules' epochs and the batteries on each model change.
    expect(levels.get(key('maxout'))! / levels.get(key('softmax'))!).toBeGreaterThan(20);
  });
});
