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
import { BroadcastChannel } from 'node:worker_threads';
import { FlowProducer, Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type winston from 'winston';
import type { Executor } from '../../schedule/executor.js';
import { RunStore } from '../../units/store.js';
import type { Unit, UnitOutput, UnitResult } from '../../units/types.js';
import type { ProgressEvent } from '../../units/progress.js';
import { unitFiles } from '../../units/files.js';
import {
  CANCEL_CHANNEL,
  type ConnectionWatch,
  downloadFiles,
  filesKey,
  HEARTBEAT_MS,
  isConnectionError,
  jobKey,
  lockKey,
  packJob,
  PREFIX,
  redactRedisUrl,
  type RedisConnection,
  redisOptions,
  type UnitJobData,
  UNITS_QUEUE,
  unpackOutput,
  uploadFiles,
  watchConnection,
  workerIdOf,
  WORKERS_KEY,
} from './shared.js';

export interface BullMQExecutorOptions {
  redisUrl: string;
  /** The backend the sweep asks for; workers refuse a different one. */
  backend: string;
  runsDir: string;
  /** How each dataset of the sweep was loaded (workers load their own copy the same way). */
  datasets: Record<string, { validationSize: number; checksum: string }>;
  progressChannel: string;
  logger?: winston.Logger;
  /**
   * Seconds Redis may stay unreachable, at the start or in the middle of the sweep, before the
   * executor gives up on it: every unit not finished then fails (`sweep --redis-deadline`).
   */
  deadlineSeconds?: number;
  /** How often the jobs in flight are looked up in Redis (ms): events can be lost with a restarted Redis. */
  pollMs?: number;
}

export const DEFAULT_REDIS_DEADLINE_SECONDS = 60;
/** Long enough never to fire during a sweep; close() removes the gate long before. */
const GATE_DELAY_MS = 30 * 24 * 3600 * 1000;
/** How long close() waits for the aggregation parent (only unit jobs still running delay it). */
const PARENT_TIMEOUT_MS = 30_000;
/** How long close() waits for BullMQ's connections to close (connected; 1 s when Redis is gone). */
const CLOSE_TIMEOUT_MS = 5_000;
const POLL_MS = 3_000;
/** A worker whose heartbeat (every HEARTBEAT_MS) is older than this is presumed dead. */
const STALE_HEARTBEAT_MS = 2.5 * HEARTBEAT_MS;
/** Times one attempt's job may be lost with Redis and enqueued again before the attempt fails. */
const MAX_REQUEUES = 5;

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

/** How a unit job ended, as seen from here. `lost`: Redis no longer holds it (restarted without persistence, flushed). */
type Outcome = { kind: 'completed'; value: string } | { kind: 'failed'; reason: string } | { kind: 'lost'; why: string };

/** A job this executor waits on. */
interface InFlight {
  unit: Unit;
  jobId: string;
  /** false until queue.add() has returned (the poller leaves it alone until then). */
  enqueued: boolean;
  settle: (outcome: Outcome) => void;
  /** The worker on which this job was last reported stalled (logged once per worker). */
  stalledOn: string | null;
}

const label = (unit: Unit) => `${unit.role} seed ${unit.seed}`;
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((done) => (timer = setTimeout(() => done(fallback), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class BullMQExecutor implements Executor {
  readonly sweepId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  private readonly connection: RedisConnection;
  private readonly where: string;
  private readonly deadlineMs: number;
  private readonly pollMs: number;
  private readonly redis: Redis;
  private readonly watch: ConnectionWatch;
  private readonly queue: Queue<UnitJobData, string>;
  private readonly events: QueueEvents;
  private readonly flows: FlowProducer;
  private readonly channel: BroadcastChannel;
  private readonly store: RunStore;
  private readonly attempts = new Map<string, number>();
  private readonly inFlight = new Map<string, InFlight>();
  private flow: Promise<SweepFlow>;
  private flowRepair: Promise<SweepFlow> | null = null;
  private flowRecreated = false;
  /** Set once Redis stayed unreachable past the deadline; every run() rejects with it from then on. */
  private fatal: Error | null = null;
  private readonly gaveUp: Promise<never>;
  private giveUp!: (error: Error) => void;
  private readonly monitor: NodeJS.Timeout;
  private polling = false;
  private lastPoll = 0;
  private closing = false;

  constructor(private readonly options: BullMQExecutorOptions) {
    this.connection = redisOptions(options.redisUrl);
    this.where = redactRedisUrl(options.redisUrl);
    this.deadlineMs = (options.deadlineSeconds ?? DEFAULT_REDIS_DEADLINE_SECONDS) * 1000;
    this.pollMs = options.pollMs ?? POLL_MS;
    this.gaveUp = new Promise<never>((_, reject) => (this.giveUp = reject));
    this.gaveUp.catch(() => {}); // surfaced by run()
    const base = { connection: this.connection, prefix: PREFIX };
    this.redis = new Redis(this.connection);
    this.watch = watchConnection(this.redis, {
      onDown: (reason) => {
        if (!this.closing && !this.fatal) this.options.logger?.warn(`lost the connection to Redis at ${this.where} (${reason}): reconnecting; giving up if it is not back within ${this.deadlineMs / 1000} s (--redis-deadline)`);
      },
      onUp: (seconds, first) => {
        if (first || this.closing || this.fatal) return;
        this.options.logger?.info(`reconnected to Redis at ${this.where} after ${seconds.toFixed(1)} s: checking the sweep's ${this.inFlight.size} job(s)`);
        this.lastPoll = 0; // at the next tick
      },
      onError: (error) => this.options.logger?.warn(`Redis at ${this.where}: ${error.message}`),
    });
    this.queue = new Queue<UnitJobData, string>(UNITS_QUEUE, base);
    this.events = new QueueEvents(UNITS_QUEUE, base);
    this.flows = new FlowProducer(base);
    // Connection errors are the watch's to report (once per outage, not once per retry).
    const onError = (error: Error) => {
      if (!isConnectionError(error) && !this.closing) this.options.logger?.warn(`BullMQ: ${error.message}`);
    };
    this.queue.on('error', onError);
    this.events.on('error', onError);
    this.flows.on('error', onError);
    this.store = new RunStore(options.runsDir);
    this.channel = new BroadcastChannel(options.progressChannel);
    this.channel.unref();
    this.events.on('progress', ({ jobId, data }) => {
      if (this.inFlight.has(jobId) && typeof data === 'object' && data !== null && (data as ProgressEvent).type === 'epoch') this.channel.postMessage(data);
    });
    this.events.on('completed', ({ jobId, returnvalue }) => this.inFlight.get(jobId)?.settle({ kind: 'completed', value: returnvalue as unknown as string }));
    this.events.on('failed', ({ jobId, failedReason }) => this.inFlight.get(jobId)?.settle({ kind: 'failed', reason: failedReason }));
    this.events.on('stalled', ({ jobId }) => {
      const job = this.inFlight.get(jobId);
      if (!job) return;
      this.options.logger?.warn(`${label(job.unit)} (${jobId}) stalled${job.stalledOn ? ` on worker ${job.stalledOn}` : ''}: BullMQ put it back in the queue for a live worker`);
      job.stalledOn = null;
    });
    this.monitor = setInterval(() => this.tick(), 1000);
    this.monitor.unref();
    this.flow = this.start();
    this.flow.catch(() => {}); // surfaced by run() and close()
  }

  private get sweepQueue(): string {
    return `sweep-${this.sweepId}`;
  }

  /** Resolves with the promise, or rejects once Redis has been unreachable past the deadline. */
  private guard<T>(promise: Promise<T>): Promise<T> {
    return Promise.race([promise, this.gaveUp]);
  }

  private async start(): Promise<SweepFlow> {
    await this.guard(Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady(), this.flows.waitUntilReady()]));
    const flow = await this.guard(this.createFlow());
    const workers = await this.guard(this.redis.zcount(WORKERS_KEY, Date.now() - 3 * HEARTBEAT_MS, '+inf'));
    if (workers === 0) this.options.logger?.warn(`no BullMQ worker is connected to ${this.where} yet: units wait in the queue until one starts (npx nx run coordinator:worker --redis ${this.where})`);
    else this.options.logger?.info(`BullMQ sweep ${this.sweepId}: ${workers} worker process(es) on ${this.where}`);
    return flow;
  }

  private async createFlow(): Promise<SweepFlow> {
    const tree = await this.flows.add({
      name: 'sweep',
      queueName: this.sweepQueue,
      data: { sweepId: this.sweepId, backend: this.options.backend, startedAt: new Date().toISOString() },
      opts: { jobId: 'sweep' },
      children: [{ name: 'gate', queueName: this.sweepQueue, data: {}, opts: { jobId: 'gate', delay: GATE_DELAY_MS } }],
    });
    return { parent: tree.job, gate: tree.children![0].job };
  }

  /** The sweep's parent job, re-created (once, for every caller at the time) when Redis has lost it. */
  private async parent(): Promise<Job> {
    const flow = await this.flow;
    if (await this.redis.exists(jobKey(this.sweepQueue, 'sweep'))) return flow.parent;
    this.flowRepair ??= (async () => {
      this.options.logger?.warn(`BullMQ sweep ${this.sweepId}: its flow is no longer in Redis (restarted without persistence?): re-created; the summary counts the jobs from here on`);
      this.flowRecreated = true;
      this.flow = this.createFlow();
      this.flow.catch(() => {});
      return this.flow;
    })().finally(() => (this.flowRepair = null));
    return (await this.flowRepair).parent;
  }

  /** Every second: the deadline; every pollMs while connected, the jobs in flight. */
  private tick(): void {
    if (this.fatal) return;
    const { downSince } = this.watch;
    if (downSince !== null && Date.now() - downSince > this.deadlineMs) {
      const why = this.watch.lastError ? ` (${this.watch.lastError})` : '';
      const what = `Redis at ${this.where} ${this.watch.everUp ? 'unreachable' : 'not reachable'} for ${this.deadlineMs / 1000} s`;
      this.fatal = new Error(`${what} (--redis-deadline)`);
      this.options.logger?.error(`${what}${why}: giving up (--redis-deadline); the units not finished are reported failed, the report incomplete`);
      this.giveUp(this.fatal);
      return;
    }
    if (this.watch.connected && Date.now() - this.lastPoll >= this.pollMs) void this.poll();
  }

  /**
   * Looks every job in flight up in Redis: it may have finished while QueueEvents was
   * reconnecting, been lost with a restarted Redis, or be stalled on a dead worker.
   */
  private async poll(): Promise<void> {
    if (this.polling || this.closing) return;
    this.polling = true;
    this.lastPoll = Date.now();
    try {
      for (const job of [...this.inFlight.values()]) if (job.enqueued) await this.guard(this.check(job));
    } catch (error) {
      if (!isConnectionError(error) && !this.fatal) this.options.logger?.warn(`BullMQ sweep ${this.sweepId}: checking its jobs: ${message(error)}`);
    } finally {
      this.polling = false;
    }
  }

  private async check(job: InFlight): Promise<void> {
    const { jobId } = job;
    const state = await this.queue.getJobState(jobId);
    if (this.inFlight.get(jobId) !== job) return; // settled meanwhile
    if (state === 'completed' || state === 'failed') {
      const stored = await Job.fromId<UnitJobData, string>(this.queue, jobId);
      if (!stored) job.settle({ kind: 'lost', why: 'its job is no longer in Redis' });
      else if (state === 'completed') job.settle({ kind: 'completed', value: stored.returnvalue });
      else job.settle({ kind: 'failed', reason: stored.failedReason });
    } else if (state === 'unknown') {
      job.settle({ kind: 'lost', why: 'its job is no longer in Redis' });
    } else if (state === 'active') {
      await this.checkStalled(job);
    }
  }

  /**
   * An active job is stalled (BullMQ's word) when its lock has expired, which the worker renews
   * while it lives; its worker's heartbeat (WORKERS_KEY) tells the same sooner. BullMQ's
   * stalled-job check, run by every live worker, then puts it back in the queue.
   */
  private async checkStalled(job: InFlight): Promise<void> {
    const [processedBy, locked] = await Promise.all([this.redis.hget(jobKey(UNITS_QUEUE, job.jobId), 'pb'), this.redis.exists(lockKey(UNITS_QUEUE, job.jobId))]);
    const worker = workerIdOf(processedBy) ?? 'unknown';
    let reason: string | null = locked ? null : 'its lock has expired';
    if (!reason && worker !== 'unknown') {
      const beat = await this.redis.zscore(WORKERS_KEY, worker);
      const age = beat === null ? 0 : Date.now() - Number(beat);
      if (age > STALE_HEARTBEAT_MS) reason = `no heartbeat from that worker for ${Math.round(age / 1000)} s`;
    }
    if (!reason) {
      job.stalledOn = null;
      return;
    }
    if (job.stalledOn === worker) return;
    job.stalledOn = worker;
    this.options.logger?.warn(`waiting for a stalled job on worker ${worker}: ${label(job.unit)} (${job.jobId}), ${reason}; BullMQ's stalled-job check puts it back in the queue for a live worker`);
  }

  async run(unit: Unit, signal?: AbortSignal): Promise<UnitOutput> {
    if (this.fatal) throw this.fatal;
    await this.guard(this.flow);
    signal?.throwIfAborted();
    const attempt = (this.attempts.get(unit.key) ?? 0) + 1;
    this.attempts.set(unit.key, attempt);
    const first = `${this.sweepId}.${unit.key}.${attempt}`;
    let jobId = first;

    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      onAbort = () => {
        void this.cancel(jobId);
        reject(signal.reason instanceof Error ? signal.reason : new Error(`unit ${unit.key} aborted`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      for (let requeues = 0; ; requeues++) {
        let outcome = await Promise.race([this.guard(this.submit(unit, jobId, requeues > 0)), aborted]);
        if (outcome.kind === 'completed') {
          const files = unitFiles(this.options.runsDir, unit.key, unit.config.kind);
          if (!files || (await this.guard(downloadFiles(this.redis, unit.key, files.directory, true)))) return unpackOutput(outcome.value);
          outcome = { kind: 'lost', why: 'it finished but its files are no longer in Redis' };
        }
        if (outcome.kind === 'failed') throw new Error(outcome.reason);
        if (requeues === MAX_REQUEUES) throw new Error(`unit ${unit.key}: Redis lost its job ${MAX_REQUEUES + 1} times`);
        const next = `${first}-r${requeues + 1}`;
        this.options.logger?.warn(`${label(unit)} (${jobId}): ${outcome.why} (Redis restarted?): enqueued again as ${next}`);
        jobId = next;
      }
    } finally {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      this.inFlight.delete(jobId);
    }
  }

  /** Enqueues the unit as `jobId` and resolves with how that job ends. */
  private async submit(unit: Unit, jobId: string, lostBefore: boolean): Promise<Outcome> {
    let settle!: (outcome: Outcome) => void;
    const outcome = new Promise<Outcome>((done) => (settle = done));
    const job: InFlight = {
      unit,
      jobId,
      enqueued: false,
      stalledOn: null,
      settle: (o) => {
        if (this.inFlight.get(jobId) === job) this.inFlight.delete(jobId);
        settle(o);
      },
    };
    this.inFlight.set(jobId, job); // before add(): its events may arrive before add() returns
    try {
      await this.enqueue(unit, jobId, lostBefore);
    } catch (error) {
      this.inFlight.delete(jobId);
      throw error;
    }
    job.enqueued = true;
    return outcome;
  }

  private async enqueue(unit: Unit, jobId: string, lostBefore: boolean): Promise<void> {
    const dependencyResults: Record<string, UnitResult> = {};
    for (const dependency of unit.dependsOn) {
      const result = await this.store.read(dependency);
      if (!result) throw new Error(`unit ${unit.key}: its dependency ${dependency} has no result`);
      dependencyResults[dependency] = result;
      // Also after a Redis restart: the files the coordinator holds go back up.
      const files = unitFiles(this.options.runsDir, dependency, result.config.kind);
      if (files && existsSync(files.marker) && !(await this.redis.exists(filesKey(dependency)))) await uploadFiles(this.redis, dependency, files.directory);
    }
    const dataset = this.options.datasets[unit.config.dataset.name];
    if (!dataset) throw new Error(`dataset ${unit.config.dataset.name} was not loaded for this sweep`);
    const data = packJob({
      sweepId: this.sweepId,
      unit,
      backend: this.options.backend,
      dataset: { name: unit.config.dataset.name, ...dataset },
      dependencyResults,
      ...(lostBefore ? { lostBefore: true } : {}),
    });
    const add = async () => {
      const parent = await this.parent();
      return this.queue.add(unit.role, data, {
        jobId,
        parent: { id: parent.id!, queue: parent.queueQualifiedName },
        attempts: 1,
        ignoreDependencyOnFailure: true,
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    };
    try {
      await add();
    } catch (error) {
      // The parent went with a Redis restart between parent() and add(): parent() re-creates it.
      if (!/Missing key for parent job/.test(message(error))) throw error;
      await add();
    }
  }

  /** A waiting job is removed; a running one is aborted by its worker (which terminates the unit's thread). */
  private async cancel(jobId: string): Promise<void> {
    try {
      if (await this.queue.remove(jobId)) return;
    } catch {
      // locked: running
    }
    await this.redis.publish(CANCEL_CHANNEL, jobId).catch(() => {});
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
    const ignore = () => {};
    events.on('error', ignore);
    worker.on('error', ignore);
    try {
      await events.waitUntilReady();
      await flow.gate.remove();
      return await within(flow.parent.waitUntilFinished(events) as Promise<SweepSummary>, PARENT_TIMEOUT_MS, null);
    } finally {
      await within(Promise.allSettled([worker.close(), events.close()]), CLOSE_TIMEOUT_MS, null);
    }
  }

  async close(): Promise<void> {
    try {
      const flow = this.fatal ? null : await this.guard(this.flow).catch(() => null);
      if (flow) {
        const summary = await this.guard(this.finish(flow)).catch((error: unknown) => {
          if (!this.fatal) this.options.logger?.warn(`BullMQ sweep ${this.sweepId}: aggregation job did not finish (${message(error)})`);
          return undefined;
        });
        const since = this.flowRecreated ? ' (since its flow was re-created)' : '';
        if (summary) this.options.logger?.info(`BullMQ sweep ${this.sweepId}: ${summary.jobs} unit job(s) completed${since}, ${summary.failedJobs} failed attempt(s), backend ${summary.backends.join('+') || 'none'}, ${summary.computeSeconds.toFixed(1)} s of compute`);
        else if (summary === null) this.options.logger?.warn(`BullMQ sweep ${this.sweepId}: unit jobs still running after ${PARENT_TIMEOUT_MS / 1000} s; not waiting for the aggregation job`);
      }
    } finally {
      this.closing = true;
      clearInterval(this.monitor);
      this.channel.close();
      // Connected, BullMQ closes its connections cleanly; with Redis gone, a QUIT would wait for it forever.
      const connected = this.watch.connected && !this.fatal;
      await within(Promise.allSettled([this.queue.close(), this.events.close(), this.flows.close()]), connected ? CLOSE_TIMEOUT_MS : 1000, null);
      this.redis.disconnect();
    }
  }
}
