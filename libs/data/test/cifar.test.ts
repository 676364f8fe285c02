import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { CIFAR_RECORD_BYTES, type CifarDatasetSpec, DATASETS, DataError, loadDataset, parseCifarBatch } from '@advx/data';
import { downloadDataset } from '../src/download.js';
import { serveFiles, tarGzOf, temporaryDirectory, type TestServer } from './helpers.js';

const cifar = DATASETS.cifar10 as CifarDatasetSpec;
const PLANE = 32 * 32;

/** Records whose red plane counts up from `n`, green is 100 and blue 200, so plane order is visible. */
function cifarBatch(labels: number[]): Uint8Array {
  const bytes = new Uint8Array(labels.length * CIFAR_RECORD_BYTES);
  labels.forEach((label, n) => {
    const record = n * CIFAR_RECORD_BYTES;
    bytes[record] = label;
    for (let p = 0; p < PLANE; p++) {
      bytes[record + 1 + p] = (n + p) % 256;
      bytes[record + 1 + PLANE + p] = 100;
      bytes[record + 1 + 2 * PLANE + p] = 200;
    }
  });
  return bytes;
}

/** Each training batch holds labels [i, i+1] for batch i; the test batch holds [9, 0]. */
function batchFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  cifar.trainFiles.forEach((name, i) => (files[name] = cifarBatch([i, i + 1])));
  files['test_batch.bin'] = cifarBatch([9, 0]);
  return files;
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('parseCifarBatch', () => {
  it('turns R, G, B planes into HWC pixels in [0, 1]', () => {
    const batch = parseCifarBatch(cifarBatch([3, 8]), 'b.bin');
    expect(batch.count).toBe(2);
    expect([...batch.labels]).toEqual([3, 8]);
    expect(batch.images.length).toBe(2 * PLANE * 3);
    const second = PLANE * 3;
    const pixel = 5; // row 0, column 5 of the second image
    expect([...batch.images.subarray(second + pixel * 3, second + pixel * 3 + 3)]).toEqual([6 / 255, 100 / 255, 200 / 255].map(Math.fround));
  });

  it('rejects a length that is not a whole number of records', () => {
    const bytes = cifarBatch([1]).subarray(0, CIFAR_RECORD_BYTES - 1);
    expect(() => parseCifarBatch(bytes, '/d/data_batch_1.bin')).toThrow(
      new DataError('/d/data_batch_1.bin: 3072 bytes is not a whole number of 3073-byte CIFAR records (3072 bytes left over)'),
    );
    expect(() => parseCifarBatch(new Uint8Array(0), '/d/x.bin')).toThrow(/not a whole number/);
  });

  it('rejects a label outside 0..9', () => {
    expect(() => parseCifarBatch(cifarBatch([1, 10]), '/d/test_batch.bin')).toThrow('/d/test_batch.bin: label 10 at index 1 is outside 0..9');
  });
});

describe('loading CIFAR-10', () => {
  it('reads the batches from the cifar-10-batches-bin subfolder, concatenated in order', async () => {
    const directory = await temporaryDirectory();
    await mkdir(join(directory, 'cifar-10-batches-bin'));
    for (const [name, bytes] of Object.entries(batchFiles())) await writeFile(join(directory, 'cifar-10-batches-bin', name), bytes);
    const data = await loadDataset('cifar10', { dataDir: directory, validationSize: 2 });
    expect(data.train.shape).toEqual([32, 32, 3]);
    expect(data.train.classNames[0]).toBe('airplane');
    expect([...data.train.labels]).toEqual([0, 1, 1, 2, 2, 3, 3, 4]);
    expect([...data.validation!.labels]).toEqual([4, 5]);
    expect([...data.test.labels]).toEqual([9, 0]);
    expect(data.train.images.length).toBe(8 * PLANE * 3);
    expect(data.checksum).toMatch(/^[0-9a-f]{64}$/);

    // In shared memory, even the single test batch (which is otherwise used as parsed).
    const shared = await loadDataset('cifar10', { dataDir: directory, validationSize: 2, sharedMemory: true });
    for (const split of ['train', 'test'] as const) {
      expect(shared[split].images.buffer, split).toBeInstanceOf(SharedArrayBuffer);
      expect(shared[split].images).toEqual(data[split].images);
    }
  });

  it('downloads the archive, keeps only the extracted batches, and loads them', async () => {
    const members = Object.fromEntries(Object.entries(batchFiles()).map(([n, b]) => [`cifar-10-batches-bin/${n}`, b]));
    const archive = await tarGzOf({ 'cifar-10-batches-bin/batches.meta.txt': Buffer.from('airplane\n'), ...members });
    server = await serveFiles({ '/files/cifar-10-binary.tar.gz': archive });
    const spec = { ...cifar, archive: { ...cifar.archive, sha256: createHash('sha256').update(archive).digest('hex') } };
    const directory = await temporaryDirectory();
    await downloadDataset(spec, directory, [...cifar.trainFiles, ...cifar.testFiles], server.baseUrl);
    expect(await readdir(directory)).toEqual(['cifar-10-batches-bin']);
    expect((await readdir(join(directory, 'cifar-10-batches-bin'))).sort()).toEqual([...cifar.trainFiles, ...cifar.testFiles].sort());
    const data = await loadDataset('cifar10', { dataDir: directory, validationSize: 0 });
    expect(data.train.count).toBe(10);
  });

  it('rejects an archive without the batches and leaves nothing behind', async () => {
    const archive = await tarGzOf({ 'cifar-10-batches-bin/data_batch_1.bin': cifarBatch([1]) });
    server = await serveFiles({ '/files/cifar-10-binary.tar.gz': archive });
    const spec = { ...cifar, archive: { ...cifar.archive, sha256: createHash('sha256').update(archive).digest('hex') } };
    const directory = await temporaryDirectory();
    await expect(downloadDataset(spec, directory, ['data_batch_2.bin'], server.baseUrl)).rejects.toThrow(
      `${server.baseUrl}cifar-10-binary.tar.gz: archive lacks cifar-10-batches-bin/data_batch_2.bin`,
    );
    expect(await readdir(directory)).toEqual([]);
  });

  const batchArchive = () => tarGzOf(Object.fromEntries(Object.entries(batchFiles()).map(([n, b]) => [`cifar-10-batches-bin/${n}`, b])));
  it.each([
    ['truncated gzip', async () => {
      const whole = await batchArchive();
      return whole.subarray(0, whole.length / 2);
    }],
    ['truncated tar', async () => gunzipSync(await batchArchive()).subarray(0, 5000)],
    ['non-tar', async () => gzipSync(Buffer.alloc(4096, 'x'))],
  ])('rejects a %s archive as corrupt and leaves nothing behind', async (_, make) => {
    const archive = await make();
    server = await serveFiles({ '/files/cifar-10-binary.tar.gz': archive });
    const spec = { ...cifar, archive: { ...cifar.archive, sha256: createHash('sha256').update(archive).digest('hex') } };
    const directory = await temporaryDirectory();
    const failure = await downloadDataset(spec, directory, ['test_batch.bin'], server.baseUrl).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DataError);
    expect((failure as DataError).exitCode).toBe(1);
    expect((failure as DataError).message).toMatch(`${join(directory, 'cifar-10-binary.tar.gz')}: corrupt archive (`);
    expect(await readdir(directory)).toEqual([]);
  });

  it('checks the archive against the published sum', async () => {
    server = await serveFiles({ '/files/cifar-10-binary.tar.gz': await tarGzOf({ 'cifar-10-batches-bin/test_batch.bin': cifarBatch([1]) }) });
    const directory = await temporaryDirectory();
    await expect(downloadDataset(cifar, directory, ['test_batch.bin'], server.baseUrl)).rejects.toThrow(
      /sha256 mismatch: expected c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd, got/,
    );
    expect(await readdir(directory)).toEqual([]);
  });
});
