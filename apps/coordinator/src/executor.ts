import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import Piscina from 'piscina';
import { decode, encode } from './codec.js';
import type { SharedDataset } from './shared-data.js';
import type { Unit, UnitOutput } from './units.js';
import type { WorkerData, WorkerTask } from './worker.js';

/** Runs one unit somewhere and resolves with its output; the scheduler owns retries and caching. */
export interface Executor {
  run(unit: Unit, signal?: AbortSignal): Promise<UnitOutput>;
  close(): Promise<void>;
}

export interface PiscinaExecutorOptions {
  workers: number;
  backend: string;
  /** May still be loading: workers start (and load TensorFlow) meanwhile, and units wait for it. */
  datasets: Record<string, SharedDataset> | Promise<Record<string, SharedDataset>>;
  runsDir: string;
  progressChannel: string;
}

/**
 * TensorFlow sizes its thread pools to all cores by default; with several workers in one process
 * that oversubscribes the machine, so each worker gets its share (env is read when TF loads).
 */
export function threadsPerWorker(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / workers));
}

/**
 * Pins TensorFlow's thread pools to `threads` unless the user set them. Native TensorFlow reads
 * these from the C environment of the process once, when it loads, so this runs before any
 * thread loads it.
 */
export function setTensorFlowThreads(threads: number): void {
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
  process.env.TF_NUM_INTEROP_THREADS ??= '1';
  process.env.OMP_NUM_THREADS ??= String(threads);
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

export class PiscinaExecutor implements Executor {
  private readonly pool: Piscina;
  private readonly datasets: Promise<Record<string, SharedDataset>>;
  private readonly workers: number;

  constructor(options: PiscinaExecutorOptions) {
    // Worker threads share the process's environment: set it here, before any of them loads TF.
    setTensorFlowThreads(threadsPerWorker(options.workers));
    const workerData: WorkerData = {
      backend: options.backend,
      runsDir: options.runsDir,
      progressChannel: options.progressChannel,
    };
    this.workers = options.workers;
    this.datasets = Promise.resolve(options.datasets);
    this.datasets.catch(() => {}); // the sweep reports a data error itself
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('./worker.mjs', import.meta.url)),
      minThreads: options.workers,
      maxThreads: options.workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      workerData,
    });
  }

  async run(unit: Unit, signal?: AbortSignal): Promise<UnitOutput> {
    const bytes = encode(unit);
    const task: WorkerTask = { unit: bytes, datasets: await this.datasets };
    const reply = (await this.pool.run(task, { signal, transferList: [bytes.buffer as ArrayBuffer] })) as ArrayBuffer;
    return decode<UnitOutput>(new Uint8Array(reply));
  }

  async close(): Promise<void> {
    // A sweep that computed nothing (all cached) ends while its workers may still be loading
    // TensorFlow: one task per worker waits for each to be done (see worker.ts `loaded`). The
    // workers are idle here, so each of these tasks goes to a different one.
    await Promise.allSettled(Array.from({ length: this.workers }, () => this.pool.run(null, { name: 'loaded' })));
    await this.pool.destroy();
  }
}
