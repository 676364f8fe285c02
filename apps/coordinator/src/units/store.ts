import { cp, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { UnitResult } from './types.js';

async function readResult(runsDir: string, key: string): Promise<UnitResult | null> {
  try {
    const result = JSON.parse(await readFile(join(runsDir, key, 'result.json'), 'utf8')) as UnitResult;
    return result.key === key ? result : null;
  } catch {
    // Missing or unreadable (a crash mid-write cannot produce this: writes are atomic) → recompute.
    return null;
  }
}

/** Writes beside the target and renames, so readers never see a half-written file. */
export async function writeFileAtomic(path: string, contents: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const staging = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(staging, contents);
  await rename(staging, path);
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
    return join(this.runsDir, key, 'result.json');
  }

  async read(key: string): Promise<UnitResult | null> {
    const local = await readResult(this.runsDir, key);
    if (local) return local;
    for (const other of this.reuse) {
      if (!(await readResult(other, key))) continue;
      const staging = `${join(this.runsDir, key)}.tmp-${process.pid}`;
      await cp(join(other, key), staging, { recursive: true });
      await rename(staging, join(this.runsDir, key));
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
