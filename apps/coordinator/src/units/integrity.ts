import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isStagingFile } from '../support/atomic-write.js';
import { decode } from './codec.js';
import { unitDirectory, unitFilesLayout } from './files.js';
import type { UnitConfig } from './types.js';

/**
 * The files a unit leaves for the units that read it (a train unit's model, a craft unit's
 * examples) are recorded in its result.json by SHA-256, and every reader checks the bytes it reads
 * against them: the coordinator when it takes a result from its cache, a `--reuse` directory or a
 * worker (BullMQ's files come through Redis), a worker when it loads a model or examples. No
 * TensorFlow here: the coordinator's main thread imports this.
 */

/** SHA-256 (hex) by file path under the unit's directory: `model/model.json`, `adversarial/examples.msgpack`. */
export type FileDigests = Record<string, string>;

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const TAG = 'corrupt artifact of unit';
const TAG_PATTERN = new RegExp(`\\[${TAG} ([\\w-]+)\\]`);

/**
 * A file a unit left is missing, unreadable, or not the bytes its result records. The message
 * names the file and ends with a tag naming the unit that made it, which survives any executor
 * (a Piscina thread's error is cloned, a BullMQ job's is a string): the scheduler reads it back
 * with corruptProducer() to recompute that unit before the reader is tried again.
 */
export class CorruptArtifactError extends Error {
  constructor(
    readonly producer: string,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason} [${TAG} ${producer}]`);
    this.name = 'CorruptArtifactError';
  }
}

/** The unit whose files an error message says are corrupt, or null. */
export const corruptProducer = (message: string): string | null => TAG_PATTERN.exec(message)?.[1] ?? null;

/** The digests of every file in a finished unit's files directory, or undefined for kinds that leave none. */
export async function digestUnitFiles(runsDir: string, key: string, kind: UnitConfig['kind']): Promise<FileDigests | undefined> {
  const layout = unitFilesLayout(kind);
  if (!layout) return undefined;
  const directory = join(unitDirectory(runsDir, key), layout.directory);
  const names = (await readdir(directory).catch(() => [] as string[])).filter((name) => !isStagingFile(name)).sort();
  if (!names.includes(layout.marker)) throw new Error(`${join(directory, layout.marker)}: unit ${key} finished without writing it`);
  const digests: FileDigests = {};
  for (const name of names) digests[`${layout.directory}/${name}`] = sha256(await readFile(join(directory, name)));
  return digests;
}

/** One of a unit's files, read and checked against the digest its result records. */
export async function readVerified(runsDir: string, key: string, name: string, digests: FileDigests | undefined): Promise<Buffer> {
  const path = join(unitDirectory(runsDir, key), name);
  const expected = digests?.[name];
  if (!expected) throw new CorruptArtifactError(key, path, `no SHA-256 of it is recorded in ${join(unitDirectory(runsDir, key), 'result.json')}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CorruptArtifactError(key, path, code === 'ENOENT' ? 'missing' : `unreadable (${(error as Error).message})`);
  }
  const actual = sha256(bytes);
  if (actual !== expected) throw new CorruptArtifactError(key, path, `its SHA-256 ${actual.slice(0, 16)}… (${bytes.byteLength} bytes) is not the ${expected.slice(0, 16)}… recorded in its result.json`);
  return bytes;
}

/** Checks every file a unit's result records (and that the kind's marker file is among them); throws CorruptArtifactError. */
export async function verifyUnitFiles(runsDir: string, key: string, kind: UnitConfig['kind'], digests: FileDigests | undefined): Promise<void> {
  const layout = unitFilesLayout(kind);
  if (!layout) return;
  const marker = `${layout.directory}/${layout.marker}`;
  if (!digests?.[marker]) await readVerified(runsDir, key, marker, digests); // throws: no digest recorded
  for (const name of Object.keys(digests!)) await readVerified(runsDir, key, name, digests);
}

/** Whether a unit's files in `runsDir` are the bytes its result records (a BullMQ worker's local copy, say). */
export async function unitFilesIntact(runsDir: string, key: string, kind: UnitConfig['kind'], digests: FileDigests | undefined): Promise<boolean> {
  return verifyUnitFiles(runsDir, key, kind, digests).then(
    () => true,
    () => false,
  );
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/**
 * Results written before digests were recorded: their files are taken only when they are whole —
 * a model.json that parses, with weight files as long as its manifest says; examples that decode to
 * as many values as they claim — and their digests are recorded from then on (RunStore). A flipped
 * bit in such a file cannot be told from the result; a missing or truncated file can.
 */
export async function legacyFileDigests(runsDir: string, key: string, kind: UnitConfig['kind']): Promise<{ digests: FileDigests | undefined } | { file: string; problem: string }> {
  const layout = unitFilesLayout(kind);
  if (!layout) return { digests: undefined };
  const directory = join(unitDirectory(runsDir, key), layout.directory);
  const marker = join(directory, layout.marker);
  let bytes: Buffer;
  try {
    bytes = await readFile(marker);
  } catch {
    return { file: marker, problem: 'missing' };
  }
  try {
    if (kind === 'train') {
      const stored = JSON.parse(bytes.toString('utf8')) as { weightsManifest?: { paths: string[]; weights: { shape: number[]; dtype: string }[] }[] };
      if (!Array.isArray(stored.weightsManifest)) return { file: marker, problem: 'no weightsManifest' };
      for (const group of stored.weightsManifest) {
        const expected = group.weights.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.dtype] ?? NaN), 0);
        let actual = 0;
        for (const name of group.paths) {
          const file = join(directory, name);
          const size = await readFile(file).then(
            (b) => b.byteLength,
            () => null,
          );
          if (size === null) return { file, problem: 'missing' };
          actual += size;
        }
        if (actual !== expected) return { file: join(directory, group.paths.join('+')), problem: `${actual} bytes, but model.json's manifest needs ${expected}` };
      }
    } else if (kind === 'craft') {
      const stored = decode<{ count: number; width: number; images: Uint8Array; sourcePredictions: Uint8Array }>(bytes);
      if (stored.images?.byteLength !== stored.count * stored.width * 4 || stored.sourcePredictions?.byteLength !== stored.count * 4) {
        return { file: marker, problem: `does not hold the ${stored.count} examples of width ${stored.width} it says` };
      }
    }
  } catch (error) {
    return { file: marker, problem: `unreadable (${(error as Error).message})` };
  }
  return { digests: await digestUnitFiles(runsDir, key, kind) };
}
