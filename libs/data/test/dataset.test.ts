import { describe, expect, it } from 'vitest';
import { type Dataset, Rng, batches, filterClasses, oneHot, shuffledOrder, subset } from '@advx/data';

/** Example i has label i % 4 and every pixel of it equal to i. */
function toy(count = 10): Dataset {
  const shape: [number, number, number] = [2, 2, 1];
  const images = new Float32Array(count * 4).map((_, k) => Math.floor(k / 4));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 4);
  return { name: 'toy', images, labels, count, shape, numClasses: 4, classNames: ['a', 'b', 'c', 'd'] };
}

const firstPixels = (images: Float32Array) => Array.from({ length: images.length / 4 }, (_, i) => images[i * 4]);

describe('subset', () => {
  it('copies the examples at the given indices, in that order', () => {
    const ds = toy();
    const picked = subset(ds, [7, 2, 2]);
    expect(picked.count).toBe(3);
    expect(firstPixels(picked.images)).toEqual([7, 2, 2]);
    expect([...picked.labels]).toEqual([3, 2, 2]);
    picked.images[0] = -1;
    expect(ds.images[28]).toBe(7);
  });

  it('copies a range', () => {
    const ds = toy();
    const range = subset(ds, { start: 8, count: 2 });
    expect(firstPixels(range.images)).toEqual([8, 9]);
    range.labels[0] = 9;
    expect(ds.labels[8]).toBe(0);
  });

  it('rejects indices and ranges outside the dataset', () => {
    expect(() => subset(toy(), [10])).toThrow(RangeError);
    expect(() => subset(toy(), { start: 9, count: 2 })).toThrow(RangeError);
  });
});

describe('filterClasses', () => {
  it('keeps the chosen classes and, with relabel, numbers them in the order given', () => {
    const ds = toy();
    const kept = filterClasses(ds, [3, 1]);
    expect(firstPixels(kept.images)).toEqual([1, 3, 5, 7, 9]);
    expect([...kept.labels]).toEqual([1, 3, 1, 3, 1]);
    expect(kept.numClasses).toBe(4);

    const binary = filterClasses(ds, [3, 1], true);
    expect([...binary.labels]).toEqual([1, 0, 1, 0, 1]);
    expect(binary.numClasses).toBe(2);
    expect(binary.classNames).toEqual(['d', 'b']);
  });

  it('rejects unknown and repeated classes', () => {
    expect(() => filterClasses(toy(), [4])).toThrow(RangeError);
    expect(() => filterClasses(toy(), [1, 1])).toThrow(RangeError);
  });
});

describe('batches', () => {
  it('covers the dataset in order, the last batch smaller', () => {
    const all = [...batches(toy(), 4)];
    expect(all.map((b) => b.count)).toEqual([4, 4, 2]);
    expect(firstPixels(all[2].images)).toEqual([8, 9]);
    expect([...all[1].labels]).toEqual([0, 1, 2, 3]);
  });

  it('follows a given order', () => {
    const order = Int32Array.from([9, 0, 5]);
    const all = [...batches(toy(), 2, order)];
    expect(all.map((b) => firstPixels(b.images))).toEqual([[9, 0], [5]]);
    expect(all.map((b) => [...b.labels])).toEqual([[1, 0], [1]]);
  });

  it('rejects a batch size that is not a positive integer', () => {
    expect(() => batches(toy(), 0).next()).toThrow(RangeError);
  });
});

describe('shuffledOrder', () => {
  it('is a permutation that the seed alone determines', () => {
    const a = shuffledOrder(1000, Rng.fromSeed(7).fork('shuffle'));
    const b = shuffledOrder(1000, Rng.fromSeed(7).fork('shuffle'));
    const c = shuffledOrder(1000, Rng.fromSeed(8).fork('shuffle'));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('oneHot', () => {
  it('puts a single 1 per row at the label', () => {
    expect([...oneHot(Uint8Array.from([2, 0]), 3)]).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => oneHot(Uint8Array.from([3]), 3)).toThrow(RangeError);
  });
});
