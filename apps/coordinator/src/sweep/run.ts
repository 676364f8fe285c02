import { BroadcastChannel } from 'node:worker_threads';
import type winston from 'winston';
import { mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { DataError, loadDataset, type DatasetName, type DatasetSplits } from '@advx/data';
import type { SweepOptions } from './options.js';
import { EXPERIMENTS, type ExperimentSpec } from '../catalogue/experiments/index.js';
import { restrictToClaims } from '../catalogue/restrict-claims.js';
import { BullMQExecutor } from '../execution/bullmq/executor.js';
import { redactRedisUrl } from '../execution/bullmq/shared.js';
import { PiscinaExecutor, type Executor } from '../execution/piscina.js';
import { InlineExecutor } from '../execution/inline.js';
import { createLogger } from '../support/log.js';
import { planExperiment, type Plan } from '../catalogue/plan.js';
import { SweepProgress } from '../schedule/progress.js';
import { farmProfile } from '../schedule/farm-profile.js';
import { provenanceLine } from '../report/provenance.js';
import { buildReport, farmLine, renderMarkdown, type Report } from '../report/build.js';
import { writeFiguresAndHtml } from '../report/figures.js';
import { runUnits, type UnitStatus } from '../schedule/scheduler.js';
import { shareSplits, type SharedDataset } from '../compute/shared-data.js';
import { RunStore, writeFileAtomic } from '../units/store.js';
import type { ProgressEvent } from '../compute/run-unit.js';

export interface SweepOutcome {
  report: Report;
  reportPath: string;
}

/** Experiments on MNIST-shaped data can run on a drop-in replacement (`--dataset fashion-mnist`). */
function datasetFor(experiment: ExperimentSpec, override: DatasetName | undefined): DatasetName {
  return override && experiment.dataset !== 'cifar10' ? override : experiment.dataset;
}

interface SweepData {
  splits: Map<DatasetName, DatasetSplits>;
  validationSizes: Map<DatasetName, number>;
  skipped: { id: string; title: string; section: string; reason: string }[];
  experiments: ExperimentSpec[];
}

/** Reads each dataset the selected experiments use, once, with the largest validation split any asks for. */
async function loadSweepData(selected: ExperimentSpec[], options: SweepOptions, logger: winston.Logger): Promise<SweepData> {
  // Data problems surface here, before any unit runs or any report is written. Only an absent
  // CIFAR-10 skips its experiments (it cannot be had offline); every other problem stops.
  const splits = new Map<DatasetName, DatasetSplits>();
  const validationSizes = new Map<DatasetName, number>();
  const skipped: { id: string; title: string; section: string; reason: string }[] = [];
  const experiments: ExperimentSpec[] = [];
  for (const experiment of selected) {
    const name = datasetFor(experiment, options.dataset);
    if (!splits.has(name)) {
      try {
        const validationSize = Math.max(...selected.filter((e) => datasetFor(e, options.dataset) === name).map((e) => e.scale[options.preset].validationSize));
        const loaded = await loadDataset(name, { dataDir: name === 'cifar10' ? undefined : options.dataDir, validationSize, sharedMemory: true });
        splits.set(name, loaded);
        validationSizes.set(name, validationSize);
        logger.info(`dataset ${name}: ${loaded.train.count} train / ${loaded.validation?.count ?? 0} validation / ${loaded.test.count} test from ${loaded.directory}`);
      } catch (error) {
        if (name === 'cifar10' && options.experiment === 'all' && error instanceof DataError) {
          skipped.push({ id: experiment.id, title: experiment.title, section: experiment.section, reason: `CIFAR-10 is not available here: ${error.message}` });
          logger.warn(`skipping ${experiment.id}: CIFAR-10 not available (${error.message})`);
          continue;
        }
        throw error;
      }
    }
    experiments.push({ ...experiment, dataset: name });
  }
  return { splits, validationSizes, skipped, experiments };
}

/** One sweep: load and share the data, plan units, farm them out, aggregate, write the reports. */
export async function runSweep(options: SweepOptions, signal?: AbortSignal): Promise<SweepOutcome> {
  const started = performance.now();
  const catalogue = options.experiment === 'all' ? Object.values(EXPERIMENTS) : [EXPERIMENTS[options.experiment]];
  const claims = options.claims ? new Set(options.claims) : null;
  const selected = claims ? catalogue.map((e) => restrictToClaims(e, claims)).filter((e) => e !== null) : catalogue;
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  const logger = createLogger(join(out, 'sweep.log'));

  const store = new RunStore(join(out, 'runs'), options.reuse.map((dir) => join(resolve(dir), 'runs')));
  await mkdir(store.runsDir, { recursive: true });
  const progressChannel = `advx-progress-${process.pid}-${Date.now()}`;

  // The embedded executors start now, so their workers load TensorFlow while the data is read.
  let shareDatasets!: (datasets: Record<string, SharedDataset>) => void;
  let failDatasets!: (error: unknown) => void;
  const sharedDatasets = new Promise<Record<string, SharedDataset>>((done, fail) => ((shareDatasets = done), (failDatasets = fail)));
  sharedDatasets.catch(() => {}); // the sweep reports a data error itself
  const embeddedExecutorOptions = { backend: options.backend, datasets: sharedDatasets, runsDir: store.runsDir, progressChannel };
  let executor: Executor | null =
    options.executor === 'piscina'
      ? new PiscinaExecutor({ ...embeddedExecutorOptions, workers: options.workers, threadsPerUnit: options.threadsPerUnit! })
      : options.executor === 'inline'
        ? new InlineExecutor({ ...embeddedExecutorOptions, threadsPerUnit: options.threadsPerUnit! })
        : null;
  const workers = options.executor === 'bullmq' ? undefined : options.executor === 'inline' ? 1 : options.workers;
  const channel = new BroadcastChannel(progressChannel);
  let progress = null as SweepProgress | null; // made once the scheduler knows which units it runs
  let data: SweepData;
  let plans: Plan[];
  let dataReadyAt: number;
  let statuses: Map<string, UnitStatus>;
  try {
    data = await loadSweepData(selected, options, logger);
    dataReadyAt = performance.timeOrigin + performance.now();
    const { splits, validationSizes, experiments } = data;
    plans = experiments.map((e) => planExperiment(e, options.preset, options.seeds, splits.get(e.dataset)!.checksum));
    const units = plans.flatMap((p) => p.units);
    const threads = `${options.threadsPerUnit} TF thread${options.threadsPerUnit === 1 ? '' : 's'} per unit`;
    const where = options.executor === 'bullmq' ? `BullMQ workers at ${redactRedisUrl(options.redis!)}` : options.executor === 'inline' ? `this thread (inline), ${threads}` : `${options.workers} workers, ${threads}`;
    logger.info(`sweep ${options.experiment}: ${experiments.length} experiment(s), preset ${options.preset}, seeds ${options.seeds.join(',')}${options.claims ? `, claims ${options.claims.join(',')} only` : ''}, ${new Set(units.map((u) => u.key)).size} units on ${where} (backend ${options.backend})`);
    if (options.executor === 'bullmq') {
      // Workers load their own copy of each dataset exactly as it was loaded here, and check its checksum.
      const datasets = Object.fromEntries([...splits].map(([name, s]) => [name, { validationSize: validationSizes.get(name)!, checksum: s.checksum }]));
      executor = new BullMQExecutor({ redisUrl: options.redis!, backend: options.backend, runsDir: store.runsDir, datasets, progressChannel, logger });
    } else {
      shareDatasets(Object.fromEntries([...splits].map(([name, s]) => [name, shareSplits(s)])));
    }
    statuses = await runUnits(units, {
      executor: executor!,
      store,
      retries: options.retries,
      unitTimeoutMs: options.unitTimeout ? options.unitTimeout * 1000 : undefined,
      signal,
      // BullMQ workers pull from Redis at their own concurrency; the pool and the inline executor are sized here.
      maxInFlight: workers,
      onStart: (scheduled) => {
        const sweepProgress = new SweepProgress(scheduled, logger, workers);
        progress = sweepProgress;
        channel.onmessage = (message) => sweepProgress.onEpoch((message as { data: ProgressEvent }).data);
      },
      onUpdate: (status, counts, settled) => progress!.onUnit(status, counts, settled),
    });
  } catch (error) {
    failDatasets(error); // no-op once shared; otherwise lets the workers stop waiting for data
    throw error;
  } finally {
    progress?.stop();
    channel.close();
    await executor?.close();
  }
  const { splits, skipped } = data;

  const datasetLabel = [...splits.keys()].join('+');
  const report = buildReport(options.experiment, plans, skipped, statuses, (performance.now() - started) / 1000, signal?.aborted ?? false, options.preset, options.seeds, datasetLabel);
  const rendered = await writeFiguresAndHtml(out, report, plans, statuses, `npx nx run coordinator:sweep ${process.argv.slice(2).join(' ')}`.trim());
  report.farm = farmProfile(statuses.values(), performance.timeOrigin + started, dataReadyAt, workers ?? null);
  if (report.farm) logger.info(farmLine(report.farm));
  logger.info(provenanceLine(report.provenance));
  report.figures = rendered.map((f) => ({ id: f.id, title: f.title, svg: relative(out, f.svgPath), png: relative(out, f.pngPath) }));
  const reportPath = join(out, 'report.json');
  await writeFileAtomic(reportPath, JSON.stringify(report, null, 2));
  await writeFileAtomic(join(out, 'report.md'), renderMarkdown(report));
  logger.info(`backend: ${report.backend}; report written to ${reportPath} (${report.complete ? 'complete' : 'INCOMPLETE'}, ${report.wallSeconds.toFixed(1)} s)`);
  for (const claim of report.claims) logger.info(`${claim.id}: ${claim.status}`);
  await new Promise<void>((done) => logger.on('finish', done).end());
  return { report, reportPath };
}
