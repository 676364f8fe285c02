import cliProgress from 'cli-progress';
import type winston from 'winston';
import type { ProgressEvent } from '../units/progress.js';
import type { StateCounts, UnitStatus } from './status.js';
import type { Unit } from '../units/types.js';

/** Members of an ensemble ("member#3") cost about the same: they share an estimate. */
const roleFamily = (role: string) => role.replace(/#\d+$/, '');

interface Mean {
  sum: number;
  n: number;
}
const add = (map: Map<string, Mean>, key: string, value: number) => {
  const m = map.get(key) ?? { sum: 0, n: 0 };
  map.set(key, { sum: m.sum + value, n: m.n + 1 });
};
const mean = (m: Mean | undefined) => (m && m.n ? m.sum / m.n : null);

/**
 * The remaining wall time of a sweep. Each unsettled unit costs what finished units of its role
 * took (else the projection of running ones of its role from their epochs, else the mean of its
 * kind); a training unit in progress costs the rest of its own projection. The sum is divided by
 * the workers: the configured count, or for BullMQ the distinct workers seen so far.
 */
export class EtaEstimator {
  private readonly outstanding = new Map<string, Unit>();
  private readonly byRole = new Map<string, Mean>();
  private readonly byKind = new Map<string, Mean>();
  private readonly epochs = new Map<string, ProgressEvent>();
  private readonly workersSeen = new Set<string>();

  constructor(
    units: Unit[],
    private readonly workers?: number,
  ) {
    for (const unit of units) this.outstanding.set(unit.key, unit);
  }

  onEpoch(event: ProgressEvent): void {
    if (this.outstanding.has(event.key)) this.epochs.set(event.key, event);
  }

  settle(status: UnitStatus): void {
    const { unit, result } = status;
    this.outstanding.delete(unit.key);
    this.epochs.delete(unit.key);
    if (status.state !== 'done' || !result) return;
    add(this.byRole, roleFamily(unit.role), result.computeSeconds);
    add(this.byKind, unit.config.kind, result.computeSeconds);
    if (result.run) this.workersSeen.add(result.run.worker);
  }

  /** Seconds left, and whether some unsettled unit had nothing to estimate it from (then it is a lower bound). */
  remaining(): { seconds: number; lowerBound: boolean } {
    const projected = new Map<string, Mean>();
    for (const [key, e] of this.epochs) if (e.epoch > 0) add(projected, roleFamily(this.outstanding.get(key)!.role), (e.elapsedSeconds * e.epochs) / e.epoch);
    let seconds = 0;
    let lowerBound = false;
    for (const unit of this.outstanding.values()) {
      const own = this.epochs.get(unit.key);
      if (own && own.epoch > 0) {
        seconds += Math.max(0, own.elapsedSeconds * (own.epochs / own.epoch - 1));
        continue;
      }
      const estimate = mean(this.byRole.get(roleFamily(unit.role))) ?? mean(projected.get(roleFamily(unit.role))) ?? mean(this.byKind.get(unit.config.kind));
      if (estimate === null) lowerBound = true;
      else seconds += estimate;
    }
    return { seconds: seconds / Math.max(1, this.workers ?? this.workersSeen.size), lowerBound };
  }

  describe(): string {
    if (this.outstanding.size === 0) return '0s';
    const { seconds, lowerBound } = this.remaining();
    return `${lowerBound ? '≥ ' : '~'}${formatDuration(seconds)}`;
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Progress of a sweep: a bar of finished units plus the latest epoch and an ETA on a terminal;
 * otherwise a log line per finished unit and, at most every `intervalMs`, a line of per-run epoch
 * progress, both with the ETA.
 */
export class SweepProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly epochs = new Map<string, ProgressEvent>();
  private readonly eta: EtaEstimator;
  private readonly total: number;
  private lastLine = 0;

  constructor(
    units: Unit[],
    private readonly logger: winston.Logger,
    workers?: number,
    private readonly intervalMs = 30_000,
  ) {
    this.total = units.length;
    this.eta = new EtaEstimator(units, workers);
    this.bar = process.stderr.isTTY
      ? new cliProgress.SingleBar({ format: 'units {bar} {value}/{total} | running {running} | failed {failed} | ETA {eta} | {epochs}', hideCursor: true }, cliProgress.Presets.shades_classic)
      : null;
    this.bar?.start(this.total, 0, { running: 0, failed: 0, eta: '?', epochs: '' });
  }

  private epochSummary(): string {
    return [...this.epochs.values()].map((e) => `${e.role}#${e.seed} ${e.stage === 2 ? 'stage 2 ' : ''}epoch ${e.epoch}/${e.epochs} loss ${e.loss.toFixed(3)}${e.bestEpoch ? ` best ${e.bestEpoch}` : ''}`).join(', ');
  }

  onEpoch(event: ProgressEvent): void {
    this.epochs.set(event.key, event);
    this.eta.onEpoch(event);
    if (this.bar) {
      this.bar.update({ epochs: this.epochSummary(), eta: this.eta.describe() });
    } else if (Date.now() - this.lastLine >= this.intervalMs) {
      this.lastLine = Date.now();
      this.logger.info(`training: ${this.epochSummary()} | ETA ${this.eta.describe()}`, { examplesPerSecond: Math.round(event.examplesPerSecond) });
    }
  }

  onUnit(status: UnitStatus, counts: StateCounts, settled: boolean): void {
    const finished = counts.done + counts.cached + counts.failed + counts.skipped + counts.cancelled;
    if (settled) {
      this.eta.settle(status);
      this.epochs.delete(status.unit.key);
    }
    if (this.bar) this.bar.update(finished, { running: counts.running, failed: counts.failed, eta: this.eta.describe(), epochs: this.epochSummary() });
    const { unit } = status;
    const label = `${unit.role} seed ${unit.seed} (${unit.key})`;
    if (status.state === 'done') this.logger.info(`finished ${label} in ${status.result?.computeSeconds.toFixed(1)} s [${finished}/${this.total}, ETA ${this.eta.describe()}]`);
    else if (status.state === 'failed') this.logger.error(`failed ${label} after ${status.attempts} attempts: ${status.error}`);
    else if (status.state === 'retrying') this.logger.warn(`retrying ${label} (attempt ${status.attempts} failed: ${status.error})`);
  }

  stop(): void {
    this.bar?.stop();
  }
}
