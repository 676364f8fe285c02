import { describe, expect, it } from 'vitest';
import { farmProfile } from '../src/schedule/farm-profile.js';
import type { UnitStatus } from '../src/schedule/status.js';
import type { RunInfo, Unit } from '../src/units/types.js';

const T0 = 1_000_000;
const status = (key: string, run: Partial<RunInfo> & Pick<RunInfo, 'worker' | 'startedAt' | 'finishedAt'>, state: UnitStatus['state'] = 'done'): UnitStatus => {
  const unit = { key, role: key, seed: 1, config: { kind: 'train' }, dependsOn: [] } as unknown as Unit;
  const info: RunInfo = { tensorsAfter: 3, heapUsedMB: 50, rssMB: 900, dispatchedAt: run.startedAt - 10, receivedAt: run.finishedAt + 5, ...run };
  return { unit, state, attempts: 1, error: null, resultPath: null, result: { key, role: key, seed: 1, config: unit.config, metrics: {}, backend: 'x', computeSeconds: (run.finishedAt - run.startedAt) / 1000, finishedAt: '', attempts: 1, run: info } };
};

describe('farmProfile', () => {
  // Sweep starts at T0, data ready at +500 ms. Worker a: units 1000–5000 and 5100–9000 ms; worker b:
  // 1200–8000 ms. The last result arrives at 9005 ms.
  const statuses = [
    status('a1', { worker: 'a', startedAt: T0 + 1000, finishedAt: T0 + 5000, receivedAt: T0 + 5020 }),
    status('a2', { worker: 'a', startedAt: T0 + 5100, finishedAt: T0 + 9000, dispatchedAt: T0 + 5060 }),
    status('b1', { worker: 'b', startedAt: T0 + 1200, finishedAt: T0 + 8000, tensorsAfter: 5, rssMB: 950 }),
    status('cached', { worker: 'c', startedAt: 0, finishedAt: 1 }, 'cached'),
  ];

  it('splits wall − compute ÷ workers exactly into data load, worker start, hand-offs, coordinator and tail', () => {
    const p = farmProfile(statuses, T0, T0 + 500, 2)!;
    expect(p.units).toBe(3);
    expect(p.workers).toBe(2);
    expect(p.wallSeconds).toBeCloseTo(9.005, 9);
    expect(p.computeSeconds).toBeCloseTo(4 + 3.9 + 6.8, 9);
    expect(p.overheadSeconds).toBeCloseTo(9.005 - 14.7 / 2, 9);
    expect(p.overheadFraction).toBeCloseTo(p.overheadSeconds / 9.005, 9);
    const b = p.breakdown;
    expect(b.dataLoad).toBeCloseTo(0.5, 9);
    expect(b.workerStart).toBeCloseTo((0.5 + 0.7) / 2, 9);
    // Worker a's 100 ms gap: 20 ms back to the coordinator + 40 ms out again, 40 ms in the coordinator.
    expect(b.handoff).toBeCloseTo(0.06 / 2, 9);
    expect(b.coordinator).toBeCloseTo(0.04 / 2, 9);
    expect(b.tail).toBeCloseTo((0.005 + 1.005) / 2, 9);
    expect(b.dataLoad + b.workerStart + b.handoff + b.coordinator + b.tail).toBeCloseTo(p.overheadSeconds, 9);
    expect(p.tensorsAfter).toEqual({ min: 3, max: 5 });
    expect(p.peakRssMB).toBe(950);
  });

  it('counts a pool worker that ran nothing as idle the whole sweep', () => {
    const p = farmProfile(statuses, T0, T0 + 500, 3)!;
    expect(p.workers).toBe(3);
    expect(p.overheadSeconds).toBeCloseTo(9.005 - 14.7 / 3, 9);
    const b = p.breakdown;
    expect(b.dataLoad + b.workerStart + b.handoff + b.coordinator + b.tail).toBeCloseTo(p.overheadSeconds, 9);
  });

  it('counts the distinct workers seen when the pool size is unknown (BullMQ), and is null when nothing ran', () => {
    expect(farmProfile(statuses, T0, T0 + 500, null)!.workers).toBe(2);
    expect(farmProfile([statuses[3]], T0, T0, 2)).toBeNull();
  });
});
