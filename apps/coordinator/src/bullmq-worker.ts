/**
 * `npx nx run coordinator:worker --redis redis://host:port [--concurrency n] [--threads-per-unit t]
 * [--backend b] [--data-dir d] [--runs-dir r] [--gpu i]`: a BullMQ worker process for `sweep --executor bullmq`.
 * Start any number, on any machines that reach the Redis server; one process per GPU (`--gpu i`
 * sets CUDA_VISIBLE_DEVICES=i and, when @tensorflow/tfjs-node-gpu is installed, uses it).
 *
 * The process's main thread only talks to Redis (job locks, stalled-job checks, progress); units
 * run in a PiscinaExecutor of `--concurrency` threads — the same worker.ts/compute/run-unit.ts (runUnit,
 * selectBackend) as a local sweep, one tfjs engine per thread — so a heavy synchronous epoch can
 * never starve BullMQ's lock renewal, and the numbers are those of a Piscina sweep.
 *
 * Per job: load the unit's dataset (from --data-dir / $MNIST_DIR / the cache, as the coordinator
 * loaded it, and refuse it unless its checksum equals the one in the unit's config), write the
 * dependencies' result.json and models (from Redis) into --runs-dir, run the unit, upload a train
 * unit's model to Redis, and return the output. SIGINT/SIGTERM: stop taking jobs, finish the
 * running ones (worker.close()), exit 0; a second signal exits at once (the job's lock then
 * expires and BullMQ hands it to another worker).
 *
 * Redis going away: every connection reconnects (shared.ts: backoff to 5 s, forever) and the
 * worker stays up; it logs the outage once and the reconnection once. A job lost with a restarted
 * Redis cannot be delivered (BullMQ: "Missing key for job …"); the coordinator enqueues the unit
 * again, marked `lostBefore`, and this worker then hands back the output it kept rather than
 * computing the unit a second time (same key = same work).
 */
import { Command, Option } from 'commander';
import { integerAtLeast, optionsOrExitCode, parseCommand, UsageError } from './support/command-line.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { loadDataset, type DatasetName } from '@advx/data';
import { BACKEND_PREFERENCE } from '@advx/models';
import { PiscinaExecutor } from './execution/piscina.js';
import { resolveThreadsPerUnit, threadsPerWorker } from './compute/runtime.js';
import { createLogger } from './support/log.js';
import { shareSplits, type SharedDataset } from './compute/shared-data.js';
import { writeFileAtomic } from './support/atomic-write.js';
import type { ProgressEvent } from './units/progress.js';
import { resultPath, unitFiles } from './units/files.js';
import { unitFilesIntact } from './units/integrity.js';
import {
  CANCEL_CHANNEL,
  downloadFiles,
  HEARTBEAT_MS,
  isConnectionError,
  packOutput,
  PREFIX,
  redactRedisUrl,
  redisOptions,
  type UnitJobData,
  type UnitJobPayload,
  UNITS_QUEUE,
  unpackJob,
  uploadFiles,
  watchConnection,
  WORKER_NAME_PREFIX,
  WORKERS_KEY,
} from './execution/bullmq/shared.js';

/** Outputs kept for units whose job Redis may lose after they ran (the last few). */
const KEPT_OUTPUTS = 32;

interface WorkerOptions {
  redis: string;
  concurrency: number;
  threadsPerUnit: number;
  backend: string;
  dataDir: string | undefined;
  runsDir: string;
  gpu: number | undefined;
  lockDuration: number;
}

function parseArgs(argv: string[]): WorkerOptions | 'help' {
  const command = new Command('worker')
    .description('BullMQ worker for `sweep --executor bullmq`: runs sweep units from the Redis queue.')
    .requiredOption('--redis <url>', 'Redis server, redis://[user:password@]host:port[/db]')
    .option('--concurrency <n>', 'units run at once (worker threads, one tfjs engine each)', integerAtLeast('--concurrency', 1), 1)
    .option('--threads-per-unit <n>', 'TensorFlow intra-op threads of each unit (default $TF_NUM_INTRAOP_THREADS, else cores ÷ concurrency); bitwise-equal numbers need the same value', integerAtLeast('--threads-per-unit', 1))
    .addOption(new Option('--backend <name>', "tfjs backend; auto = the sweep's --backend").choices(['auto', ...BACKEND_PREFERENCE]).default('auto'))
    .option('--data-dir <dir>', 'directory holding the dataset files (else $MNIST_DIR, else the user cache)')
    .option('--runs-dir <dir>', 'where models and results of dependencies are materialised', join(tmpdir(), 'advx-bullmq-runs'))
    .option('--gpu <index>', 'sets CUDA_VISIBLE_DEVICES for this process (one worker process per GPU)', integerAtLeast('--gpu', 0))
    .option('--lock-duration <ms>', 'BullMQ job lock (ms); a worker silent this long is presumed dead and its job re-queued (also the stalled-check interval)', integerAtLeast('--lock-duration', 1000), 30_000);
  if (parseCommand(command, argv) === 'help') return 'help';
  const o = command.opts();
  try {
    redisOptions(o.redis);
  } catch (error) {
    throw new UsageError(`--redis: ${(error as Error).message}`);
  }
  const threadsPerUnit = resolveThreadsPerUnit(o.threadsPerUnit, threadsPerWorker(o.concurrency));
  return { redis: o.redis, concurrency: o.concurrency, threadsPerUnit, backend: o.backend, dataDir: o.dataDir, runsDir: resolve(o.runsDir), gpu: o.gpu, lockDuration: o.lockDuration };
}

/** The backend a job runs on: the worker's own choice, unless it is auto; a conflict is an error. */
function backendFor(worker: string, sweep: string): string {
  if (worker === 'auto') return sweep;
  if (sweep !== 'auto' && sweep !== worker) throw new Error(`the sweep asks for backend ${sweep} but this worker runs ${worker}`);
  return worker;
}

async function main(argv: string[]): Promise<number> {
  const o = optionsOrExitCode('worker', () => parseArgs(argv));
  if (typeof o === 'number') return o;

  // Native TensorFlow reads these when it loads, in the unit threads, i.e. after this point.
  if (o.gpu !== undefined) {
    process.env.CUDA_VISIBLE_DEVICES = String(o.gpu);
    const require = createRequire(import.meta.url);
    try {
      require.resolve('@tensorflow/tfjs-node-gpu');
      process.env.ADVX_TFJS_NODE_PACKAGE ??= '@tensorflow/tfjs-node-gpu';
    } catch {
      // CPU TensorFlow: the variable is harmless.
    }
  }
  const logger = createLogger(null);
  const connection = redisOptions(o.redis);
  const redis = new Redis(connection);
  const subscriber = new Redis(connection);
  const where = redactRedisUrl(o.redis);
  let stopping = false;
  // One line when Redis goes and one when it is back, not one per reconnection attempt.
  watchConnection(redis, {
    onDown: (reason) => !stopping && logger.warn(`lost the connection to Redis at ${where} (${reason}): reconnecting; running units go on`),
    onUp: (seconds, first) => !first && logger.info(`reconnected to Redis at ${where} after ${seconds.toFixed(1)} s`),
    onError: (error) => logger.warn(`Redis: ${error.message}`),
  });
  watchConnection(subscriber, { onError: (error) => logger.warn(`Redis (cancel channel): ${error.message}`) });
  /** `backend/unit key` → packed output, for a unit enqueued again because Redis lost its job (payload.lostBefore). */
  const kept = new Map<string, string>();

  // One Piscina pool per (backend, dataset as loaded): normally a single one for a worker's life.
  const datasets = new Map<string, Promise<SharedDataset>>();
  const pools = new Map<string, PiscinaExecutor>();
  const progressChannel = `advx-worker-progress-${process.pid}`;
  const channel = new BroadcastChannel(progressChannel);
  const running = new Map<string, { job: Job<UnitJobData, string>; key: string; controller: AbortController }>();
  channel.onmessage = (message) => {
    const event = (message as { data: ProgressEvent }).data;
    for (const r of running.values()) if (r.key === event.key) r.job.updateProgress(event).catch(() => {});
  };

  const dataset = (spec: UnitJobPayload['dataset']): Promise<SharedDataset> => {
    const id = `${spec.name}@${spec.validationSize}`;
    let loading = datasets.get(id);
    if (!loading) {
      loading = (async () => {
        const loaded = await loadDataset(spec.name as DatasetName, { dataDir: spec.name === 'cifar10' ? undefined : o.dataDir, validationSize: spec.validationSize, sharedMemory: true });
        if (loaded.checksum !== spec.checksum) throw new Error(`dataset ${spec.name} in ${loaded.directory} has checksum ${loaded.checksum.slice(0, 12)}…, the sweep's has ${spec.checksum.slice(0, 12)}…: point --data-dir at the same files`);
        logger.info(`dataset ${spec.name}: ${loaded.train.count} train / ${loaded.validation?.count ?? 0} validation / ${loaded.test.count} test from ${loaded.directory}`);
        return shareSplits(loaded);
      })();
      loading.catch(() => datasets.delete(id)); // a fixed data directory is picked up by the next job
      datasets.set(id, loading);
    }
    return loading;
  };

  const pool = (backend: string, shared: SharedDataset, validationSize: number): PiscinaExecutor => {
    const id = `${backend}/${shared.name}@${validationSize}`;
    let executor = pools.get(id);
    if (!executor) {
      executor = new PiscinaExecutor({ workers: o.concurrency, threadsPerUnit: o.threadsPerUnit, backend, datasets: { [shared.name]: shared }, runsDir: o.runsDir, progressChannel });
      pools.set(id, executor);
    }
    return executor;
  };

  const processor = async (job: Job<UnitJobData, string>): Promise<string> => {
    const payload = unpackJob(job.data);
    const { unit } = payload;
    if (unit.config.dataset.checksum !== payload.dataset.checksum) throw new Error(`unit ${unit.key}: its dataset checksum differs from the sweep's`);
    const backend = backendFor(o.backend, payload.backend);
    const shared = await dataset(payload.dataset);
    for (const dependency of unit.dependsOn) {
      const result = payload.dependencyResults[dependency];
      if (!result) throw new Error(`unit ${unit.key}: the job carries no result of its dependency ${dependency}`);
      await writeFileAtomic(resultPath(o.runsDir, dependency), JSON.stringify(result, null, 2));
      const files = unitFiles(o.runsDir, dependency, result.config.kind);
      // A local copy that is not the bytes the result records is replaced by Redis's (which the unit checks again).
      const intact = existsSync(files?.marker ?? '') && (await unitFilesIntact(o.runsDir, dependency, result.config.kind, result.files));
      if (files && !intact && !(await downloadFiles(redis, dependency, files.directory, true))) {
        throw new Error(`files of ${dependency} are neither in Redis nor in ${files.directory}`);
      }
    }
    const files = unitFiles(o.runsDir, unit.key, unit.config.kind);
    const keptAs = `${backend}/${unit.key}`;
    const earlier = payload.lostBefore ? kept.get(keptAs) : undefined;
    if (earlier !== undefined && (!files || existsSync(files.marker))) {
      if (files) await uploadFiles(redis, unit.key, files.directory);
      logger.info(`${unit.role} seed ${unit.seed} (${unit.key}): Redis lost its earlier job; handing back the output computed here before`);
      return earlier;
    }
    const controller = new AbortController();
    running.set(job.id!, { job, key: unit.key, controller });
    let output;
    try {
      output = await pool(backend, shared, payload.dataset.validationSize).run(unit, controller.signal);
    } finally {
      running.delete(job.id!);
    }
    if (files) await uploadFiles(redis, unit.key, files.directory);
    logger.info(`${unit.role} seed ${unit.seed} (${unit.key}) done in ${output.computeSeconds.toFixed(1)} s on ${output.backend}`);
    const packed = packOutput(output);
    kept.delete(keptAs);
    kept.set(keptAs, packed);
    if (kept.size > KEPT_OUTPUTS) kept.delete(kept.keys().next().value!);
    return packed;
  };

  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (_channel: string, jobId: string) => {
    const r = running.get(jobId);
    if (!r) return;
    logger.warn(`${jobId}: cancelled by the coordinator (unit timeout)`);
    r.controller.abort(new Error('cancelled by the coordinator'));
  });

  const worker = new Worker<UnitJobData, string>(UNITS_QUEUE, processor, {
    connection,
    prefix: PREFIX,
    concurrency: o.concurrency,
    lockDuration: o.lockDuration,
    // A dead worker's job is back in the queue within about two lock durations.
    stalledInterval: o.lockDuration,
    name: `${WORKER_NAME_PREFIX}${hostname()}:${process.pid}`,
  });
  worker.on('active', (job) => logger.info(`${job.name}: started ${job.id}`));
  worker.on('failed', (job, error) => logger.warn(`${job?.name ?? '?'}: ${job?.id ?? ''} failed: ${error.message}`));
  const reportedLost = new Set<string>();
  worker.on('error', (error) => {
    if (isConnectionError(error)) return; // the connection watch reports the outage once
    const lost = /^Missing (key|lock) for job (\S+)\. (\w+)/.exec(error.message);
    // BullMQ tries to complete the job, then to fail it: one line for both.
    if (lost && reportedLost.has(lost[2])) return;
    if (lost) reportedLost.add(lost[2]);
    if (lost) logger.warn(`job ${lost[2]} is no longer in Redis (${lost[3]}: Redis restarted or the job was taken over): its result stays here; the coordinator enqueues lost units again`);
    else logger.error(`worker: ${error.message}`);
  });
  worker.on('lockRenewalFailed', (jobIds) => logger.warn(`could not renew the lock of job(s) ${jobIds.join(', ')}: BullMQ may hand them to another worker`));
  await worker.waitUntilReady();
  const me = `${hostname()}:${process.pid}`;
  const beat = () => redis.zadd(WORKERS_KEY, Date.now(), me).catch(() => {});
  await beat();
  const heartbeat = setInterval(beat, HEARTBEAT_MS);
  logger.info(
    `worker ${hostname()}:${process.pid} on ${redactRedisUrl(o.redis)}, queue ${PREFIX}:${UNITS_QUEUE}: concurrency ${o.concurrency} × ${o.threadsPerUnit} TF thread(s) per unit, backend ${o.backend}, runs dir ${o.runsDir}` +
      (o.gpu !== undefined ? `, CUDA_VISIBLE_DEVICES=${o.gpu} (${process.env.ADVX_TFJS_NODE_PACKAGE ?? '@tensorflow/tfjs-node'})` : ''),
  );

  return new Promise<number>((done) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      logger.info(`${signal}: finishing ${running.size} running unit(s), then exiting (again to exit at once)`);
      void (async () => {
        clearInterval(heartbeat);
        await redis.zrem(WORKERS_KEY, me).catch(() => {});
        await worker.close();
        await Promise.allSettled([...pools.values()].map((p) => p.close()));
        channel.close();
        await Promise.allSettled([redis.quit(), subscriber.quit()]);
        await new Promise<void>((finished) => logger.on('finish', finished).end());
        done(0);
      })();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`advx worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
