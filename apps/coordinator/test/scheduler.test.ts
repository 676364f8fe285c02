import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPERIMENTS } from '../src/catalogue/experiments/index.js';
import type { Executor } from '../src/schedule/executor.js';
import { planExperiment } from '../src/catalogue/plan.js';
import { unitKey } from '../src/units/key.js';
import { runUnits } from '../src/schedule/scheduler.js';
import { bottomLevels } from '../src/schedule/cost.js';
import { RunStore } from '../src/units/store.js';
import { unitFiles } from '../src/units/files.js';
import { digestUnitFiles } from '../src/units/integrity.js';
import type { Unit, UnitOutput } from '../src/units/types.js';

const experiment = EXPERIMENTS['fgsm-baseline'];

/** An executor that records what it ran and can fail chosen units a number of times. */
const fakeRun = { worker: 'fake', startedAt: 0, finishedAt: 0, tensorsAfter: 0, heapUsedMB: 0, rssMB: 0 };

/** What a train or craft unit leaves for its readers (a stand-in model or examples file), with its digests, as runUnit records them. */
async function fakeFiles(runsDir: string | undefined, unit: Unit): Promise<Record<string, string> | undefined> {
  const files = runsDir ? unitFiles(runsDir, unit.key, unit.config.kind) : null;
  if (!runsDir || !files) return undefined;
  await mkdir(files.directory, { recursive: true });
  await writeFile(files.marker, `stand-in for ${unit.key}`);
  return digestUnitFiles(runsDir, unit.key, unit.config.kind);
}

function fakeExecutor(failures: Record<string, number> = {}, runsDir?: string): Executor & { ran: string[] } {
  const remaining = { ...failures };
  const ran: string[] = [];
  return {
    ran,
    async run(unit: Unit): Promise<UnitOutput> {
      ran.push(unit.role);
      await new Promise((r) => setTimeout(r, 1));
      if ((remaining[unit.role] ?? 0) > 0) {
        remaining[unit.role]--;
        throw new Error(`worker died running ${unit.role}`);
      }
      const files = await fakeFiles(runsDir, unit);
      return { metrics: { clean_error: 0.01, clean_confidence: 0.9, adv_error: 0.9, adv_confidence: 0.95, adv_confidence_on_errors: 0.96, count: 10 }, ...(files ? { files } : {}), backend: 'fake', computeSeconds: 0, run: fakeRun };
    },
    async close() {},
  };
}

const store = () => new RunStore(join(mkdtempSync(join(tmpdir(), 'advx-sched-')), 'runs'));

describe('plan', () => {
  it('keys units by their config: stable, seed-dependent, dataset-dependent', () => {
    const a = planExperiment(experiment, 'smoke', [1, 2], 'sum-a');
    const again = planExperiment(experiment, 'smoke', [1, 2], 'sum-a');
    const otherData = planExperiment(experiment, 'smoke', [1, 2], 'sum-b');
    expect(a.units.map((u) => u.key)).toEqual(again.units.map((u) => u.key));
    expect(new Set(a.units.map((u) => u.key)).size).toBe(a.units.length);
    expect(a.units.map((u) => u.key)).not.toEqual(otherData.units.map((u) => u.key));
    expect(unitKey(a.units[0].config)).toBe(a.units[0].key);
  });

  it('makes each evaluation depend on the training of its model and seed', () => {
    const plan = planExperiment(experiment, 'smoke', [3], 'sum');
    const train = plan.units.find((u) => u.role === 'maxout')!;
    const evaluation = plan.units.find((u) => u.role === 'maxout-fgsm')!;
    expect(evaluation.dependsOn).toEqual([train.key]);
    expect(evaluation.seed).toBe(3);
  });
});

describe('runUnits', () => {
  it('runs dependencies first and writes one result per unit', async () => {
    const plan = planExperiment(experiment, 'smoke', [1, 2], 'sum');
    const s = store();
    const executor = fakeExecutor({}, s.runsDir);
    const statuses = await runUnits(plan.units, { executor, store: s, retries: 0 });
    expect([...statuses.values()].every((x) => x.state === 'done')).toBe(true);
    for (const role of ['softmax-fgsm', 'maxout-fgsm']) {
      const model = role.split('-')[0];
      expect(executor.ran.indexOf(role)).toBeGreaterThan(executor.ran.indexOf(model));
    }
    for (const unit of plan.units) expect(await s.read(unit.key)).toMatchObject({ key: unit.key, role: unit.role });
  });

  it('runs a craft unit only while an evaluation that reads it still has to run', async () => {
    const plan = planExperiment(EXPERIMENTS['rbf-transfer'], 'smoke', [1], 'sum');
    const crafts = plan.units.filter((u) => u.config.kind === 'craft');
    expect(crafts.length).toBeGreaterThan(0);
    const s = store();
    const first = fakeExecutor({}, s.runsDir);
    await runUnits(plan.units, { executor: first, store: s, retries: 0 });
    for (const craft of crafts) expect(first.ran).toContain(craft.role);

    // Another store where everything but the craft units is finished: nothing reads them, so they are not run.
    const other = store();
    for (const unit of plan.units) {
      if (unit.config.kind === 'craft') continue;
      await fakeFiles(other.runsDir, unit);
      await other.write((await s.read(unit.key))!);
    }
    const second = fakeExecutor();
    let scheduled: Unit[] = [];
    const statuses = await runUnits(plan.units, { executor: second, store: other, retries: 0, onStart: (units) => (scheduled = units) });
    expect(second.ran).toEqual([]);
    expect(crafts.some((c) => statuses.has(c.key))).toBe(false);
    expect(scheduled.some((u) => u.config.kind === 'craft')).toBe(false);
    expect([...statuses.values()].every((x) => x.state === 'cached')).toBe(true);
  });

  it('resume rule: finished units on disk are not recomputed', async () => {
    const plan = planExperiment(experiment, 'smoke', [1, 2], 'sum');
    const s = store();
    await runUnits(plan.units, { executor: fakeExecutor({}, s.runsDir), store: s, retries: 0 });
    const second = fakeExecutor();
    const statuses = await runUnits(plan.units, { executor: second, store: s, retries: 0 });
    expect(second.ran).toEqual([]);
    expect([...statuses.values()].every((x) => x.state === 'cached')).toBe(true);
    // A larger sweep reuses what exists and computes only the new seed's units.
    const wider = planExperiment(experiment, 'smoke', [1, 2, 3], 'sum');
    const third = fakeExecutor({}, s.runsDir);
    await runUnits(wider.units, { executor: third, store: s, retries: 0 });
    expect(third.ran.length).toBe(wider.units.filter((u) => u.seed === 3).length);
  });

  it('retries a failing unit and succeeds within the limit', async () => {
    const plan = planExperiment(experiment, 'smoke', [1], 'sum');
    const executor = fakeExecutor({ maxout: 2 });
    const statuses = await runUnits(plan.units, { executor, store: store(), retries: 2 });
    const maxout = [...statuses.values()].find((x) => x.unit.role === 'maxout')!;
    expect(maxout.state).toBe('done');
    expect(maxout.attempts).toBe(3);
  });

  it('marks a unit failed past the retry limit and skips its dependents, finishing the rest', async () => {
    const plan = planExperiment(experiment, 'smoke', [1], 'sum');
    const statuses = await runUnits(plan.units, { executor: fakeExecutor({ maxout: 5 }), store: store(), retries: 1 });
    const byRole = Object.fromEntries([...statuses.values()].map((x) => [x.unit.role, x]));
    expect(byRole.maxout.state).toBe('failed');
    expect(byRole.maxout.error).toMatch(/worker died/);
    expect(byRole['maxout-fgsm'].state).toBe('skipped');
    expect(byRole['softmax-fgsm'].state).toBe('done');
  });

  it('stops scheduling when aborted and marks the rest cancelled', async () => {
    const plan = planExperiment(experiment, 'smoke', [1, 2, 3], 'sum');
    const controller = new AbortController();
    controller.abort();
    const executor = fakeExecutor();
    const statuses = await runUnits(plan.units, { executor, store: store(), retries: 0, signal: controller.signal });
    expect(executor.ran).toEqual([]);
    expect([...statuses.values()].every((x) => x.state === 'cancelled')).toBe(true);
  });
});

describe('runUnits ordering', () => {
  it('keeps at most maxInFlight units at the executor and, results-first, runs ready evaluations before more training', async () => {
    const plan = planExperiment(experiment, 'smoke', [1, 2], 'sum');
    let inFlight = 0;
    let peak = 0;
    const order: string[] = [];
    const executor: Executor = {
      async run(unit) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        order.push(`${unit.role}#${unit.seed}`);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return { metrics: {}, backend: 'fake', computeSeconds: 0, run: fakeRun };
      },
      async close() {},
    };
    await runUnits(plan.units, { executor, store: store(), retries: 0, maxInFlight: 1, order: 'results-first' });
    expect(peak).toBe(1);
    // With one slot: maxout#1 (the longest chain) trains, then its evaluations run before any further training.
    expect(order[0]).toBe('maxout#1');
    expect(order[1]).toMatch(/^(?!maxout#).*maxout.*#1$/);
    expect(order.indexOf('softmax#1')).toBeGreaterThan(order.lastIndexOf('maxout-fgsm#1'));
  });

  it('starts the costliest training first, so short units fill the end instead of a worker idling', async () => {
    // fgsm-baseline cpu, 5 seeds on 2 workers: each maxout net costs ~100× a softmax regression.
    const plan = planExperiment(experiment, 'cpu', [1, 2, 3, 4, 5], 'sum');
    const levels = bottomLevels(plan.units);
    const train = (role: string, seed: number) => plan.units.find((u) => u.role === role && u.seed === seed)!.key;
    expect(levels.get(train('maxout', 1))! / levels.get(train('softmax', 1))!).toBeGreaterThan(20);
    // Virtual time: a unit lasts its estimated cost (scaled), so the order is all that matters.
    const scale = 40 / levels.get(train('maxout', 1))!;
    const started: string[] = [];
    const executor: Executor = {
      async run(unit) {
        started.push(unit.role);
        const own = levels.get(unit.key)! - Math.max(0, ...plan.units.filter((u) => u.dependsOn.includes(unit.key)).map((u) => levels.get(u.key)!));
        await new Promise((r) => setTimeout(r, Math.max(1, own * scale)));
        return { metrics: {}, backend: 'fake', computeSeconds: 0, run: fakeRun };
      },
      async close() {},
    };
    await runUnits(plan.units, { executor, store: store(), retries: 0, maxInFlight: 2 });
    const trainings = started.filter((role) => role === 'maxout' || role === 'softmax');
    // All five maxout nets start before the first softmax regression.
    expect(trainings.slice(0, 5)).toEqual(['maxout', 'maxout', 'maxout', 'maxout', 'maxout']);
  });
});
