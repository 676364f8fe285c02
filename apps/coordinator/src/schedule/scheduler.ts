import type { Executor } from '../schedule/executor.js';
import { diskFullMessage, isDiskFull } from '../support/disk-full.js';
import { CorruptArtifactError, corruptProducer } from '../units/integrity.js';
import type { RunStore } from '../units/store.js';
import type { Unit, UnitResult } from '../units/types.js';
import { schedulingOrder, type SchedulingOrder } from './order.js';
import { isFinal, succeeded, type StateCounts, type UnitStatus } from './status.js';


export interface ScheduleOptions {
  executor: Executor;
  store: RunStore;
  /** Extra attempts after a unit's first failure (a thrown error or a dead worker). */
  retries: number;
  /** Per-attempt time limit; a unit over it is aborted (its worker is terminated) and retried. */
  unitTimeoutMs?: number;
  /** Stops scheduling new units when aborted; running ones finish and are kept. */
  signal?: AbortSignal;
  /**
   * Units handed to the executor at once (its worker count). Holding the rest back lets the
   * scheduler choose which ready unit a freed worker takes (`order`).
   */
  maxInFlight?: number;
  /** Which ready unit goes first (schedule/order.ts); default 'longest-chain'. */
  order?: SchedulingOrder;
  /** Called once, after the cache is read, with the units the sweep will report (before any onUpdate). */
  onStart?: (units: Unit[]) => void;
  /** `settled`: the unit's state is final for this sweep (not running, not queued for a retry). */
  onUpdate?: (status: UnitStatus, counts: StateCounts, settled: boolean) => void;
}

/**
 * Runs units in dependency order. Finished results are read from the store instead of recomputed;
 * each new result is written as soon as it arrives, so a crash loses only the units in flight.
 *
 * The store takes a result only when it and the files it records check out (units/store.ts);
 * otherwise the unit is computed. A unit that finds a dependency's files (or result.json) corrupt
 * when it reads them fails with a CorruptArtifactError naming that dependency: the dependency is
 * recomputed, once per sweep, and the reader runs again after it, without that attempt counting
 * against its retries.
 */
export async function runUnits(units: Unit[], options: ScheduleOptions): Promise<Map<string, UnitStatus>> {
  const { executor, store, retries } = options;
  const statuses = new Map<string, UnitStatus>();
  const waiting = new Set<string>();
  const running = new Map<string, Promise<void>>();

  const counts = (): StateCounts => {
    const c: StateCounts = { pending: 0, running: 0, retrying: 0, done: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0 };
    // A unit whose attempt has just ended counts as running until the scheduler has taken its result.
    for (const s of statuses.values()) c[running.has(s.unit.key) ? 'running' : s.state]++;
    return c;
  };
  const update = (status: UnitStatus) => options.onUpdate?.(status, counts(), isFinal(status.state));

  for (const unit of units) {
    if (statuses.has(unit.key)) continue; // the same work asked for twice is done once
    const cached = await store.read(unit.key);
    statuses.set(unit.key, { unit, state: cached ? 'cached' : 'pending', result: cached, resultPath: cached ? store.resultPath(unit.key) : null, attempts: 0, error: null });
    if (!cached) waiting.add(unit.key);
  }
  // A craft unit only feeds the evaluations that read it: when they are all cached, it is not run
  // (nor reported).
  const neededCrafts = new Set([...waiting].flatMap((key) => statuses.get(key)!.unit.dependsOn));
  for (const key of [...waiting]) {
    if (statuses.get(key)!.unit.config.kind === 'craft' && !neededCrafts.has(key)) {
      waiting.delete(key);
      statuses.delete(key);
    }
  }
  options.onStart?.([...statuses.values()].map((s) => s.unit));
  for (const status of statuses.values()) if (status.state === 'cached') update(status);

  const ready = (key: string) => succeeded(statuses.get(key)?.state ?? 'pending');
  const failedDependency = (unit: Unit) =>
    unit.dependsOn.find((d) => {
      const dependency = statuses.get(d);
      return !dependency || (isFinal(dependency.state) && !succeeded(dependency.state));
    });

  // Producers recomputed in this sweep because a reader found their files corrupt: once each, so a
  // reader that still finds them corrupt fails as any unit does.
  const recomputed = new Set<string>();
  /** Queues `producer` to be computed again before `reader`; false when that is not the way out. */
  const recompute = async (producer: string, message: string, reader: Unit): Promise<boolean> => {
    const status = statuses.get(producer);
    if (!status || producer === reader.key) return false;
    if (!succeeded(status.state)) return true; // already queued again (or failed: the reader is then skipped)
    if (recomputed.has(producer)) return false;
    recomputed.add(producer);
    await store.invalidate(producer, `${message}; recomputing ${status.unit.role} seed ${status.unit.seed} (${producer}), then ${reader.role} seed ${reader.seed} (${reader.key})`);
    Object.assign(status, { state: 'pending', result: null, resultPath: null, attempts: 0, error: null } satisfies Partial<UnitStatus>);
    waiting.add(producer);
    update(status);
    return true;
  };
  const fail = async (status: UnitStatus, message: string): Promise<void> => {
    status.error = message;
    const producer = corruptProducer(message);
    if (producer && (await recompute(producer, message, status.unit))) {
      // Not this unit's failure: it runs again once the producer is done.
      status.attempts--;
      status.state = 'pending';
      return;
    }
    status.state = status.attempts <= retries ? 'retrying' : 'failed';
  };

  const attempt = (status: UnitStatus): Promise<void> => {
    const { unit } = status;
    status.attempts++;
    const signal = options.unitTimeoutMs ? AbortSignal.timeout(options.unitTimeoutMs) : undefined;
    const now = () => performance.timeOrigin + performance.now(); // the clock workers stamp their runs with
    const dispatchedAt = now();
    return executor.run(unit, signal).then(
      async (output) => {
        const run = { ...output.run, dispatchedAt, receivedAt: now() };
        const result: UnitResult = { ...output, run, key: unit.key, role: unit.role, seed: unit.seed, config: unit.config, finishedAt: new Date().toISOString(), attempts: status.attempts };
        try {
          status.resultPath = await store.write(result);
        } catch (error) {
          // Its files here are not the bytes the worker digested (BullMQ: they came through Redis): a failed attempt.
          if (error instanceof CorruptArtifactError) return fail(status, error.message);
          if (isDiskFull(error)) return stopForFullDisk(status, await diskFullMessage(store.runsDir, `the result of ${unit.role} seed ${unit.seed}`, Buffer.byteLength(JSON.stringify(result))));
          throw error;
        }
        status.result = result;
        status.state = 'done';
        status.error = null;
      },
      async (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (isDiskFull(error)) return stopForFullDisk(status, await diskFullMessage(store.runsDir, `the files of ${unit.role} seed ${unit.seed} (the worker: ${message})`, null));
        return fail(status, message);
      },
    );
  };
  // A full disk fails the unit that met it, without retries, and cancels what has not started.
  let diskFull: string | null = null;
  const stopForFullDisk = (status: UnitStatus, message: string) => {
    diskFull ??= message;
    status.state = 'failed';
    status.error = message;
  };

  const limit = options.maxInFlight ?? Infinity;
  const priority = schedulingOrder([...waiting].map((key) => statuses.get(key)!.unit), options.order ?? 'longest-chain');
  while (waiting.size > 0 || running.size > 0) {
    for (const key of [...waiting].sort(priority)) {
      const status = statuses.get(key)!;
      const broken = failedDependency(status.unit);
      if (options.signal?.aborted || diskFull) {
        waiting.delete(key);
        status.state = 'cancelled';
        status.error = diskFull ? 'sweep stopped before this unit started: the disk is full' : 'sweep interrupted before this unit started';
        update(status);
      } else if (broken) {
        waiting.delete(key);
        status.state = 'skipped';
        status.error = `dependency ${broken} did not finish`;
        update(status);
      } else if (running.size < limit && status.unit.dependsOn.every(ready)) {
        waiting.delete(key);
        status.state = 'running';
        running.set(key, attempt(status));
        update(status);
      }
    }
    if (running.size === 0) continue;
    const finishedKey = await Promise.race([...running].map(([key, promise]) => promise.then(() => key)));
    running.delete(finishedKey);
    const status = statuses.get(finishedKey)!;
    // A failed attempt with retries left goes back in the queue, as does one that found a dependency corrupt.
    if (status.state === 'retrying' || status.state === 'pending') waiting.add(finishedKey);
    update(status);
  }
  return statuses;
}
