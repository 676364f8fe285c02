/**
 * CIFAR-10's binary batches: records of one label byte then 3072 pixel bytes stored as three 32×32
 * planes (R, G, B). tfjs wants NHWC, so the planes are interleaved into pixels here.
 */
import { DataError } from './errors.js';
import { checkLabels, scaleBytesToUnit } from './idx.js';

const SIDE = 32;
const CHANNELS = 3;
const PLANE = SIDE * SIDE;
const IMAGE_BYTES = PLANE * CHANNELS;
export const CIFAR_RECORD_BYTES = 1 + IMAGE_BYTES;

export interface CifarBatch {
  count: number;
  /** `count × 32 × 32 × 3` (HWC) pixels scaled to [0, 1]. */
  images: Float32Array;
  labels: Uint8Array;
}

export function parseCifarBatch(bytes: Uint8Array, path: string): CifarBatch {
  // The real batches hold 10,000 records each; any whole number is accepted so tests can write small ones.
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new DataError(
      `${path}: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte CIFAR records (${bytes.length % CIFAR_RECORD_BYTES} bytes left over)`,
    );
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const hwc = new Uint8Array(count * IMAGE_BYTES);
  for (let n = 0; n < count; n++) {
    const record = n * CIFAR_RECORD_BYTES;
    labels[n] = bytes[record];
    const planes = record + 1;
    const image = n * IMAGE_BYTES;
    for (let p = 0; p < PLANE; p++) {
      for (let c = 0; c < CHANNELS; c++) hwc[image + p * CHANNELS + c] = bytes[planes + c * PLANE + p];
    }
  }
  checkLabels(labels, path, 10);
  return { count, images: scaleBytesToUnit(hwc), labels };
}
