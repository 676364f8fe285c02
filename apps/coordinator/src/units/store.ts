import { cp, readFile, rename, rm } from 'node:fs/promises';
import { stagingPath, writeFileAtomic } from '../support/atomic-write.js';
import { resultPath, unitDirectory, unitFilesLayout } from './files.js';
import { CorruptArtifactError, legacyFileDigests, verifyUnitFiles } from './integrity.js';
import { checkResult } from './schema.js';
import type { UnitResult } from './types.js';

/** What a runs directory holds for a unit: nothing, a result that must not be used (and why), or a result to use. */
type Stored =
  | { state: 'missing' }
  | { state: 'invalid'; file: string; problem: string }
  | { state: 'valid'; result: UnitResult }
  /** Written before digests were recorded; its files are whole, and these are their digests. */
  | { state: 'legacy'; result: UnitResult };

/** A unit's result.json, checked against the schema and its key (its files are not read). */
async function inspectResult(runsDir: string, key: string): Promise<Stored> {
  const path = resultPath(runsDir, key);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // A crash mid-write cannot leave a partial file (writes are atomic): absent = not run.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'invalid', file: path, problem: `unreadable (${(error as Error).message})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { state: 'invalid', file: path, problem: `not JSON (${(error as Error).message})` };
  }
  const checked = checkResult(raw, key);
  return 'problem' in checked ? { state: 'invalid', file: path, problem: checked.problem } : { state: 'valid', result: checked.result };
}

/** A unit's result.json and the files it records, each checked against its SHA-256. */
async function inspectUnit(runsDir: string, key: string): Promise<Stored> {
  const stored = await inspectResult(runsDir, key);
  if (stored.state !== 'valid') return stored;
  const { result } = stored;
  const kind = result.config.kind;
  if (!unitFilesLayout(kind)) return stored;
  try {
    if (result.files) {
      await verifyUnitFiles(runsDir, key, kind, result.files);
      return stored;
    }
    const legacy = await legacyFileDigests(runsDir, key, kind);
    if ('problem' in legacy) return { state: 'invalid', file: legacy.file, problem: legacy.problem };
    return { state: 'legacy', result: { ...result, files: legacy.digests } };
  } catch (error) {
    if (error instanceof CorruptArtifactError) return { state: 'invalid', file: error.file, problem: error.reason };
    return { state: 'invalid', file: unitDirectory(runsDir, key), problem: `unreadable (${(error as Error).message})` };
  }
}

/**
 * A dependency's result.json, as the unit that reads it sees it: null when there is none, a
 * CorruptArtifactError (naming the file) when it does not pass the schema. Its files are checked
 * where they are read (compute/handlers/context.ts).
 */
export async function readResult(runsDir: string, key: string): Promise<UnitResult | null> {
  const stored = await inspectResult(runsDir, key);
  if (stored.state === 'invalid') throw new CorruptArtifactError(key, stored.file, stored.problem);
  return stored.state === 'missing' ? null : stored.result;
}

/** Where the store reports results it will not use (the sweep's logger). */
export interface StoreLog {
  warn(message: string): void;
  info(message: string): void;
}

const silent: StoreLog = { warn: () => {}, info: () => {} };

/**
 * Finished units on disk, one directory per unit key: the sweep's cache and its crash log. Keys
 * hash the unit's whole config, so a finished unit of another sweep (`reuse` directories) is the
 * same work: it is copied in (result and model) instead of recomputed.
 *
 * A result counts only when its result.json passes the schema (units/schema.ts) and every file it
 * records has its recorded SHA-256 (units/integrity.ts); otherwise it is reported once, naming the
 * file, and the unit is recomputed. Results written before digests were recorded are taken when
 * their files are whole, and their digests are recorded from then on.
 */
export class RunStore {
  constructor(
    readonly runsDir: string,
    private readonly reuse: string[] = [],
    private readonly log: StoreLog = silent,
  ) {}

  resultPath(key: string): string {
    return resultPath(this.runsDir, key);
  }

  /** A finished unit's result, checked (its files too); null when the unit has to be computed. */
  async read(key: string): Promise<UnitResult | null> {
    const local = await inspectUnit(this.runsDir, key);
    if (local.state === 'valid') return local.result;
    if (local.state === 'legacy') return this.adopt(local.result, this.resultPath(key));
    for (const other of this.reuse) {
      const candidate = await inspectUnit(other, key);
      if (candidate.state === 'missing') continue;
      if (candidate.state === 'invalid') {
        this.log.warn(`--reuse ${candidate.file}: ${candidate.problem}; not reused`);
        continue;
      }
      const target = unitDirectory(this.runsDir, key);
      const staging = stagingPath(target);
      await cp(unitDirectory(other, key), staging, { recursive: true });
      // Whatever this directory held (an invalid result, a checkpoint) is superseded by the finished unit.
      await rm(target, { recursive: true, force: true });
      await rename(staging, target);
      if (local.state === 'invalid') this.log.warn(`${local.file}: ${local.problem}; not used, replaced by the finished unit in ${other}`);
      const copied = await inspectUnit(this.runsDir, key);
      if (copied.state === 'valid') return copied.result;
      if (copied.state === 'legacy') return this.adopt(copied.result, this.resultPath(key));
      this.log.warn(`${copied.state === 'invalid' ? `${copied.file}: ${copied.problem}` : `${target}: gone`} after copying it from ${other}; unit ${key} is recomputed`);
      return null;
    }
    if (local.state === 'invalid') this.log.warn(`${local.file}: ${local.problem}; not used, unit ${key} is recomputed`);
    return null;
  }

  /** A result written before digests were recorded, whose files are whole: their digests are recorded now. */
  private async adopt(result: UnitResult, path: string): Promise<UnitResult> {
    await writeFileAtomic(path, JSON.stringify(result, null, 2));
    this.log.info(`${path}: written before its files' SHA-256 were recorded; they are whole, their SHA-256 now recorded`);
    return result;
  }

  /**
   * Writes a finished unit's result, after checking the files it records against its digests
   * (for BullMQ, the bytes that came through Redis); throws CorruptArtifactError if they differ.
   */
  async write(result: UnitResult): Promise<string> {
    const path = this.resultPath(result.key);
    if (result.files) await verifyUnitFiles(this.runsDir, result.key, result.config.kind, result.files);
    await writeFileAtomic(path, JSON.stringify(result, null, 2));
    return path;
  }

  /** A result found unusable by a unit that read it: reported once, and removed so no later sweep takes it. */
  async invalidate(key: string, message: string): Promise<void> {
    this.log.warn(message);
    await rm(this.resultPath(key), { force: true });
  }
}
