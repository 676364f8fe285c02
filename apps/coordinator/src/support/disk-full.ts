import { statfs } from 'node:fs/promises';

/**
 * A full disk (ENOSPC) is not a unit's failure to retry, nor a crash: the sweep stops scheduling,
 * keeps what it finished, writes an incomplete report if there is room, and says in one line
 * where space ran out, how much is free there, and what it was writing.
 */
export class DiskFullError extends Error {
  readonly exitCode = 1;
}

/** True for ENOSPC, whether thrown here or reported by a worker as a message. */
export function isDiskFull(error: unknown): boolean {
  if ((error as NodeJS.ErrnoException | null)?.code === 'ENOSPC') return true;
  const message = error instanceof Error ? error.message : String(error);
  return /\bENOSPC\b|^disk full/.test(message);
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e6 ? 3 : 1)} MB`;

/** The one line for a full disk under `directory`, while writing `what` of `bytes` (when known). */
export async function diskFullMessage(directory: string, what: string, bytes: number | null): Promise<string> {
  let free = 'unknown';
  try {
    const fs = await statfs(directory);
    free = megabytes(fs.bavail * fs.bsize);
  } catch {
    // the directory itself may be what could not be made
  }
  const need = bytes === null ? '' : ` (${megabytes(bytes)})`;
  return `disk full in ${directory}: ${free} free, too little to write ${what}${need}; free some space there or choose another --out, then rerun the command (finished units are kept)`;
}
