/** From a dataset name to train/validation/test arrays in memory, downloading into the cache if need be. */
import { readDecompressed, sha256Hex } from './bytes.js';
import { parseCifarBatch } from './cifar.js';
import { type Batch, type Dataset, imageSize } from './dataset.js';
import { downloadDataset } from './download.js';
import { DataError } from './errors.js';
import { checkSameCount, parseIdxImages, parseIdxLabels, type FloatAllocator } from './idx.js';
import {
  type CifarDatasetSpec,
  DATASET_NAMES,
  DATASETS,
  type DatasetName,
  type DatasetSpec,
  type IdxDatasetSpec,
  type IdxFile,
  isDatasetName,
} from './registry.js';
import { locateFiles, offlineHint, resolveDataDirectory } from './resolve.js';

export interface DatasetSplits {
  name: string;
  train: Dataset;
  validation: Dataset | null;
  test: Dataset;
  /**
   * SHA-256 over the SHA-256s of the files' decompressed contents: the same data gives the same
   * checksum whether it came gzipped, gunzipped or re-compressed. It does not depend on the split.
   */
  checksum: string;
  directory: string;
}

export interface LoadOptions {
  dataDir?: string;
  /** Examples taken from the end of the training set for validation, as in the maxout papers; 0 for none. */
  validationSize?: number;
  /** Compare file contents against the registry's known sums (default true). */
  verify?: boolean;
  /** Where to download from instead of the dataset's canonical URL (tests, mirrors). */
  baseUrl?: string;
  /**
   * Decode the training and test pixels straight into SharedArrayBuffers, which worker threads can
   * read without a copy of their own (the split's arrays are then views of shared memory).
   */
  sharedMemory?: boolean;
}

const sharedFloats: FloatAllocator = (length) => new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));

const DEFAULT_VALIDATION_SIZE = 10_000;

interface RawSplits {
  train: Batch;
  test: Batch;
  /** `[registry name, content sha256]` in `requiredFiles` order. */
  contentSums: [string, string][];
}

interface FileContent {
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

async function readChecked(path: string, knownSha256: string | null, verify: boolean): Promise<FileContent> {
  const bytes = await readDecompressed(path);
  const sha256 = sha256Hex(bytes);
  if (verify && knownSha256 !== null && sha256 !== knownSha256) {
    throw new DataError(
      `${path}: sha256 of contents is ${sha256}, expected ${knownSha256} (corrupt or not the published file; verify: false loads it anyway)`,
    );
  }
  return { path, bytes, sha256 };
}

async function loadIdx(spec: IdxDatasetSpec, paths: Map<string, string>, verify: boolean, allocate?: FloatAllocator): Promise<RawSplits> {
  const [rows, cols] = spec.shape;
  const read = (file: IdxFile) => readChecked(paths.get(file.name)!, file.contentSha256, verify);
  const split = async (imagesFile: IdxFile, labelsFile: IdxFile) => {
    const images = await read(imagesFile);
    const labels = await read(labelsFile);
    const parsedImages = parseIdxImages(images.bytes, images.path, { rows, cols }, allocate);
    const parsedLabels = parseIdxLabels(labels.bytes, labels.path, spec.classNames.length);
    checkSameCount(parsedImages.count, images.path, parsedLabels.length, labels.path);
    return {
      batch: { images: parsedImages.pixels, labels: parsedLabels, count: parsedImages.count },
      sums: [[imagesFile.name, images.sha256], [labelsFile.name, labels.sha256]] as [string, string][],
    };
  };
  const train = await split(spec.files.trainImages, spec.files.trainLabels);
  const test = await split(spec.files.testImages, spec.files.testLabels);
  return { train: train.batch, test: test.batch, contentSums: [...train.sums, ...test.sums] };
}

async function loadCifar(spec: CifarDatasetSpec, paths: Map<string, string>, allocate?: FloatAllocator): Promise<RawSplits> {
  const contentSums: [string, string][] = [];
  const readBatches = async (names: string[]): Promise<Batch> => {
    const parts = [];
    for (const name of names) {
      const file = await readChecked(paths.get(name)!, null, false);
      contentSums.push([name, file.sha256]);
      parts.push(parseCifarBatch(file.bytes, file.path));
    }
    return concatenate(parts, allocate);
  };
  const train = await readBatches(spec.trainFiles);
  const test = await readBatches(spec.testFiles);
  return { train, test, contentSums };
}

/** The batches one after another, in one new array (from `allocate` when given, even for a single batch). */
function concatenate(parts: Batch[], allocate?: FloatAllocator): Batch {
  if (parts.length === 1 && !allocate) return parts[0];
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  const length = parts.reduce((sum, part) => sum + part.images.length, 0);
  const images = allocate ? allocate(length) : new Float32Array(length);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const part of parts) {
    images.set(part.images, (offset * images.length) / count);
    labels.set(part.labels, offset);
    offset += part.count;
  }
  return { images, labels, count };
}

function datasetChecksum(name: DatasetName, contentSums: [string, string][]): string {
  return sha256Hex(`${name}\n${contentSums.map(([file, sum]) => `${sum}  ${file}\n`).join('')}`);
}

function toDataset(spec: DatasetSpec, split: string, batch: Batch): Dataset {
  return {
    name: `${spec.name}:${split}`,
    images: batch.images,
    labels: batch.labels,
    count: batch.count,
    shape: [...spec.shape],
    numClasses: spec.classNames.length,
    classNames: [...spec.classNames],
  };
}

/** Splits off the last `validationSize` examples as views, so 150 MB of MNIST pixels are not copied. */
function splitValidation(spec: DatasetSpec, train: Batch, validationSize: number): { train: Dataset; validation: Dataset | null } {
  if (!Number.isInteger(validationSize) || validationSize < 0 || validationSize >= train.count) {
    throw new DataError(`${spec.name}: validation size ${validationSize} must be an integer in 0..${train.count - 1}`);
  }
  if (validationSize === 0) return { train: toDataset(spec, 'train', train), validation: null };
  const kept = train.count - validationSize;
  const size = imageSize(spec);
  const view = (from: number, to: number): Batch => ({
    images: train.images.subarray(from * size, to * size),
    labels: train.labels.subarray(from, to),
    count: to - from,
  });
  return { train: toDataset(spec, 'train', view(0, kept)), validation: toDataset(spec, 'validation', view(kept, train.count)) };
}

export async function loadDataset(name: DatasetName, options: LoadOptions = {}): Promise<DatasetSplits> {
  if (!isDatasetName(name)) throw new DataError(`unknown dataset '${String(name)}' (known: ${DATASET_NAMES.join(', ')})`);
  const spec = DATASETS[name];
  let where = resolveDataDirectory(spec, { dataDir: options.dataDir });
  if (where.missing.length > 0) {
    try {
      await downloadDataset(spec, where.directory, where.missing, options.baseUrl);
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      throw new DataError(`${error.message}: ${offlineHint(spec, where.directory)}`, { cause: error });
    }
    where = { ...where, ...locateFiles(spec, where.directory) };
    if (where.missing.length > 0) {
      throw new DataError(`${where.directory}: still missing ${where.missing.join(', ')} after downloading`);
    }
  }
  const verify = options.verify ?? true;
  const allocate = options.sharedMemory ? sharedFloats : undefined;
  const raw = spec.format === 'idx' ? await loadIdx(spec, where.paths, verify, allocate) : await loadCifar(spec, where.paths, allocate);
  const { train, validation } = splitValidation(spec, raw.train, options.validationSize ?? DEFAULT_VALIDATION_SIZE);
  return {
    name,
    train,
    validation,
    test: toDataset(spec, 'test', raw.test),
    checksum: datasetChecksum(name, raw.contentSums),
    directory: where.directory,
  };
}

