import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import Piscina from 'piscina';
import { decode, encode } from './codec.js';
import type { SharedDataset } from './shared-data.js';
import type { Unit, UnitOutput } from './units.js';
import type { WorkerData } from './worker.js';

/** Runs one unit somewhere and resolves with its output; the scheduler owns retries and caching. */
export interface Executor {
  run(unit: Unit, signal?: AbortSignal): Promise<UnitOutput>;
  close(): Promise<void>;
}

export interface PiscinaExecutorOptions {
  workers: number;
  backend: string;
  datasets: Record<string, SharedDataset>;
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

export class PiscinaExecutor implements Executor {
  private readonly pool: Piscina;

  constructor(options: PiscinaExecutorOptions) {
    // Native TensorFlow reads these from the C environment of the process, which worker threads
    // share: set them on the main thread before any worker loads it. A user's own values win.
    const threads = String(threadsPerWorker(options.workers));
    process.env.TF_NUM_INTRAOP_THREADS ??= threads;
    process.env.TF_NUM_INTEROP_THREADS ??= '1';
    process.env.OMP_NUM_THREADS ??= threads;
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    const workerData: WorkerData = {
      backend: options.backend,
      datasets: options.datasets,
      runsDir: options.runsDir,
      progressChannel: options.progressChannel,
    };
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
    const reply = (await this.pool.run(encode(unit), { signal })) as ArrayBuffer;
    return decode<UnitOutput>(new Uint8Array(reply));
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
