import type { Dataset, DatasetSplits } from '@advx/data';

/**
 * A dataset laid out in SharedArrayBuffers: the coordinator decodes and validates the files once,
 * and every worker thread reads the same memory instead of re-reading and re-decoding them. A
 * split is a range of a buffer (train and validation share one).
 */
export interface SharedDataset {
  name: string;
  shape: [number, number, number];
  numClasses: number;
  classNames: string[];
  checksum: string;
  splits: Record<'train' | 'validation' | 'test', SharedSplit | null>;
}

interface SharedSplit {
  images: SharedArrayBuffer;
  /** Where the split's pixels start in `images`, in bytes. */
  imagesByteOffset: number;
  labels: SharedArrayBuffer;
  count: number;
}

/** Pixels already in shared memory (loadDataset's `sharedMemory`) are shared as they are; others are copied once. */
function share(dataset: Dataset | null): SharedSplit | null {
  if (!dataset) return null;
  let images: SharedArrayBuffer;
  let imagesByteOffset = 0;
  if (dataset.images.buffer instanceof SharedArrayBuffer) {
    images = dataset.images.buffer;
    imagesByteOffset = dataset.images.byteOffset;
  } else {
    images = new SharedArrayBuffer(dataset.images.byteLength);
    new Float32Array(images).set(dataset.images);
  }
  const labels = new SharedArrayBuffer(dataset.labels.byteLength);
  new Uint8Array(labels).set(dataset.labels);
  return { images, imagesByteOffset, labels, count: dataset.count };
}

export function shareSplits(splits: DatasetSplits): SharedDataset {
  const { train, validation, test } = splits;
  return {
    name: splits.name,
    shape: train.shape,
    numClasses: train.numClasses,
    classNames: train.classNames,
    checksum: splits.checksum,
    splits: { train: share(train), validation: share(validation), test: share(test) },
  };
}

export function viewSplit(shared: SharedDataset, split: 'train' | 'validation' | 'test'): Dataset {
  const part = shared.splits[split];
  if (!part) throw new Error(`dataset ${shared.name} has no ${split} split in this sweep`);
  const size = shared.shape[0] * shared.shape[1] * shared.shape[2];
  return {
    name: shared.name,
    images: new Float32Array(part.images, part.imagesByteOffset, part.count * size),
    labels: new Uint8Array(part.labels),
    count: part.count,
    shape: shared.shape,
    numClasses: shared.numClasses,
    classNames: shared.classNames,
  };
}

/** The first `count` examples as views (no copy); null = all. */
export function head(dataset: Dataset, count: number | null): Dataset {
  if (count === null || count >= dataset.count) return dataset;
  const size = dataset.images.length / dataset.count;
  return { ...dataset, images: dataset.images.subarray(0, count * size), labels: dataset.labels.subarray(0, count), count };
}
