import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { decode, encode } from '../../units/codec.js';
import { isStagingFile, stagingPath } from '../../support/atomic-write.js';
import type { Unit, UnitOutput, UnitResult } from '../../units/types.js';

/**
 * What the coordinator (BullMQExecutor) and the worker processes (src/bullmq-worker.ts) agree on:
 * the Redis connection, queue names, the job payload and the store of unit files in Redis.
 */

/** Every BullMQ key and every unit-files key lives under this prefix. */
export const PREFIX = 'advx';
/** Unit jobs; every worker process consumes this queue. */
export const UNITS_QUEUE = 'units';
/** Pub/sub channel on which the coordinator asks workers to abort a running job (unit timeout). */
export const CANCEL_CHANNEL = `${PREFIX}:cancel`;
/** Unit files stay in Redis this long after their last upload (a coordinator re-uploads missing ones). */
export const FILES_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Live worker processes: a sorted set of `host:pid` scored by their last heartbeat (ms). BullMQ's
 * own getWorkersCount() relies on CLIENT SETNAME, which this BullMQ version no longer issues for workers.
 */
export const WORKERS_KEY = `${PREFIX}:workers`;
export const HEARTBEAT_MS = 10_000;

export const filesKey = (unitKey: string) => `${PREFIX}:files:${unitKey}`;

/**
 * `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS) → ioredis options; throws a
 * message suitable for a usage error otherwise.
 *
 * Reconnection (BullMQ, "Going to production"): ioredis reconnects for as long as `retryStrategy`
 * returns a delay; ours backs off 0.5, 1, 2, 4, then every 5 s, forever (BullMQ's own default
 * backs off to 20 s, which would delay noticing a restarted Redis). `maxRetriesPerRequest: null`
 * (required by BullMQ's blocking connections) and the offline queue left on make commands wait
 * for the reconnection instead of failing: workers ride out an outage, and the coordinator bounds
 * the wait itself (`--redis-deadline`, BullMQExecutor).
 */
export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: object;
  maxRetriesPerRequest: null;
  retryStrategy: (times: number) => number;
}

/** ioredis reconnection delay (ms) after the `times`-th failed attempt. */
export const reconnectDelay = (times: number): number => Math.min(250 * 2 ** Math.max(1, times), 5000);

export function redisOptions(url: string): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a URL: "${url}" (expected redis://host:port)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error(`"${url}" is not a redis:// or rediss:// URL`);
  if (!parsed.hostname) throw new Error(`"${url}" names no host`);
  const port = parsed.port ? Number(parsed.port) : 6379;
  const dbPath = parsed.pathname.replace(/^\//, '');
  if (dbPath && !/^\d+$/.test(dbPath)) throw new Error(`"${url}": database "${dbPath}" is not a number`);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: dbPath ? Number(dbPath) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelay,
  };
}

/** The URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** A failure of the connection itself (Redis down, restarting, unreachable), as opposed to a command's error. */
export function isConnectionError(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException | undefined;
  if (!e) return false;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(e.code)) return true;
  return /Connection is closed|connect ETIMEDOUT|Stream isn't writeable|LOADING|ECONNREFUSED|ECONNRESET/i.test(e.message ?? '');
}

/** Redis keys of a BullMQ job (BullMQ's own layout: `<prefix>:<queue>:<id>`, its lock at `…:lock`). */
export const jobKey = (queue: string, jobId: string) => `${PREFIX}:${queue}:${jobId}`;
export const lockKey = (queue: string, jobId: string) => `${jobKey(queue, jobId)}:lock`;

/** The worker process (`host:pid`, as in WORKERS_KEY) behind a BullMQ worker name (`advx-worker host:pid`). */
export const WORKER_NAME_PREFIX = 'advx-worker ';
export const workerIdOf = (processedBy: string | null | undefined): string | null => (processedBy?.startsWith(WORKER_NAME_PREFIX) ? processedBy.slice(WORKER_NAME_PREFIX.length) : (processedBy ?? null));

export interface ConnectionWatch {
  /** ms since epoch at which the connection went down (or since creation, before the first connection); null while up. */
  readonly downSince: number | null;
  readonly connected: boolean;
  /** Whether it has ever been connected. */
  readonly everUp: boolean;
  /** The last connection error's message, for the log. */
  readonly lastError: string;
}

/**
 * Follows one ioredis client's connection: an `error` listener (so ioredis never prints
 * "Unhandled error event" stacks), one call of `onDown` when it goes down and of `onUp` when it is
 * back (not per retry). Errors that are not about the connection go to `onError`.
 */
export function watchConnection(
  client: Redis,
  handlers: { onDown?: (reason: string) => void; onUp?: (downSeconds: number, first: boolean) => void; onError?: (error: Error) => void },
): ConnectionWatch {
  const state = { downSince: Date.now() as number | null, connected: false, lastError: '', everUp: false };
  client.on('error', (error: Error) => {
    if (isConnectionError(error)) state.lastError = error.message;
    else handlers.onError?.(error);
  });
  const down = () => {
    if (!state.connected) return;
    state.connected = false;
    state.downSince = Date.now();
    handlers.onDown?.(state.lastError || 'connection closed');
  };
  client.on('close', down);
  client.on('reconnecting', down);
  client.on('end', down);
  client.on('ready', () => {
    const seconds = state.downSince === null ? 0 : (Date.now() - state.downSince) / 1000;
    const first = !state.everUp;
    state.connected = true;
    state.everUp = true;
    state.downSince = null;
    state.lastError = '';
    handlers.onUp?.(seconds, first);
  });
  return state;
}

/** What a unit job carries (msgpackr, base64 in the job's JSON data since BullMQ stores data as JSON). */
export interface UnitJobPayload {
  sweepId: string;
  unit: Unit;
  /** The backend the sweep asked for ('auto' or a name). */
  backend: string;
  /** How the coordinator loaded the unit's dataset: the worker loads it the same way and compares checksums. */
  dataset: { name: string; validationSize: number; checksum: string };
  /** result.json of the units this one depends on (train units read `epochsFrom` from them). */
  dependencyResults: Record<string, UnitResult>;
  /**
   * Set when the coordinator enqueues the unit again because Redis lost its job: a worker that
   * finished this unit but could not deliver it (its job was gone) may hand back that output.
   */
  lostBefore?: boolean;
}

export interface UnitJobData {
  payload: string;
}

export const packJob = (payload: UnitJobPayload): UnitJobData => ({ payload: Buffer.from(encode(payload)).toString('base64') });
export const unpackJob = (data: UnitJobData): UnitJobPayload => decode<UnitJobPayload>(Buffer.from(data.payload, 'base64'));
export const packOutput = (output: UnitOutput): string => Buffer.from(encode(output)).toString('base64');
export const unpackOutput = (value: string): UnitOutput => decode<UnitOutput>(Buffer.from(value, 'base64'));

/**
 * Unit files travel between machines through Redis: a unit's files directory (a train unit's
 * model.json + weights.bin, a craft unit's examples) as one msgpackr map of file name → bytes,
 * keyed by the unit's key. Readers materialise it into their own runs directory at the same place.
 */
export async function uploadFiles(redis: Redis, unitKey: string, directory: string): Promise<void> {
  const files: Record<string, Uint8Array> = {};
  for (const name of await readdir(directory)) if (!isStagingFile(name)) files[name] = await readFile(join(directory, name));
  await redis.set(filesKey(unitKey), Buffer.from(encode({ files })), 'EX', FILES_TTL_SECONDS);
}

/**
 * Writes the stored files into `directory` (atomically); false when Redis does not hold them. With
 * `replace` false an existing directory is kept: same key, same files, and a concurrent reader of
 * it (another job on this machine) must not see it vanish.
 */
export async function downloadFiles(redis: Redis, unitKey: string, directory: string, replace = false): Promise<boolean> {
  const bytes = await redis.getBuffer(filesKey(unitKey));
  if (!bytes) return false;
  const { files } = decode<{ files: Record<string, Uint8Array> }>(bytes);
  const staging = stagingPath(directory);
  await mkdir(staging, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(staging, name), content);
  if (replace) await rm(directory, { recursive: true, force: true });
  try {
    await rename(staging, directory);
  } catch (error) {
    // Another process materialised the same files at the same moment: same key, same bytes.
    await rm(staging, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return true;
}
