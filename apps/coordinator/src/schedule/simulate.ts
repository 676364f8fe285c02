import { schedulingOrder, type SchedulingOrder } from './order.js';
import type { Unit } from '../units/types.js';

/**
 * List scheduling replayed in virtual time: `workers` identical workers, each unit lasting its
 * measured seconds, no hand-off cost, ready units taken in `order`. The makespan against the lower
 * bound max(longest chain, Σ seconds ÷ workers) is what the order costs (or saves) on that sweep.
 */
export interface SimulatedSchedule {
  order: SchedulingOrder;
  makespan: number;
  /** Idle worker-time ÷ (workers × makespan). */
  idleFraction: number;
}

export function simulateSchedule(units: Unit[], seconds: ReadonlyMap<string, number>, workers: number, order: SchedulingOrder): SimulatedSchedule {
  const priority = schedulingOrder(units, order);
  const pending = new Set(units.map((u) => u.key));
  const byKey = new Map(units.map((u) => [u.key, u]));
  const done = new Set<string>();
  const running: { key: string; endsAt: number }[] = [];
  let now = 0;
  let busy = 0;
  while (pending.size > 0 || running.length > 0) {
    for (const key of [...pending].sort(priority)) {
      if (running.length >= workers) break;
      if (!byKey.get(key)!.dependsOn.every((d) => done.has(d) || !byKey.has(d))) continue;
      const duration = seconds.get(key) ?? 0;
      busy += duration;
      pending.delete(key);
      running.push({ key, endsAt: now + duration });
    }
    if (running.length === 0) throw new Error(`simulateSchedule: ${pending.size} units can never start (a dependency cycle?)`);
    running.sort((a, b) => a.endsAt - b.endsAt);
    const next = running.shift()!;
    now = next.endsAt;
    done.add(next.key);
  }
  return { order, makespan: now, idleFraction: now > 0 ? 1 - busy / (workers * now) : 0 };
}

/** max(the longest chain of measured durations, Σ ÷ workers): no order can finish sooner. */
export function makespanLowerBound(units: Unit[], seconds: ReadonlyMap<string, number>, workers: number): number {
  const byKey = new Map(units.map((u) => [u.key, u]));
  const finish = new Map<string, number>();
  const chain = (key: string): number => {
    const known = finish.get(key);
    if (known !== undefined) return known;
    const unit = byKey.get(key)!;
    const value = (seconds.get(key) ?? 0) + Math.max(0, ...unit.dependsOn.filter((d) => byKey.has(d)).map(chain));
    finish.set(key, value);
    return value;
  };
  const total = units.reduce((sum, u) => sum + (seconds.get(u.key) ?? 0), 0);
  return Math.max(Math.max(0, ...units.map((u) => chain(u.key))), total / workers);
}
