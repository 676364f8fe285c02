import type { Dataset, DatasetSplits } from '@advx/data';

/**
 * A dataset laid out in SharedArrayBuffers: the coordinator decodes and validates the files once,
 * and every worker thread reads the same memory instead of re-reading and re-decoding them.
 */
export interface SharedDataset {
  name: string;
  shape: [number, number, number];
  numClasses: number;
  classNames: string[];
  checksum: string;
  splits: Record<'train' | 'validation' | 'test', { images: SharedArrayBuffer; labels: SharedArrayBuffer; count: number } | null>;
}

function share(dataset: Dataset | null) {
  if (!dataset) return null;
  const images = new SharedArrayBuffer(dataset.images.byteLength);
  new Float32Array(images).set(dataset.images);
  const labels = new SharedArrayBuffer(dataset.labels.byteLength);
  new Uint8Array(labels).set(dataset.labels);
  return { images, labels, count: dataset.count };
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
  return {
    name: shared.name,
    images: new Float32Array(part.images),
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
