import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { loadDataset } from '@advx/data';
import { realMnistDirectory, temporaryDirectory } from './helpers.js';

/** Byte-for-byte equality of two typed arrays (toEqual walks 39 million elements one by one). */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const mnist = realMnistDirectory();
if (!mnist) console.warn('real MNIST not found ($MNIST_DIR, ../shared/datasets/mnist, /work/shared/datasets/mnist): skipping its tests');

describe.skipIf(!mnist)('the real MNIST', () => {
  it('loads 50,000/10,000/10,000 in [0, 1] with its known first labels, quickly', async () => {
    const started = performance.now();
    const data = await loadDataset('mnist', { dataDir: mnist! });
    const seconds = (performance.now() - started) / 1000;
    console.log(`MNIST loaded and verified in ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(5); // well under 2 s here; the bound only catches gross regressions on a busy machine

    expect([data.train.count, data.validation!.count, data.test.count]).toEqual([50_000, 10_000, 10_000]);
    expect(data.train.images.length).toBe(50_000 * 784);
    expect(data.train.shape).toEqual([28, 28, 1]);
    expect(data.train.labels[0]).toBe(5);
    expect([...data.train.labels.subarray(0, 5)]).toEqual([5, 0, 4, 1, 9]);
    expect([...data.test.labels.subarray(0, 3)]).toEqual([7, 2, 1]);
    // The validation set is the last 10,000 training images: training label 50,000 onwards.
    const allTrain = await loadDataset('mnist', { dataDir: mnist!, validationSize: 0, verify: false });
    expect(allTrain.validation).toBeNull();
    expect(allTrain.train.count).toBe(60_000);
    expect([...data.validation!.labels.subarray(0, 20)]).toEqual([...allTrain.train.labels.subarray(50_000, 50_020)]);
    expect(allTrain.checksum).toBe(data.checksum);

    let min = Infinity;
    let max = -Infinity;
    for (const set of [data.train, data.validation!, data.test]) {
      for (const x of set.images) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
    }
    expect([min, max]).toEqual([0, 1]);
  });

  it('decodes into shared memory when asked: the same values, and train and validation views of one buffer', async () => {
    const plain = await loadDataset('mnist', { dataDir: mnist! });
    const shared = await loadDataset('mnist', { dataDir: mnist!, sharedMemory: true });
    for (const split of ['train', 'validation', 'test'] as const) {
      expect(shared[split]!.images.buffer, split).toBeInstanceOf(SharedArrayBuffer);
      expect(sameBytes(shared[split]!.images, plain[split]!.images), split).toBe(true);
      expect(sameBytes(shared[split]!.labels, plain[split]!.labels), split).toBe(true);
    }
    expect(plain.train.images.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(shared.validation!.images.buffer).toBe(shared.train.images.buffer);
    expect(shared.validation!.images.byteOffset).toBe(50_000 * 784 * 4);
    expect(shared.checksum).toBe(plain.checksum);
  });

  it('detects a copy whose contents differ from the published files', async () => {
    const directory = await temporaryDirectory();
    for (const name of ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      await copyFile(join(mnist!, name), join(directory, name));
    }
    const labels = gunzipSync(readFileSync(join(mnist!, 'train-labels-idx1-ubyte.gz')));
    labels[8] = 3; // the first label, 5, becomes a plausible but wrong 3
    const tampered = join(directory, 'train-labels-idx1-ubyte');
    await writeFile(tampered, labels);

    await expect(loadDataset('mnist', { dataDir: directory })).rejects.toThrow(
      new RegExp(`^${tampered}: sha256 of contents is [0-9a-f]{64}, expected 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5`),
    );
    const unverified = await loadDataset('mnist', { dataDir: directory, verify: false });
    expect(unverified.train.labels[0]).toBe(3);
  });
});

const debianFashion = '/usr/share/datasets/fashion-mnist';
const hasDebianFashion = existsSync(join(debianFashion, 'train-images-idx3-ubyte.gz'));

describe.skipIf(!hasDebianFashion)("Debian's Fashion-MNIST (package dataset-fashion-mnist)", () => {
  it('is found at its system location and its re-compressed files pass the content sums', async () => {
    vi.stubEnv('FASHION_MNIST_DIR', '');
    const data = await loadDataset('fashion-mnist');
    vi.unstubAllEnvs();
    expect(data.directory).toBe(debianFashion);
    expect([data.train.count, data.validation!.count, data.test.count]).toEqual([50_000, 10_000, 10_000]);
    expect(data.train.classNames[data.train.labels[0]]).toBe('Ankle boot');
  });
});
