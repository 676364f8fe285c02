import { BroadcastChannel } from 'node:worker_threads';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadDataset } from '@advx/data';
import type { SweepOptions } from './cli.js';
import { EXPERIMENTS } from './experiments/index.js';
import { PiscinaExecutor } from './executor.js';
import { createLogger } from './log.js';
import { planExperiment } from './plan.js';
import { SweepProgress } from './progress.js';
import { buildReport, renderMarkdown, type Report } from './report.js';
import { runUnits } from './scheduler.js';
import { shareSplits } from './shared-data.js';
import { RunStore, writeFileAtomic } from './store.js';
import type { ProgressEvent } from './work.js';

export interface SweepOutcome {
  report: Report;
  reportPath: string;
}

/** One sweep: load and share the data, plan units, farm them out, aggregate, write the reports. */
export async function runSweep(options: SweepOptions, signal?: AbortSignal): Promise<SweepOutcome> {
  const started = performance.now();
  const experiment = EXPERIMENTS[options.experiment];
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  const logger = createLogger(join(out, 'sweep.log'));
  const datasetName = options.dataset ?? experiment.dataset;
  const datasetExperiment = { ...experiment, dataset: datasetName };

  // Data problems surface here, before any worker starts or any report is written.
  const splits = await loadDataset(datasetName, { dataDir: options.dataDir, validationSize: experiment.scale[options.preset].validationSize });
  logger.info(`dataset ${datasetName}: ${splits.train.count} train / ${splits.validation?.count ?? 0} validation / ${splits.test.count} test from ${splits.directory}`);

  const plan = planExperiment(datasetExperiment, options.preset, options.seeds, splits.checksum);
  const store = new RunStore(join(out, 'runs'));
  const progressChannel = `advx-progress-${process.pid}-${Date.now()}`;
  const channel = new BroadcastChannel(progressChannel);
  const progress = new SweepProgress(plan.units.length, logger);
  channel.onmessage = (message) => progress.onEpoch((message as { data: ProgressEvent }).data);

  logger.info(`sweep ${experiment.id}: preset ${options.preset}, seeds ${options.seeds.join(',')}, ${plan.units.length} units on ${options.workers} workers (backend ${options.backend})`);
  const executor = new PiscinaExecutor({ workers: options.workers, backend: options.backend, dataset: shareSplits(splits), runsDir: store.runsDir, progressChannel });
  let statuses;
  try {
    statuses = await runUnits(plan.units, {
      executor,
      store,
      retries: options.retries,
      unitTimeoutMs: options.unitTimeout ? options.unitTimeout * 1000 : undefined,
      signal,
      onUpdate: (status, counts) => progress.onUnit(status, counts),
    });
  } finally {
    progress.stop();
    channel.close();
    await executor.close();
  }

  const report = buildReport(plan, statuses, (performance.now() - started) / 1000, signal?.aborted ?? false);
  const reportPath = join(out, 'report.json');
  await writeFileAtomic(reportPath, JSON.stringify(report, null, 2));
  await writeFileAtomic(join(out, 'report.md'), renderMarkdown(report));
  logger.info(`backend: ${report.backend}; report written to ${reportPath} (${report.complete ? 'complete' : 'INCOMPLETE'}, ${report.wallSeconds.toFixed(1)} s)`);
  for (const claim of report.claims) logger.info(`${claim.id}: ${claim.status}`);
  await new Promise<void>((done) => logger.on('finish', done).end());
  return { report, reportPath };
}
