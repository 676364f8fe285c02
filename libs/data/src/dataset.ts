/** In-memory datasets and the ways training code slices them. Pure functions over typed arrays. */
import type { Rng } from './rng.js';

export interface Dataset {
  name: string;
  /** `count × h × w × c` values in [0, 1], NHWC. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  shape: [h: number, w: number, c: number];
  numClasses: number;
  classNames: string[];
}

export interface Batch {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export function imageSize(ds: Pick<Dataset, 'shape'>): number {
  return ds.shape[0] * ds.shape[1] * ds.shape[2];
}

function checkIndex(ds: Dataset, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= ds.count) {
    throw new RangeError(`index ${index} is outside 0..${ds.count - 1} of ${ds.name}`);
  }
}

function gather(ds: Dataset, indices: ArrayLike<number>): Batch {
  const size = imageSize(ds);
  const images = new Float32Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    checkIndex(ds, index);
    images.set(ds.images.subarray(index * size, (index + 1) * size), i * size);
    labels[i] = ds.labels[index];
  }
  return { images, labels, count: indices.length };
}

/** A copy of the chosen examples, in the order given. */
export function subset(ds: Dataset, indices: ArrayLike<number> | { start: number; count: number }): Dataset {
  if ('start' in indices) {
    const { start, count } = indices;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > ds.count) {
      throw new RangeError(`range ${start}..${start + count} is outside 0..${ds.count} of ${ds.name}`);
    }
    const size = imageSize(ds);
    return {
      ...ds,
      images: ds.images.slice(start * size, (start + count) * size),
      labels: ds.labels.slice(start, start + count),
      count,
    };
  }
  return { ...ds, ...gather(ds, indices) };
}

/**
 * The examples of the given classes. With `relabel`, class `classes[i]` becomes label `i` (so 3 vs 7
 * becomes a 0/1 problem); without, labels and class names are kept.
 */
export function filterClasses(ds: Dataset, classes: number[], relabel = false): Dataset {
  const newLabel = new Int16Array(ds.numClasses).fill(-1);
  classes.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= ds.numClasses) {
      throw new RangeError(`class ${label} is outside 0..${ds.numClasses - 1} of ${ds.name}`);
    }
    if (newLabel[label] !== -1) throw new RangeError(`class ${label} is listed twice`);
    newLabel[label] = relabel ? i : label;
  });
  const kept: number[] = [];
  for (let i = 0; i < ds.count; i++) if (newLabel[ds.labels[i]] !== -1) kept.push(i);
  const picked = subset(ds, kept);
  if (!relabel) return picked;
  for (let i = 0; i < picked.count; i++) picked.labels[i] = newLabel[picked.labels[i]];
  return { ...picked, numClasses: classes.length, classNames: classes.map((label) => ds.classNames[label]) };
}

/**
 * Consecutive batches of at most `batchSize` examples, the last one possibly smaller. Without `order`
 * the batches are views into the dataset (no copy: do not write to them); with it they are gathered copies.
 */
export function* batches(ds: Dataset, batchSize: number, order?: Int32Array): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const total = order ? order.length : ds.count;
  const size = imageSize(ds);
  for (let start = 0; start < total; start += batchSize) {
    const end = Math.min(start + batchSize, total);
    if (order) {
      yield gather(ds, order.subarray(start, end));
    } else {
      yield { images: ds.images.subarray(start * size, end * size), labels: ds.labels.subarray(start, end), count: end - start };
    }
  }
}

export function shuffledOrder(count: number, rng: Rng): Int32Array {
  return rng.permutation(count);
}

export function oneHot(labels: Uint8Array, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) throw new RangeError(`label ${labels[i]} at index ${i} is outside 0..${numClasses - 1}`);
    out[i * numClasses + labels[i]] = 1;
  }
  return out;
}
