export { DataError } from './errors.js';
export { Rng } from './rng.js';
export {
  DATASET_NAMES,
  DATASETS,
  isDatasetName,
  type DatasetName,
  type DatasetSpec,
  type IdxDatasetSpec,
  type CifarDatasetSpec,
  type IdxFile,
} from './registry.js';
export { type Dataset, type Batch, subset, filterClasses, batches, shuffledOrder, oneHot } from './dataset.js';
export { loadDataset, type DatasetSplits, type LoadOptions } from './load.js';
export { resolveDataDirectory, cacheDirectory, offlineHint, type Resolution, type DirectorySource, type ResolveOptions } from './resolve.js';
export { parseIdxImages, parseIdxLabels, type FloatAllocator, type IdxImages } from './idx.js';
export { parseCifarBatch, CIFAR_RECORD_BYTES, type CifarBatch } from './cifar.js';
