import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Marks the staging files of atomic writes; a killed writer can leave them behind. */
const STAGING = '.tmp-';

/** A staging name beside `path`, unique to this process and call. */
export const stagingPath = (path: string): string => `${path}${STAGING}${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Staging files of atomic writes that a killed writer can leave behind (never shipped nor read). */
export const isStagingFile = (name: string): boolean => name.includes(STAGING);

/** Writes beside the target and renames, so readers never see a half-written file. */
export async function writeFileAtomic(path: string, contents: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const staging = stagingPath(path);
  try {
    await writeFile(staging, contents);
    await rename(staging, path);
  } catch (error) {
    await rm(staging, { force: true });
    throw error;
  }
}
