import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { UnitResult } from './units.js';

/** Writes beside the target and renames, so readers never see a half-written file. */
export async function writeFileAtomic(path: string, contents: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const staging = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(staging, contents);
  await rename(staging, path);
}

/** Finished units on disk, one directory per unit key: the sweep's cache and its crash log. */
export class RunStore {
  constructor(readonly runsDir: string) {}

  resultPath(key: string): string {
    return join(this.runsDir, key, 'result.json');
  }

  async read(key: string): Promise<UnitResult | null> {
    try {
      const result = JSON.parse(await readFile(this.resultPath(key), 'utf8')) as UnitResult;
      return result.key === key ? result : null;
    } catch {
      // Missing or unreadable (a crash mid-write cannot produce this: writes are atomic) → recompute.
      return null;
    }
  }

  async write(result: UnitResult): Promise<string> {
    const path = this.resultPath(result.key);
    await writeFileAtomic(path, JSON.stringify(result, null, 2));
    return path;
  }
}
