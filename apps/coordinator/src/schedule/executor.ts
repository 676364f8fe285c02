import type { Unit, UnitOutput } from '../units/types.js';

/**
 * Runs one unit somewhere and resolves with its output; the scheduler owns retries and caching.
 * Owned by its consumer, the scheduler: the executors (execution/) implement it.
 */
export interface Executor {
  run(unit: Unit, signal?: AbortSignal): Promise<UnitOutput>;
  close(): Promise<void>;
}
