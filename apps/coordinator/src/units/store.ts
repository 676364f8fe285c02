import { cp, readFile, rename } from 'node:fs/promises';
import { stagingPath, writeFileAtomic } from '../support/atomic-write.js';
import { resultPath, unitDirectory } from './files.js';
import type { UnitResult } from './types.js';

/** A unit's result.json, or null when it is missing, unreadable or another unit's. */
export async function readResult(runsDir: string, key: string): Promise<UnitResult | null> {
  try {
    const result = JSON.parse(await readFile(resultPath(runsDir, key), 'utf8')) as UnitResult;
    return result.key === key ? result : null;
  } catch {
    // Missing or unreadable (a crash mid-write cannot produce this: writes are atomic) → recompute.
    return null;
  }
}

/**
 * Finished units on disk, one directory per unit key: the sweep's cache and its crash log. Keys
 * hash the unit's whole config, so a finished unit of another sweep (`reuse` directories) is the
 * same work: it is copied in (result and model) instead of recomputed.
 */
export class RunStore {
  constructor(
    readonly runsDir: string,
    private readonly reuse: string[] = [],
  ) {}

  resultPath(key: string): string {
    return resultPath(this.runsDir, key);
  }

  async read(key: string): Promise<UnitResult | null> {
    const local = await readResult(this.runsDir, key);
    if (local) return local;
    for (const other of this.reuse) {
      if (!(await readResult(other, key))) continue;
      const staging = stagingPath(unitDirectory(this.runsDir, key));
      await cp(unitDirectory(other, key), staging, { recursive: true });
      await rename(staging, unitDirectory(this.runsDir, key));
      return readResult(this.runsDir, key);
    }
    return null;
  }

  async write(result: UnitResult): Promise<string> {
    const path = this.resultPath(result.key);
    await writeFileAtomic(path, JSON.stringify(result, null, 2));
    return path;
  }
}
