import { BroadcastChannel } from 'node:worker_threads';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { EXPERIMENTS, type ExperimentSpec } from '../catalogue/experiments/index.js';
import { planExperiment, type Plan } from '../catalogue/plan.js';
import { restrictToClaims } from '../catalogue/restrict-claims.js';
import { createExecutor, type ExecutorChoice } from '../execution/create.js';
import { buildReport } from '../report/build.js';
import { figureLinks, reportFigures } from '../report/figures.js';
import { writeFiguresAndHtml } from '../report/html.js';
import { farmLine, renderMarkdown } from '../report/markdown.js';
import { reportJson, type Report } from '../report/model.js';
import { provenanceLine } from '../report/provenance.js';
import { farmProfile } from '../schedule/farm-profile.js';
import { SweepProgress } from '../schedule/progress.js';
import { runUnits } from '../schedule/scheduler.js';
import type { UnitStatus } from '../schedule/status.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import { DiskFullError, diskFullMessage, isDiskFull } from '../support/disk-full.js';
import { createLogger } from '../support/log.js';
import type { ProgressEvent } from '../units/progress.js';
import { RunStore } from '../units/store.js';
import { loadSweepData, type SweepData } from './data.js';
import type { SweepOptions } from './options.js';
import { lockOutDirectory, removeStagingFiles, retirePreviousReport } from './out-dir.js';

export interface SweepOutcome {
  report: Report;
  reportPath: string;
}

/** The executor the options ask for (the CLI has checked that what it needs is there). */
function executorChoice(options: SweepOptions): ExecutorChoice {
  if (options.executor === 'bullmq') return { kind: 'bullmq', redis: options.redis!, deadlineSeconds: options.redisDeadline };
  if (options.executor === 'inline') return { kind: 'inline', threadsPerUnit: options.threadsPerUnit! };
  return { kind: 'piscina', workers: options.workers, threadsPerUnit: options.threadsPerUnit! };
}

/** One sweep: load and share the data, plan units, farm them out, aggregate, write the reports. */
export async function runSweep(options: SweepOptions, signal?: AbortSignal): Promise<SweepOutcome> {
  const started = performance.now();
  const catalogue = options.experiment === 'all' ? Object.values(EXPERIMENTS) : [EXPERIMENTS[options.experiment]];
  const claims = options.claims ? new Set(options.claims) : null;
  const selected = claims ? catalogue.map((e) => restrictToClaims(e, claims)).filter((e) => e !== null) : catalogue;
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  const lock = await lockOutDirectory(out, options.force);
  try {
    return await sweepLocked(options, selected, out, started, lock.tookOver, signal);
  } finally {
    lock.release();
  }
}

async function sweepLocked(options: SweepOptions, selected: ExperimentSpec[], out: string, started: number, tookOver: { pid: number } | null, signal?: AbortSignal): Promise<SweepOutcome> {
  const logger = createLogger(join(out, 'sweep.log'));
  // Logged, not only printed: through `npx nx run`, nx exits on Ctrl-C at once and takes the
  // terminal's copy of what the sweep prints next with it; sweep.log keeps the record.
  const onInterrupt = () => logger.warn(`interrupted (${String(signal?.reason)}): finishing running units, then writing an incomplete report (the same signal again aborts)`);
  if (signal?.aborted) onInterrupt();
  else signal?.addEventListener('abort', onInterrupt, { once: true });
  if (tookOver) logger.warn(`took over the lock of pid ${tookOver.pid}${options.force ? ' (--force)' : ', which is no longer running (an interrupted sweep)'}`);
  await retirePreviousReport(out, logger);

  const store = new RunStore(join(out, 'runs'), options.reuse.map((dir) => join(resolve(dir), 'runs')), logger);
  await mkdir(store.runsDir, { recursive: true });
  await removeStagingFiles(out, store.runsDir, logger);
  const progressChannel = `advx-progress-${process.pid}-${Date.now()}`;

  // More workers than units would each load TensorFlow for nothing (the dataset's checksum does not
  // change how many units there are, so a placeholder counts them before the data is read).
  const unitCount = new Set(selected.flatMap((e) => planExperiment(e, options.preset, options.seeds, 'count').units.map((u) => u.key))).size;
  const choice = executorChoice(options);
  if (choice.kind === 'piscina' && choice.workers > unitCount) {
    logger.info(`--workers ${choice.workers}: this sweep has ${unitCount} unit(s), so it starts ${unitCount} worker(s)`);
    choice.workers = unitCount;
  }
  if (choice.kind === 'piscina' && choice.workers > availableParallelism()) {
    logger.warn(`--workers ${choice.workers} is above the ${availableParallelism()} cores here: units share cores (each slower; the same numbers)`);
  }

  // The embedded executors start now, so their workers load TensorFlow while the data is read.
  const executor = createExecutor(choice, { backend: options.backend, runsDir: store.runsDir, progressChannel, logger });
  const { workers } = executor;
  const channel = new BroadcastChannel(progressChannel);
  let progress = null as SweepProgress | null; // made once the scheduler knows which units it runs
  let data: SweepData;
  let plans: Plan[];
  let dataReadyAt: number;
  let statuses: Map<string, UnitStatus>;
  try {
    data = await loadSweepData(selected, options, logger);
    dataReadyAt = performance.timeOrigin + performance.now();
    const { splits, experiments } = data;
    plans = experiments.map((e) => planExperiment(e, options.preset, options.seeds, splits.get(e.dataset)!.checksum));
    const units = plans.flatMap((p) => p.units);
    logger.info(`sweep ${options.experiment}: ${experiments.length} experiment(s), preset ${options.preset}, seeds ${options.seeds.join(',')}${options.claims ? `, claims ${options.claims.join(',')} only` : ''}, ${new Set(units.map((u) => u.key)).size} units on ${executor.where} (backend ${options.backend})`);
    statuses = await runUnits(units, {
      executor: executor.ready(data),
      store,
      retries: options.retries,
      unitTimeoutMs: options.unitTimeout ? options.unitTimeout * 1000 : undefined,
      signal,
      // BullMQ workers pull from Redis at their own concurrency; the pool and the inline executor are sized here.
      maxInFlight: workers,
      order: options.order,
      onStart: (scheduled) => {
        const sweepProgress = new SweepProgress(scheduled, logger, workers);
        progress = sweepProgress;
        channel.onmessage = (message) => sweepProgress.onEpoch((message as { data: ProgressEvent }).data);
      },
      onUpdate: (status, counts, settled) => progress!.onUnit(status, counts, settled),
    });
  } catch (error) {
    executor.fail(error);
    throw error;
  } finally {
    progress?.stop();
    channel.close();
    await executor.close();
  }
  const { splits, skipped } = data;

  const datasetLabel = [...splits.keys()].join('+');
  const wallSeconds = (performance.now() - started) / 1000;
  const farm = farmProfile(statuses.values(), performance.timeOrigin + started, dataReadyAt, workers ?? null);
  const figures = figureLinks(reportFigures(plans, statuses));
  const report = buildReport(options.experiment, plans, skipped, statuses, wallSeconds, signal?.aborted ?? false, options.preset, options.seeds, datasetLabel, { farm, figures });
  const reportPath = join(out, 'report.json');
  // A full disk met by a unit stopped the sweep; the report is still written if there is room.
  const diskFull = [...statuses.values()].map((s) => s.error).find((error) => error !== null && isDiskFull(error)) ?? null;
  // report.json first: the report that matters most when space is short.
  const written: string[] = [];
  try {
    await writeFileAtomic(reportPath, reportJson(report));
    written.push('report.json');
    await writeFileAtomic(join(out, 'report.md'), renderMarkdown(report));
    written.push('report.md');
    await writeFiguresAndHtml(out, report, plans, statuses, `npx nx run coordinator:sweep ${process.argv.slice(2).join(' ')}`.trim());
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    const what = written.length ? 'the figures and report.html' : 'the report';
    const kept = written.length ? ` (${written.join(' and ')} written)` : '';
    throw new DiskFullError(diskFull ? `${diskFull}; no room for ${what} either${kept}` : `${await diskFullMessage(out, what, null)}${kept}`);
  }
  if (report.farm) logger.info(farmLine(report.farm));
  logger.info(provenanceLine(report.provenance));
  logger.info(`backend: ${report.backend}; report written to ${reportPath} (${report.complete ? 'complete' : 'INCOMPLETE'}, ${report.wallSeconds.toFixed(1)} s)`);
  for (const claim of report.claims) logger.info(`${claim.id}: ${claim.status}`);
  await new Promise<void>((done) => logger.on('finish', done).end());
  if (diskFull) throw new DiskFullError(`${diskFull}; the report, marked incomplete, is in ${reportPath}`);
  return { report, reportPath };
}
