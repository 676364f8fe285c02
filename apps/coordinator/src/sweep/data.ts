import type winston from 'winston';
import { DataError, loadDataset, type DatasetName, type DatasetSplits } from '@advx/data';
import type { ExperimentSpec } from '../catalogue/experiments/index.js';
import type { SweepOptions } from './options.js';

/** Experiments on MNIST-shaped data can run on a drop-in replacement (`--dataset fashion-mnist`). */
function datasetFor(experiment: ExperimentSpec, override: DatasetName | undefined): DatasetName {
  return override && experiment.dataset !== 'cifar10' ? override : experiment.dataset;
}

export interface SweepData {
  splits: Map<DatasetName, DatasetSplits>;
  validationSizes: Map<DatasetName, number>;
  skipped: { id: string; title: string; section: string; reason: string }[];
  experiments: ExperimentSpec[];
}

/** Reads each dataset the selected experiments use, once, with the largest validation split any asks for. */
export async function loadSweepData(selected: ExperimentSpec[], options: SweepOptions, logger: winston.Logger): Promise<SweepData> {
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
