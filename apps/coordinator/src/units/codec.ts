import { Packr } from 'msgpackr';

/**
 * Messages between the coordinator and workers travel as msgpackr bytes in a buffer of their own,
 * so they can be transferred (moved) rather than structured-cloned. msgpackr reuses one internal
 * buffer across calls, hence the copy into a fresh, exactly-sized ArrayBuffer.
 */
const packr = new Packr({ structuredClone: false, useRecords: false });

export function encode(value: unknown): Uint8Array {
  const packed = packr.pack(value);
  const out = new Uint8Array(packed.byteLength);
  out.set(packed);
  return out;
}

export function decode<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
