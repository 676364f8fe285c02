/**
 * The IDX format of MNIST-like files: a big-endian header (magic, then one 32-bit size per
 * dimension) followed by unsigned bytes. Bytes in, typed arrays out.
 */
import { DataError } from './errors.js';

const IMAGES_MAGIC = 0x00000803; // unsigned bytes, 3 dimensions
const LABELS_MAGIC = 0x00000801; // unsigned bytes, 1 dimension
const IMAGES_HEADER_BYTES = 16;
const LABELS_HEADER_BYTES = 8;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** `count × rows × cols` pixels scaled to [0, 1], row-major. */
  pixels: Float32Array;
}

/** Each byte's value / 255, computed once, so scaling is a lookup and matches division exactly. */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, i) => i / 255);

export function scaleBytesToUnit(bytes: Uint8Array, out: Float32Array = new Float32Array(bytes.length)): Float32Array {
  for (let i = 0; i < bytes.length; i++) out[i] = BYTE_TO_UNIT[bytes[i]];
  return out;
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

function readHeader(bytes: Uint8Array, path: string, headerBytes: number, expected: number, what: string): DataView {
  const tooShort = () =>
    new DataError(`${path}: ${bytes.length} bytes is too short for an IDX ${what} header (${headerBytes} bytes)`);
  if (bytes.length < 4) throw tooShort();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  // The magic is checked before the length so that a swapped images/labels file is named as such.
  if (magic !== expected) {
    const hint =
      magic === IMAGES_MAGIC ? ' (an image file)' : magic === LABELS_MAGIC ? ' (a label file)' : '';
    throw new DataError(`${path}: magic number ${hex(magic)}${hint} is not ${hex(expected)} (IDX ${what})`);
  }
  if (bytes.length < headerBytes) throw tooShort();
  return view;
}

function checkLength(bytes: Uint8Array, path: string, expected: number, promise: string): void {
  if (bytes.length === expected) return;
  const problem =
    bytes.length < expected ? `truncated by ${expected - bytes.length} bytes` : `${bytes.length - expected} trailing bytes`;
  throw new DataError(`${path}: header promises ${promise} (${expected} bytes) but the file has ${bytes.length} bytes: ${problem}`);
}

/** Makes the Float32Array pixels are decoded into (shared memory, for instance). */
export type FloatAllocator = (length: number) => Float32Array;

export function parseIdxImages(
  bytes: Uint8Array,
  path: string,
  expected: { rows: number; cols: number } = { rows: 28, cols: 28 },
  allocate: FloatAllocator = (length) => new Float32Array(length),
): IdxImages {
  const view = readHeader(bytes, path, IMAGES_HEADER_BYTES, IMAGES_MAGIC, 'images');
  const count = view.getUint32(4);
  const rows = view.getUint32(8);
  const cols = view.getUint32(12);
  if (rows !== expected.rows || cols !== expected.cols) {
    throw new DataError(`${path}: images are ${rows}×${cols}, expected ${expected.rows}×${expected.cols}`);
  }
  checkLength(bytes, path, IMAGES_HEADER_BYTES + count * rows * cols, `${count} images of ${rows}×${cols}`);
  const pixels = bytes.subarray(IMAGES_HEADER_BYTES);
  return { count, rows, cols, pixels: scaleBytesToUnit(pixels, allocate(pixels.length)) };
}

export function parseIdxLabels(bytes: Uint8Array, path: string, numClasses = 10): Uint8Array {
  const view = readHeader(bytes, path, LABELS_HEADER_BYTES, LABELS_MAGIC, 'labels');
  const count = view.getUint32(4);
  checkLength(bytes, path, LABELS_HEADER_BYTES + count, `${count} labels`);
  // A copy, not a view: the file's buffer (often a Node Buffer) should not outlive parsing.
  const labels = new Uint8Array(bytes.subarray(LABELS_HEADER_BYTES));
  checkLabels(labels, path, numClasses);
  return labels;
}

export function checkLabels(labels: Uint8Array, path: string, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new DataError(`${path}: label ${labels[i]} at index ${i} is outside 0..${numClasses - 1}`);
    }
  }
}

export function checkSameCount(imageCount: number, imagesPath: string, labelCount: number, labelsPath: string): void {
  if (imageCount !== labelCount) {
    throw new DataError(`${labelsPath}: ${labelCount} labels but ${imagesPath} has ${imageCount} images`);
  }
}
