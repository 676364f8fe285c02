import { gzipSync } from 'node:zlib';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError, loadDataset, parseIdxImages, parseIdxLabels } from '@advx/data';
import { idxImages, idxLabels, temporaryDirectory } from './helpers.js';

const P = '/data/train-images-idx3-ubyte.gz';
const L = '/data/train-labels-idx1-ubyte.gz';

function errorOf(fn: () => unknown): DataError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error('expected a DataError');
}

describe('parseIdxImages', () => {
  it('scales bytes to [0, 1] by dividing by 255', () => {
    const parsed = parseIdxImages(idxImages(2), P);
    expect(parsed).toMatchObject({ count: 2, rows: 28, cols: 28 });
    expect(parsed.pixels).toBeInstanceOf(Float32Array);
    expect(parsed.pixels.length).toBe(2 * 784);
    expect(parsed.pixels[0]).toBe(0);
    expect(parsed.pixels[255]).toBe(1);
    expect(parsed.pixels[300]).toBe(Math.fround(44 / 255));
  });

  it('rejects a label file given as images, naming the file and both magics', () => {
    const error = errorOf(() => parseIdxImages(idxLabels([1, 2]), P));
    expect(error.message).toBe(`${P}: magic number 0x00000801 (a label file) is not 0x00000803 (IDX images)`);
    expect(error.exitCode).toBe(1);
  });

  it('rejects an unknown magic number', () => {
    const bytes = idxImages(1);
    bytes[2] = 0x0d;
    expect(errorOf(() => parseIdxImages(bytes, P)).message).toBe(`${P}: magic number 0x00000d03 is not 0x00000803 (IDX images)`);
  });

  it('rejects images that are not 28×28', () => {
    expect(errorOf(() => parseIdxImages(idxImages(1, 32, 28), P)).message).toBe(`${P}: images are 32×28, expected 28×28`);
  });

  it('rejects a truncated file', () => {
    const bytes = idxImages(3).subarray(0, 16 + 3 * 784 - 10);
    expect(errorOf(() => parseIdxImages(bytes, P)).message).toBe(
      `${P}: header promises 3 images of 28×28 (2368 bytes) but the file has 2358 bytes: truncated by 10 bytes`,
    );
  });

  it('rejects trailing bytes', () => {
    const bytes = Buffer.concat([idxImages(1), Buffer.from([1, 2, 3])]);
    expect(errorOf(() => parseIdxImages(bytes, P)).message).toMatch(/: 3 trailing bytes$/);
  });

  it('rejects a file too short to hold a header', () => {
    expect(errorOf(() => parseIdxImages(Uint8Array.of(0, 0, 8, 3, 0), P)).message).toBe(
      `${P}: 5 bytes is too short for an IDX images header (16 bytes)`,
    );
  });
});

describe('parseIdxLabels', () => {
  it('returns a plain Uint8Array copy of the labels', () => {
    const labels = parseIdxLabels(idxLabels([5, 0, 9]), L);
    expect(Object.getPrototypeOf(labels)).toBe(Uint8Array.prototype);
    expect([...labels]).toEqual([5, 0, 9]);
  });

  it('names the first label outside 0..9 and its index', () => {
    expect(errorOf(() => parseIdxLabels(idxLabels([1, 2, 3, 4, 5, 12, 13]), L)).message).toBe(
      `${L}: label 12 at index 5 is outside 0..9`,
    );
  });

  it('rejects an image file given as labels', () => {
    expect(errorOf(() => parseIdxLabels(idxImages(1), L)).message).toBe(
      `${L}: magic number 0x00000803 (an image file) is not 0x00000801 (IDX labels)`,
    );
  });

  it('rejects truncated and padded label files', () => {
    expect(errorOf(() => parseIdxLabels(idxLabels([1, 2, 3]).subarray(0, 10), L)).message).toBe(
      `${L}: header promises 3 labels (11 bytes) but the file has 10 bytes: truncated by 1 bytes`,
    );
    expect(errorOf(() => parseIdxLabels(Buffer.concat([idxLabels([1]), Buffer.from([0])]), L)).message).toMatch(
      /: 1 trailing bytes$/,
    );
  });
});

/** Writes a tiny MNIST-shaped directory; `gzip` chooses per file whether it is compressed. */
async function writeTinyMnist(directory: string, options: { trainCount?: number; trainLabels?: number[]; gzip?: boolean } = {}) {
  const trainCount = options.trainCount ?? 6;
  const files: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte.gz': idxImages(trainCount),
    'train-labels-idx1-ubyte.gz': idxLabels(options.trainLabels ?? Array.from({ length: trainCount }, (_, i) => i % 10)),
    't10k-images-idx3-ubyte.gz': idxImages(2),
    't10k-labels-idx1-ubyte.gz': idxLabels([7, 2]),
  };
  for (const [name, bytes] of Object.entries(files)) {
    if (options.gzip === false) await writeFile(join(directory, name.replace(/\.gz$/, '')), bytes);
    else await writeFile(join(directory, name), gzipSync(bytes));
  }
}

describe('loading IDX files from a directory', () => {
  it('reads gzipped files, and gunzipped ones under the name without .gz', async () => {
    for (const gzip of [true, false]) {
      const directory = await temporaryDirectory();
      await writeTinyMnist(directory, { gzip });
      const data = await loadDataset('mnist', { dataDir: directory, validationSize: 2, verify: false });
      expect([data.train.count, data.validation?.count, data.test.count]).toEqual([4, 2, 2]);
      expect([...data.test.labels]).toEqual([7, 2]);
      expect([...data.validation!.labels]).toEqual([4, 5]);
    }
  });

  it('detects gzip by its magic bytes, not by the name', async () => {
    const directory = await temporaryDirectory();
    await writeTinyMnist(directory, { gzip: false });
    await writeFile(join(directory, 't10k-labels-idx1-ubyte'), gzipSync(idxLabels([3, 3])));
    const data = await loadDataset('mnist', { dataDir: directory, validationSize: 0, verify: false });
    expect([...data.test.labels]).toEqual([3, 3]);
  });

  it('gives the same checksum for gzipped and gunzipped copies of the same data, another for other data', async () => {
    const gz = await temporaryDirectory();
    const raw = await temporaryDirectory();
    const other = await temporaryDirectory();
    await writeTinyMnist(gz);
    await writeTinyMnist(raw, { gzip: false });
    await writeTinyMnist(other, { trainLabels: [0, 0, 0, 0, 0, 0] });
    const load = (dataDir: string) => loadDataset('mnist', { dataDir, validationSize: 0, verify: false });
    const [a, b, c] = await Promise.all([load(gz), load(raw), load(other)]);
    expect(a.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(b.checksum).toBe(a.checksum);
    expect(c.checksum).not.toBe(a.checksum);
  });

  it('rejects images and labels of different counts, naming both files', async () => {
    const directory = await temporaryDirectory();
    await writeTinyMnist(directory);
    await writeFile(join(directory, 'train-labels-idx1-ubyte.gz'), gzipSync(idxLabels([1, 2, 3, 4, 5])));
    await expect(loadDataset('mnist', { dataDir: directory, verify: false })).rejects.toThrow(
      `${join(directory, 'train-labels-idx1-ubyte.gz')}: 5 labels but ${join(directory, 'train-images-idx3-ubyte.gz')} has 6 images`,
    );
  });

  it('rejects a corrupt gzip stream, naming the file', async () => {
    const directory = await temporaryDirectory();
    await writeTinyMnist(directory);
    const path = join(directory, 't10k-images-idx3-ubyte.gz');
    await writeFile(path, gzipSync(idxImages(2)).subarray(0, 40));
    await expect(loadDataset('mnist', { dataDir: directory, verify: false })).rejects.toThrow(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: corrupt gzip stream`),
    );
  });

  it('with verify on, rejects files whose contents are not the published ones', async () => {
    const directory = await temporaryDirectory();
    await writeTinyMnist(directory);
    await expect(loadDataset('mnist', { dataDir: directory, validationSize: 1 })).rejects.toThrow(
      `${join(directory, 'train-images-idx3-ubyte.gz')}: sha256 of contents is`,
    );
  });

  it('rejects a validation size the training set cannot give', async () => {
    const directory = await temporaryDirectory();
    await writeTinyMnist(directory);
    await expect(loadDataset('mnist', { dataDir: directory, verify: false })).rejects.toThrow(
      'mnist: validation size 10000 must be an integer in 0..5',
    );
  });
});
