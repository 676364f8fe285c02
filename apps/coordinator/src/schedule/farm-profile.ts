import type { UnitStatus } from './status.js';
import type { RunInfo } from '../units/types.js';

/**
 * Where a sweep's wall time went, from the run info of the units it computed. Each of `workers`
 * workers is either computing a unit or not; the farm's overhead is the time they are not,
 * averaged over workers: wall − Σ compute ÷ workers. It splits exactly into
 * - dataLoad: the coordinator reading and decoding the datasets (workers load TensorFlow meanwhile);
 * - workerStart: from then to a worker's first unit (planning, reading the cache, whatever is left
 *   of loading TensorFlow, the first hand-off);
 * - handoff: unit and result messages between coordinator and worker (dispatch → start, finish → received);
 * - coordinator: from a result's arrival to the worker's next dispatch (writing the result,
 *   scheduling, and waiting for dependencies when no unit is ready);
 * - tail: after a worker's last unit until the sweep's last result (load imbalance at the end;
 *   a worker that ran nothing is all tail).
 */
export interface FarmProfile {
  workers: number;
  /** Units computed in this sweep (cached ones cost nothing and are left out). */
  units: number;
  /** Sweep start to the last result received. */
  wallSeconds: number;
  computeSeconds: number;
  overheadSeconds: number;
  overheadFraction: number;
  /** Per worker on average; sums to overheadSeconds. */
  breakdown: { dataLoad: number; workerStart: number; handoff: number; coordinator: number; tail: number };
  /** Tensors alive on each worker after its units, lowest and highest (equal: nothing accumulates). */
  tensorsAfter: { min: number; max: number } | null;
  /** Highest V8 heap of a worker and resident set of a worker's process after a unit, MB. */
  peakHeapUsedMB: number | null;
  peakRssMB: number | null;
}

type TimedRun = Required<RunInfo>;

/**
 * `startedAt`/`dataReadyAt` are epoch ms on the coordinator. `workers` is the pool size, or null
 * (BullMQ) to count the distinct workers that ran units. Time lost to failed attempts shows as
 * coordinator time; a thread respawned after a crash counts as a worker of its own, so then the
 * breakdown (not the overhead) over-counts.
 */
export function farmProfile(statuses: Iterable<UnitStatus>, startedAt: number, dataReadyAt: number, workers: number | null): FarmProfile | null {
  const runs: TimedRun[] = [];
  for (const s of statuses) {
    const run = s.state === 'done' ? s.result?.run : undefined;
    if (run && run.dispatchedAt !== undefined && run.receivedAt !== undefined) runs.push(run as TimedRun);
  }
  if (runs.length === 0) return null;
  const byWorker = new Map<string, TimedRun[]>();
  for (const run of runs) byWorker.set(run.worker, [...(byWorker.get(run.worker) ?? []), run]);
  const count = workers ?? byWorker.size;
  const endedAt = Math.max(...runs.map((r) => r.receivedAt));
  const wall = endedAt - startedAt;
  const dataLoad = Math.max(0, dataReadyAt - startedAt);
  const sum = { dataLoad: 0, workerStart: 0, handoff: 0, coordinator: 0, tail: 0 };
  let compute = 0;
  for (const list of byWorker.values()) {
    list.sort((a, b) => a.startedAt - b.startedAt);
    sum.dataLoad += dataLoad;
    sum.workerStart += Math.max(0, list[0].startedAt - startedAt - dataLoad);
    for (let i = 0; i < list.length; i++) {
      const run = list[i];
      compute += run.finishedAt - run.startedAt;
      if (i === 0) continue;
      const previous = list[i - 1];
      const gap = Math.max(0, run.startedAt - previous.finishedAt);
      // Clocks of different threads (or machines) can disagree by a little: clamp to the gap.
      const handoff = Math.min(gap, Math.max(0, previous.receivedAt - previous.finishedAt) + Math.max(0, run.startedAt - run.dispatchedAt));
      sum.handoff += handoff;
      sum.coordinator += gap - handoff;
    }
    sum.tail += Math.max(0, endedAt - list[list.length - 1].finishedAt);
  }
  // Workers of the pool that never ran a unit idled the whole sweep.
  const idle = Math.max(0, count - byWorker.size);
  sum.dataLoad += idle * dataLoad;
  sum.tail += idle * (wall - dataLoad);
  const seconds = (ms: number) => ms / 1000 / count;
  const overheadSeconds = (wall * count - compute) / 1000 / count;
  const tensors = runs.map((r) => r.tensorsAfter);
  return {
    workers: count,
    units: runs.length,
    wallSeconds: wall / 1000,
    computeSeconds: compute / 1000,
    overheadSeconds,
    overheadFraction: overheadSeconds / (wall / 1000),
    breakdown: { dataLoad: seconds(sum.dataLoad), workerStart: seconds(sum.workerStart), handoff: seconds(sum.handoff), coordinator: seconds(sum.coordinator), tail: seconds(sum.tail) },
    tensorsAfter: { min: Math.min(...tensors), max: Math.max(...tensors) },
    peakHeapUsedMB: Math.max(...runs.map((r) => r.heapUsedMB)),
    peakRssMB: Math.max(...runs.map((r) => r.rssMB)),
  };
}
