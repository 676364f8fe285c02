import { describe, expect, it } from 'vitest';
import type winston from 'winston';
import { EtaEstimator, formatDuration, SweepProgress } from '../src/schedule/progress.js';
import type { UnitStatus } from '../src/schedule/status.js';
import type { Unit, UnitConfig } from '../src/units/types.js';

const unit = (key: string, role: string, kind: UnitConfig['kind']): Unit => ({ key, role, seed: 1, config: { kind } as UnitConfig, dependsOn: [] });
const done = (u: Unit, computeSeconds: number, worker = 'w1'): UnitStatus => ({
  unit: u,
  state: 'done',
  attempts: 1,
  error: null,
  resultPath: null,
  result: { key: u.key, role: u.role, seed: 1, config: u.config, metrics: {}, backend: 'x', computeSeconds, finishedAt: '', attempts: 1, run: { worker, startedAt: 0, finishedAt: 0, tensorsAfter: 0, heapUsedMB: 0, rssMB: 0 } },
});
const epoch = (key: string, role: string, epoch: number, epochs: number, elapsedSeconds: number, extra: { stage?: 1 | 2; bestEpoch?: number | null } = {}) => ({
  type: 'epoch' as const, key, role, seed: 1, stage: extra.stage ?? 1, epoch, epochs, loss: 0, bestEpoch: extra.bestEpoch ?? null, examplesPerSecond: 0, elapsedSeconds,
});

describe('EtaEstimator', () => {
  const units = [unit('t1', 'maxout', 'train'), unit('t2', 'maxout', 'train'), unit('t3', 'softmax', 'train'), unit('e1', 'maxout-fgsm', 'evaluate'), unit('e2', 'softmax-fgsm', 'evaluate')];

  it('costs each outstanding unit by finished units of its role, then of its kind, over the workers', () => {
    const eta = new EtaEstimator(units, 2);
    eta.settle(done(units[0], 100)); // maxout: 100 s
    eta.settle(done(units[3], 2)); // evaluate: 2 s
    // t2 (maxout 100) + t3 (train mean 100) + e2 (evaluate 2) = 202 s of work on 2 workers.
    expect(eta.remaining()).toEqual({ seconds: 101, lowerBound: false });
  });

  it('projects a training unit in progress from its epochs, and its role-mates from it', () => {
    const eta = new EtaEstimator(units, 1);
    eta.onEpoch(epoch('t1', 'maxout', 2, 10, 20)); // 10 s/epoch: 80 s left, 100 s total
    const { seconds, lowerBound } = eta.remaining();
    // t1 80 + t2 100 (projected from t1); softmax and the evaluations have nothing to go on yet.
    expect(seconds).toBe(180);
    expect(lowerBound).toBe(true);
    expect(eta.describe()).toBe('≥ 3m 00s');
  });

  it('divides by the distinct workers seen when the worker count is not known (BullMQ)', () => {
    const eta = new EtaEstimator(units);
    eta.settle(done(units[0], 60, 'a:1:1'));
    eta.settle(done(units[1], 60, 'b:2:1'));
    eta.settle(done(units[3], 0, 'b:2:1'));
    // t3 (train mean 60) + e2 (0) on 2 workers.
    expect(eta.remaining().seconds).toBe(30);
  });

  it('drops units as they settle, however they end', () => {
    const eta = new EtaEstimator(units, 1);
    for (const u of units) eta.settle({ ...done(u, 1), state: 'cancelled', result: null });
    expect(eta.describe()).toBe('0s');
  });
});

describe('formatDuration', () => {
  it('writes seconds, minutes and hours', () => {
    expect([formatDuration(42.4), formatDuration(310), formatDuration(3725)]).toEqual(['42s', '5m 10s', '1h 02m']);
  });
});

describe('SweepProgress without a terminal', () => {
  it('logs each run’s epoch and loss with the ETA, and each finished unit with its count and the ETA', () => {
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) } as unknown as winston.Logger;
    const units = [unit('t1', 'maxout', 'train'), unit('e1', 'maxout-fgsm', 'evaluate')];
    const progress = new SweepProgress(units, logger, 1, 0);
    progress.onEpoch(epoch('t1', 'maxout', 2, 10, 20));
    expect(lines.at(-1)).toBe('training: maxout#1 epoch 2/10 loss 0.000 | ETA ≥ 1m 20s');
    progress.onEpoch(epoch('t1', 'maxout', 3, 10, 30, { bestEpoch: 2 }));
    expect(lines.at(-1)).toMatch(/^training: maxout#1 epoch 3\/10 loss 0\.000 best 2 \|/);
    progress.onEpoch(epoch('t1', 'maxout', 1, 5, 40, { stage: 2, bestEpoch: 2 }));
    expect(lines.at(-1)).toMatch(/^training: maxout#1 stage 2 epoch 1\/5 loss 0\.000 best 2 \|/);
    progress.onUnit(done(units[0], 100), { pending: 1, running: 0, retrying: 0, cached: 0, done: 1, failed: 0, skipped: 0, cancelled: 0 }, true);
    expect(lines.at(-1)).toMatch(/^finished maxout seed 1 \(t1\) in 100\.0 s \[1\/2, ETA ≥ 0s\]$/);
    progress.stop();
  });
});
