/**
 * Just enough of (ustar) tar to take regular files out of the CIFAR-10 archive, so extracting it needs
 * no package and no `tar` binary.
 */
import { DataError } from './errors.js';

const BLOCK = 512;

function field(header: Uint8Array, start: number, length: number): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** Regular files whose path satisfies `wanted`, by path. */
export function extractTarFiles(tar: Uint8Array, path: string, wanted: (name: string) => boolean): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const prefix = field(header, 345, 155);
    const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156]);
    if (!Number.isFinite(size)) throw new DataError(`${path}: bad size field in tar header of ${name}`);
    const start = offset + BLOCK;
    if (start + size > tar.length) throw new DataError(`${path}: truncated tar archive inside ${name}`);
    if ((type === '0' || type === '\0') && wanted(name)) files.set(name, tar.slice(start, start + size));
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}
