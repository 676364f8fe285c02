import type { Unit, UnitResult } from '../units/types.js';

/**
 * Where a unit of a sweep is, one meaning per name:
 * - pending: not started yet (waiting for its dependencies or a free executor slot);
 * - running: handed to the executor;
 * - retrying: an attempt failed and another is queued;
 * - done: computed in this sweep; cached: its result was already on disk;
 * - failed: its last attempt failed and no retry is left;
 * - skipped: not run because a dependency did not finish (only that: a unit not yet run is
 *   pending, one to be tried again retrying);
 * - cancelled: not run because the sweep was interrupted first.
 */
export type UnitState = 'pending' | 'running' | 'retrying' | 'done' | 'cached' | 'failed' | 'skipped' | 'cancelled';

/** The states a unit ends a sweep in. */
export const FINAL_STATES: readonly UnitState[] = ['done', 'cached', 'failed', 'skipped', 'cancelled'];
export const isFinal = (state: UnitState): boolean => FINAL_STATES.includes(state);
export const succeeded = (state: UnitState): boolean => state === 'done' || state === 'cached';

export interface UnitStatus {
  unit: Unit;
  state: UnitState;
  result: UnitResult | null;
  resultPath: string | null;
  attempts: number;
  error: string | null;
}

/** How many units are in each state. */
export type StateCounts = Record<UnitState, number>;
