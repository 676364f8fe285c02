import { BroadcastChannel } from 'node:worker_threads';
import { runUnit, type WorkerContext } from '../compute/run-unit.js';
import { setTensorFlowThreads, startRuntime } from '../compute/runtime.js';
import type { Executor } from '../schedule/executor.js';
import type { ProgressEvent } from '../units/progress.js';
import type { Unit, UnitOutput } from '../units/types.js';
import type { PiscinaExecutorOptions } from './piscina.js';

/**
 * Runs units one at a time on the coordinator's own thread: no workers, no messages. The bench's
 * single-process baseline for the farm, and a way to profile or debug a unit. Nothing can stop a
 * unit running on this thread, so the CLI refuses --unit-timeout with it.
 */
export class InlineExecutor implements Executor {
  private readonly context: Promise<WorkerContext>;
  private readonly channel: BroadcastChannel;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: Omit<PiscinaExecutorOptions, 'workers'>) {
    // This thread loads TensorFlow below, so its pool size is fixed here for the process's life.
    setTensorFlowThreads(options.threadsPerUnit);
    const channel = new BroadcastChannel(options.progressChannel);
    this.channel = channel;
    this.context = (async () => ({
      ...(await startRuntime(options.backend)),
      datasets: await options.datasets,
      runsDir: options.runsDir,
      progress: (event: ProgressEvent) => channel.postMessage(event),
    }))();
    this.context.catch(() => {}); // surfaces in run(); a data error is the sweep's to report
  }

  run(unit: Unit, signal?: AbortSignal): Promise<UnitOutput> {
    const result = this.queue.then(async () => {
      signal?.throwIfAborted();
      return runUnit(await this.context, unit);
    });
    this.queue = result.catch(() => {});
    return result;
  }

  async close(): Promise<void> {
    await this.queue;
    this.channel.close();
  }
}
