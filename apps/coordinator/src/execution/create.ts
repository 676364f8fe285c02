import type winston from 'winston';
import type { DatasetName, DatasetSplits } from '@advx/data';
import { shareSplits, type SharedDataset } from '../compute/shared-data.js';
import type { Executor } from '../schedule/executor.js';
import { BullMQExecutor } from './bullmq/executor.js';
import { redactRedisUrl } from './bullmq/shared.js';
import { InlineExecutor } from './inline.js';
import { PiscinaExecutor } from './piscina.js';

/** Which executor a sweep runs its units on (sweep --executor), with what it needs. */
export type ExecutorChoice =
  | { kind: 'piscina'; workers: number; threadsPerUnit: number }
  | { kind: 'inline'; threadsPerUnit: number }
  | { kind: 'bullmq'; redis: string; /** Seconds Redis may stay unreachable before the sweep gives up on it (default 60). */ deadlineSeconds?: number };

export interface ExecutorContext {
  /** The backend the sweep asks for ('auto' or a name). */
  backend: string;
  runsDir: string;
  progressChannel: string;
  logger: winston.Logger;
}

/** The datasets of a sweep, as loaded by the coordinator. */
export interface LoadedData {
  splits: Map<DatasetName, DatasetSplits>;
  validationSizes: Map<DatasetName, number>;
}

/** An executor being set up: what the sweep needs to know of it before and after the data is read. */
export interface PendingExecutor {
  /** Units handed out at once (the scheduler's maxInFlight); undefined where workers pull at their own pace (BullMQ). */
  workers: number | undefined;
  /** Where the units run, for the log. */
  where: string;
  /** The executor, given the sweep's data: embedded workers share its memory, BullMQ workers load their own copy of it. */
  ready(data: LoadedData): Executor;
  /** The data could not be read: embedded workers stop waiting for it. */
  fail(error: unknown): void;
  close(): Promise<void>;
}

/**
 * Starts the chosen executor. The embedded ones (piscina, inline) start at once, so their workers
 * load TensorFlow while the coordinator reads the data; BullMQ's needs the datasets' checksums first.
 */
export function createExecutor(choice: ExecutorChoice, context: ExecutorContext): PendingExecutor {
  if (choice.kind === 'bullmq') {
    let executor: BullMQExecutor | null = null;
    return {
      workers: undefined,
      where: `BullMQ workers at ${redactRedisUrl(choice.redis)}`,
      ready: ({ splits, validationSizes }) => {
        // Workers load their own copy of each dataset exactly as it was loaded here, and check its checksum.
        const datasets = Object.fromEntries([...splits].map(([name, s]) => [name, { validationSize: validationSizes.get(name)!, checksum: s.checksum }]));
        executor = new BullMQExecutor({ redisUrl: choice.redis, deadlineSeconds: choice.deadlineSeconds, backend: context.backend, runsDir: context.runsDir, datasets, progressChannel: context.progressChannel, logger: context.logger });
        return executor;
      },
      fail: () => {},
      close: async () => executor?.close(),
    };
  }
  let share!: (datasets: Record<string, SharedDataset>) => void;
  let fail!: (error: unknown) => void;
  const datasets = new Promise<Record<string, SharedDataset>>((done, reject) => ((share = done), (fail = reject)));
  datasets.catch(() => {}); // the sweep reports a data error itself
  const embedded = { backend: context.backend, datasets, runsDir: context.runsDir, progressChannel: context.progressChannel, threadsPerUnit: choice.threadsPerUnit };
  const threads = `${choice.threadsPerUnit} TF thread${choice.threadsPerUnit === 1 ? '' : 's'} per unit`;
  const executor = choice.kind === 'piscina' ? new PiscinaExecutor({ ...embedded, workers: choice.workers }) : new InlineExecutor(embedded);
  return {
    workers: choice.kind === 'piscina' ? choice.workers : 1,
    where: choice.kind === 'piscina' ? `${choice.workers} workers, ${threads}` : `this thread (inline), ${threads}`,
    ready: ({ splits }) => {
      share(Object.fromEntries([...splits].map(([name, s]) => [name, shareSplits(s)])));
      return executor;
    },
    fail, // no-op once shared; otherwise lets the workers stop waiting for data
    close: () => executor.close(),
  };
}
