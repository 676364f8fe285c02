import { describe, expect, it } from 'vitest';
import { loadDataset } from '@advx/data';
import { shareSplits, viewSplit } from '../src/compute/shared-data.js';
import { mnistDir } from './helpers.js';

/** Byte-for-byte equality of two typed arrays (toEqual walks 39 million elements one by one). */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.skipIf(!mnistDir)('datasets shared with worker threads', () => {
  it('shares pixels decoded into shared memory without copying them, and workers see the same examples', async () => {
    const shared = await loadDataset('mnist', { dataDir: mnistDir!, sharedMemory: true });
    const plain = await loadDataset('mnist', { dataDir: mnistDir! });
    const fromShared = shareSplits(shared);
    const fromPlain = shareSplits(plain);
    // No copy: the buffer handed to workers is the one the pixels were decoded into.
    expect(fromShared.splits.train!.images).toBe(shared.train.images.buffer);
    expect(fromShared.splits.validation!.images).toBe(shared.train.images.buffer);
    // A dataset in ordinary memory is copied into shared memory once.
    expect(fromPlain.splits.train!.images).not.toBe(plain.train.images.buffer);
    for (const split of ['train', 'validation', 'test'] as const) {
      for (const view of [viewSplit(fromShared, split), viewSplit(fromPlain, split)]) {
        expect(view.count, split).toBe(plain[split]!.count);
        expect(sameBytes(view.images, plain[split]!.images), split).toBe(true);
        expect(sameBytes(view.labels, plain[split]!.labels), split).toBe(true);
      }
    }
  });
});
