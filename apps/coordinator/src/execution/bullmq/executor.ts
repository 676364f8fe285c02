/**
 * BullMQExecutor: the sweep's units as BullMQ jobs, run by `coordinator:worker` processes on any
 * machine that reaches the Redis server (src/bullmq-worker.ts).
 *
 * Flow shape. Units depend on each other (train before evaluate), and the scheduler releases a
 * unit only when its dependencies are done, so the units of a sweep cannot all be added as one
 * FlowProducer tree up front. Instead each sweep is ONE flow whose parent is an aggregation job
 * ("sweep", in a queue of its own, `sweep-<id>`) created at start with a single delayed "gate"
 * child; every released unit is added to the `units` queue as a further child of that parent
 * (`parent` option). The gate keeps the parent waiting while units come and go; close() removes
 * the gate, the parent becomes ready once every unit job has finished, and the coordinator
 * processes it: it aggregates the children's outputs (`getChildrenValues`, and the failed
 * attempts via `getIgnoredChildrenFailures`) into a summary it logs. The report itself is built,
 * as with Piscina, by sweep/run.ts from the scheduler's statuses — which also cover cached units that
 * never became jobs — so both executors write the same report for the same seeds and backend.
 *
 * Retries. The scheduler keeps owning them (`--retries`, `--unit-timeout`), for both executors
 * alike: a unit job has BullMQ `attempts: 1`, and a failed job (handler error, dead worker thread,
 * dataset mismatch) rejects run(), so the scheduler's retry/failed logic applies and `attempts` in
 * result.json counts the same thing as with Piscina. Each attempt is a new job `<sweep>.<key>.<n>`.
 * BullMQ owns what only it can see: a worker PROCESS that dies or hangs loses its job lock, and
 * its stalled-job checker (run by every live worker) puts the job back in the queue for another
 * worker (up to maxStalledCount, default 1, then the job fails and the scheduler retries). Children
 * use `ignoreDependencyOnFailure`, so failed attempts never block the parent.
 *
 * Progress. Workers forward each epoch as `job.updateProgress(event)`; QueueEvents relays it here,
 * and it is posted on the sweep's progress BroadcastChannel exactly as Piscina threads post it.
 *
 * Models. Worker machines share neither disk nor memory with the coordinator: a train unit's model
 * is uploaded by the worker into Redis (`advx:model:<key>`, msgpackr, 7-day TTL, see shared.ts)
 * and downloaded here into `<runsDir>/<key>/model/`, so the coordinator's runs directory ends up
 * laid out exactly as after a Piscina sweep (resume and caching work unchanged). Before a unit
 * that reads models is enqueued, each model it needs is re-uploaded from the local runs directory
 * if Redis no longer holds it (a resumed sweep, an expired key), and the dependencies' result.json
 * travel in the job payload.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { FlowProducer, Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type winston from 'winston';
import type { Executor } from '../../schedule/executor.js';
import { RunStore } from '../../units/store.js';
import type { Unit, UnitOutput, UnitResult } from '../../units/types.js';
import type { ProgressEvent } from '../../units/progress.js';
import { unitFiles } from '../../units/files.js';
import { CANCEL_CHANNEL, downloadFiles, filesKey, type RedisConnection, packJob, PREFIX, redactRedisUrl, redisOptions, UNITS_QUEUE, unpackOutput, uploadFiles, WORKERS_KEY, HEARTBEAT_MS, type UnitJobData } from './shared.js';

export interface BullMQExecutorOptions {
  redisUrl: string;
  /** The backend the sweep asks for; workers refuse a different one. */
  backend: string;
  runsDir: string;
  /** How each dataset of the sweep was loaded (workers load their own copy the same way). */
  datasets: Record<string, { validationSize: number; checksum: string }>;
  progressChannel: string;
  logger?: winston.Logger;
}

/** Long enough never to fire during a sweep; close() removes the gate long before. */
const GATE_DELAY_MS = 30 * 24 * 3600 * 1000;
const CONNECT_TIMEOUT_MS = 15_000;
/** How long close() waits for the aggregation parent (only unit jobs still running delay it). */
const PARENT_TIMEOUT_MS = 30_000;

interface SweepFlow {
  parent: Job;
  gate: Job;
}

export interface SweepSummary {
  sweepId: string;
  jobs: number;
  failedJobs: number;
  backends: string[];
  computeSeconds: number;
}

export class BullMQExecutor implements Executor {
  readonly sweepId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  private readonly connection: RedisConnection;
  private readonly redis: Redis;
  private readonly queue: Queue<UnitJobData, string>;
  private readonly events: QueueEvents;
  private readonly flows: FlowProducer;
  private readonly channel: BroadcastChannel;
  private readonly store: RunStore;
  private readonly jobs = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly flow: Promise<SweepFlow>;

  constructor(private readonly options: BullMQExecutorOptions) {
    this.connection = redisOptions(options.redisUrl);
    const base = { connection: this.connection, prefix: PREFIX };
    this.redis = new Redis(this.connection);
    this.queue = new Queue<UnitJobData, string>(UNITS_QUEUE, base);
    this.events = new QueueEvents(UNITS_QUEUE, base);
    this.flows = new FlowProducer(base);
    this.store = new RunStore(options.runsDir);
    this.channel = new BroadcastChannel(options.progressChannel);
    this.channel.unref();
    this.events.on('progress', ({ jobId, data }) => {
      if (this.jobs.has(jobId) && typeof data === 'object' && data !== null && (data as ProgressEvent).type === 'epoch') this.channel.postMessage(data);
    });
    this.flow = this.start();
    this.flow.catch(() => {}); // surfaced by run() and close()
  }

  private get sweepQueue(): string {
    return `sweep-${this.sweepId}`;
  }

  private async start(): Promise<SweepFlow> {
    let timer: NodeJS.Timeout | undefined;
    const unreachable = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${redactRedisUrl(this.options.redisUrl)} within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.events.waitUntilReady(), unreachable]);
    } finally {
      clearTimeout(timer);
    }
    const tree = await this.flows.add({
      name: 'sweep',
      queueName: this.sweepQueue,
      data: { sweepId: this.sweepId, backend: this.options.backend, startedAt: new Date().toISOString() },
      opts: { jobId: 'sweep' },
      children: [{ name: 'gate', queueName: this.sweepQueue, data: {}, opts: { jobId: 'gate', delay: GATE_DELAY_MS } }],
    });
    const workers = await this.redis.zcount(WORKERS_KEY, Date.now() - 3 * HEARTBEAT_MS, '+inf');
    const where = redactRedisUrl(this.options.redisUrl);
    if (workers === 0) this.options.logger?.warn(`no BullMQ worker is connected to ${where} yet: units wait in the queue until one starts (npx nx run coordinator:worker --redis ${where})`);
    else this.options.logger?.info(`BullMQ sweep ${this.sweepId}: ${workers} worker process(es) on ${where}`);
    return { parent: tree.job, gate: tree.children![0].job };
  }

  async run(unit: Unit, signal?: AbortSignal): Promise<UnitOutput> {
    const { parent } = await this.flow;
    signal?.throwIfAborted();
    const dependencyResults: Record<string, UnitResult> = {};
    for (const dependency of unit.dependsOn) {
      const result = await this.store.read(dependency);
      if (!result) throw new Error(`unit ${unit.key}: its dependency ${dependency} has no result`);
      dependencyResults[dependency] = result;
      const files = unitFiles(this.options.runsDir, dependency, result.config.kind);
      if (files && existsSync(files.marker) && !(await this.redis.exists(filesKey(dependency)))) await uploadFiles(this.redis, dependency, files.directory);
    }
    const dataset = this.options.datasets[unit.config.dataset.name];
    if (!dataset) throw new Error(`dataset ${unit.config.dataset.name} was not loaded for this sweep`);
    const attempt = (this.attempts.get(unit.key) ?? 0) + 1;
    this.attempts.set(unit.key, attempt);
    const jobId = `${this.sweepId}.${unit.key}.${attempt}`;
    this.jobs.add(jobId);
    const job = await this.queue.add(
      unit.role,
      packJob({ sweepId: this.sweepId, unit, backend: this.options.backend, dataset: { name: unit.config.dataset.name, ...dataset }, dependencyResults }),
      {
        jobId,
        parent: { id: parent.id!, queue: parent.queueQualifiedName },
        attempts: 1,
        ignoreDependencyOnFailure: true,
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    );

    const finished = job.waitUntilFinished(this.events) as Promise<string>;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      onAbort = () => {
        void this.cancel(job);
        reject(signal.reason instanceof Error ? signal.reason : new Error(`unit ${unit.key} aborted`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    finished.catch(() => {}); // when the abort wins the race
    try {
      const output = unpackOutput(await Promise.race([finished, aborted]));
      const files = unitFiles(this.options.runsDir, unit.key, unit.config.kind);
      if (files && !(await downloadFiles(this.redis, unit.key, files.directory, true))) {
        throw new Error(`unit ${unit.key} finished but its files are not in Redis`);
      }
      return output;
    } finally {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      this.jobs.delete(jobId);
    }
  }

  /** A waiting job is removed; a running one is aborted by its worker (which terminates the unit's thread). */
  private async cancel(job: Job): Promise<void> {
    try {
      await job.remove();
    } catch {
      await this.redis.publish(CANCEL_CHANNEL, job.id!).catch(() => {});
    }
  }

  /** Releases the gate and runs the aggregation parent once every unit job has finished. */
  private async finish(flow: SweepFlow): Promise<SweepSummary | null> {
    const base = { connection: this.connection, prefix: PREFIX };
    const events = new QueueEvents(this.sweepQueue, base);
    const worker = new Worker<unknown, SweepSummary | null>(
      this.sweepQueue,
      async (job) => {
        if (job.name !== 'sweep') return null;
        const values = Object.values(await job.getChildrenValues<string>()).map(unpackOutput);
        const failures = await job.getIgnoredChildrenFailures();
        return {
          sweepId: this.sweepId,
          jobs: values.length,
          failedJobs: Object.keys(failures).length,
          backends: [...new Set(values.map((v) => v.backend))],
          computeSeconds: values.reduce((sum, v) => sum + v.computeSeconds, 0),
        };
      },
      base,
    );
    try {
      await events.waitUntilReady();
      await flow.gate.remove();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((done) => (timer = setTimeout(() => done(null), PARENT_TIMEOUT_MS)));
      const summary = await Promise.race([flow.parent.waitUntilFinished(events) as Promise<SweepSummary>, timeout]);
      clearTimeout(timer);
      return summary;
    } finally {
      await worker.close();
      await events.close();
    }
  }

  async close(): Promise<void> {
    try {
      const flow = await this.flow.catch(() => null);
      if (flow) {
        const summary = await this.finish(flow).catch((error: unknown) => {
          this.options.logger?.warn(`BullMQ sweep ${this.sweepId}: aggregation job did not finish (${error instanceof Error ? error.message : String(error)})`);
          return null;
        });
        if (summary) this.options.logger?.info(`BullMQ sweep ${this.sweepId}: ${summary.jobs} unit job(s) completed, ${summary.failedJobs} failed attempt(s), backend ${summary.backends.join('+') || 'none'}, ${summary.computeSeconds.toFixed(1)} s of compute`);
        else this.options.logger?.warn(`BullMQ sweep ${this.sweepId}: unit jobs still running after ${PARENT_TIMEOUT_MS / 1000} s; not waiting for the aggregation job`);
      }
    } finally {
      this.channel.close();
      await Promise.allSettled([this.queue.close(), this.events.close(), this.flows.close()]);
      this.redis.disconnect();
    }
  }
}
