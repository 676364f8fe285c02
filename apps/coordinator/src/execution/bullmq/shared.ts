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
 * message suitable for a usage error otherwise. BullMQ's blocking connections need
 * maxRetriesPerRequest: null.
 */
export interface RedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls?: object;
  maxRetriesPerRequest: null;
}

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
