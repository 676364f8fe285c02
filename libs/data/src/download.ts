/**
 * Fetching published files into the cache. A file appears under its final name only once its
 * SHA-256 is right, so a failed or interrupted download leaves nothing that looks complete.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { extract as extractTar, type ReadEntry } from 'tar';
import { DataError } from './errors.js';
import type { CifarDatasetSpec, DatasetSpec, IdxDatasetSpec } from './registry.js';

export function fileUrl(baseUrl: string, name: string): string {
  return new URL(name, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
}

const temporarySibling = (path: string) => `${path}.${process.pid}-${randomBytes(4).toString('hex')}.part`;

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

export async function downloadFile(url: string, destination: string, expectedSha256: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new DataError(`${url}: download failed (${describe(error)})`, { cause: error });
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new DataError(`${url}: download failed (HTTP ${response.status} ${response.statusText})`);
  }
  await mkdir(dirname(destination), { recursive: true });
  const temporary = temporarySibling(destination);
  const hash = createHash('sha256');
  try {
    await pipeline(
      Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(temporary),
    );
    const actual = hash.digest('hex');
    if (actual !== expectedSha256) {
      throw new DataError(`${url}: sha256 mismatch: expected ${expectedSha256}, got ${actual}`);
    }
    await rename(temporary, destination);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof DataError) throw error;
    throw new DataError(`${url}: download failed (${describe(error)})`, { cause: error });
  }
}

async function downloadIdxFiles(spec: IdxDatasetSpec, directory: string, missing: string[], baseUrl: string) {
  for (const file of Object.values(spec.files)) {
    if (missing.includes(file.name)) await downloadFile(fileUrl(baseUrl, file.name), join(directory, file.name), file.sha256);
  }
}

/** The batches are unpacked beside a temporary name and renamed into place as one directory. */
async function downloadCifarArchive(spec: CifarDatasetSpec, directory: string, baseUrl: string) {
  const url = fileUrl(baseUrl, spec.archive.name);
  const archivePath = join(directory, spec.archive.name);
  await downloadFile(url, archivePath, spec.archive.sha256);
  const batches = join(directory, spec.batchDirectory);
  const staging = temporarySibling(batches);
  try {
    const wanted = new Set([...spec.trainFiles, ...spec.testFiles]);
    const prefix = `${spec.batchDirectory}/`;
    const isWanted = (name: string) => name.startsWith(prefix) && wanted.has(name.slice(prefix.length));
    await mkdir(staging, { recursive: true });
    try {
      // Gzip is detected by content; `strip` drops the batch directory, so staging becomes it.
      await extractTar({
        file: archivePath,
        cwd: staging,
        strip: 1,
        strict: true,
        preserveOwner: false,
        filter: (name, entry) => ['File', 'OldFile'].includes((entry as ReadEntry).type) && isWanted(name),
      });
    } catch (error) {
      throw new DataError(`${archivePath}: corrupt archive (${(error as Error).message})`, { cause: error });
    }
    const present = new Set(await readdir(staging));
    const absent = [...wanted].filter((name) => !present.has(name)).map((name) => prefix + name);
    if (absent.length > 0) throw new DataError(`${url}: archive lacks ${absent.join(', ')}`);
    await rm(batches, { recursive: true, force: true });
    await rename(staging, batches);
  } finally {
    await rm(staging, { recursive: true, force: true });
    // The archive is only a carrier: the batches are kept, not 170 MB of it twice.
    await rm(archivePath, { force: true });
  }
}

/** Downloads what `missing` (registry names) lacks into `directory`. */
export async function downloadDataset(spec: DatasetSpec, directory: string, missing: string[], baseUrl = spec.baseUrl) {
  if (spec.format === 'idx') await downloadIdxFiles(spec, directory, missing, baseUrl);
  else await downloadCifarArchive(spec, directory, baseUrl);
}
