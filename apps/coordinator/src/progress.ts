import cliProgress from 'cli-progress';
import type winston from 'winston';
import type { UnitState, UnitStatus } from './scheduler.js';
import type { ProgressEvent } from './work.js';

type Counts = Record<UnitState | 'running' | 'pending', number>;

/**
 * Progress of a sweep: a bar of finished units plus the latest epoch on a terminal; otherwise a log
 * line per finished unit and, at most every `intervalMs`, a line of per-run epoch progress.
 */
export class SweepProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly epochs = new Map<string, ProgressEvent>();
  private lastLine = 0;

  constructor(
    private readonly total: number,
    private readonly logger: winston.Logger,
    private readonly intervalMs = 30_000,
  ) {
    this.bar = process.stderr.isTTY
      ? new cliProgress.SingleBar({ format: 'units {bar} {value}/{total} | running {running} | failed {failed} | {epochs}', hideCursor: true }, cliProgress.Presets.shades_classic)
      : null;
    this.bar?.start(total, 0, { running: 0, failed: 0, epochs: '' });
  }

  private epochSummary(): string {
    return [...this.epochs.values()].map((e) => `${e.role}#${e.seed} ${e.epoch}/${e.epochs}`).join(' ');
  }

  onEpoch(event: ProgressEvent): void {
    this.epochs.set(event.key, event);
    if (this.bar) {
      this.bar.update({ epochs: this.epochSummary() });
    } else if (Date.now() - this.lastLine > this.intervalMs) {
      this.lastLine = Date.now();
      this.logger.info(`training: ${this.epochSummary()}`, { lastLoss: Number(event.loss.toFixed(4)), examplesPerSecond: Math.round(event.examplesPerSecond) });
    }
  }

  onUnit(status: UnitStatus, counts: Counts): void {
    const finished = counts.done + counts.cached + counts.failed + counts.skipped + counts.cancelled;
    if (status.state === 'done' || status.state === 'failed') this.epochs.delete(status.unit.key);
    if (this.bar) this.bar.update(finished, { running: counts.running, failed: counts.failed, epochs: this.epochSummary() });
    const { unit } = status;
    const label = `${unit.role} seed ${unit.seed} (${unit.key})`;
    if (status.state === 'done') this.logger.info(`finished ${label} in ${status.result?.computeSeconds.toFixed(1)} s [${finished}/${this.total}]`);
    else if (status.state === 'failed') this.logger.error(`failed ${label} after ${status.attempts} attempts: ${status.error}`);
    else if (status.state === 'skipped' && status.error && status.attempts > 0) this.logger.warn(`retrying ${label} (attempt ${status.attempts} failed: ${status.error})`);
  }

  stop(): void {
    this.bar?.stop();
  }
}
