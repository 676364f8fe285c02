import { bottomLevels } from './cost.js';
import type { Unit } from '../units/types.js';

/**
 * Which ready unit a free worker takes (`--order`; simulate.ts replays a finished sweep's measured
 * durations under each, `bench --replay`):
 * - longest-chain (the default): the unit with the longest estimated chain of work to the end of
 *   the sweep first (schedule/cost.ts; list scheduling by bottom level, HLFET), so long training
 *   starts early and short units, evaluations included, fill the end instead of a worker idling;
 * - results-first: units that read trained models before more training, so claims fill in as the
 *   sweep runs and an interrupted sweep has as many complete seeds as possible; within each, the
 *   longest chain first. Costs idle time at the end (the default sweep replayed: 5.7% against 0.1%);
 * - plan-order: readers first, then the order units were planned in (the rule before these; 12.0%).
 * Ties keep plan order (the sort is stable).
 */
export const SCHEDULING_ORDERS = ['results-first', 'longest-chain', 'plan-order'] as const;
export type SchedulingOrder = (typeof SCHEDULING_ORDERS)[number];

export function schedulingOrder(units: Unit[], order: SchedulingOrder): (a: string, b: string) => number {
  const kinds = new Map(units.map((u) => [u.key, u.config.kind]));
  const level = bottomLevels(units);
  const reads = (key: string) => (kinds.get(key) === 'train' ? 1 : 0);
  const longer = (a: string, b: string) => (level.get(b) ?? 0) - (level.get(a) ?? 0);
  switch (order) {
    case 'results-first':
      return (a, b) => reads(a) - reads(b) || longer(a, b);
    case 'longest-chain':
      return longer;
    case 'plan-order':
      return (a, b) => reads(a) - reads(b);
  }
}
