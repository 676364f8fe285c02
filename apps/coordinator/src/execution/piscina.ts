import { fileURLToPath } from 'node:url';
import Piscina from 'piscina';
import { decode, encode } from '../units/codec.js';
import type { SharedDataset } from '../compute/shared-data.js';
import { setTensorFlowThreads } from '../compute/runtime.js';
import type { Executor } from '../schedule/executor.js';
import type { Unit, UnitOutput } from '../units/types.js';
import type { WorkerData, WorkerTask } from './protocol.js';

export interface PiscinaExecutorOptions {
  workers: number;
  /** TensorFlow intra-op threads of every unit (compute/runtime.ts): one pool size for the whole process. */
  threadsPerUnit: number;
  backend: string;
  /** May still be loading: workers start (and load TensorFlow) meanwhile, and units wait for it. */
  datasets: Record<string, SharedDataset> | Promise<Record<string, SharedDataset>>;
  runsDir: string;
  progressChannel: string;
}

export class PiscinaExecutor implements Executor {
  private readonly pool: Piscina;
  private readonly datasets: Promise<Record<string, SharedDataset>>;
  private readonly workers: number;

  constructor(options: PiscinaExecutorOptions) {
    // Worker threads share the process's environment: set it here, before any of them loads TF.
    setTensorFlowThreads(options.threadsPerUnit);
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
