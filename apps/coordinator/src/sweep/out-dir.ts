import { accessSync, constants, statSync, unlinkSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type winston from 'winston';
import { isStagingFile } from '../support/atomic-write.js';
import { UsageError } from '../support/command-line.js';

/**
 * The sweep's output directory, made safe before anything is written to it: checked up front (a
 * usage error, not a stack trace, for a file, a path under a file, or an unwritable place), locked
 * against a second coordinator, cleared of an earlier sweep's report and of staging files that a
 * killed writer left behind.
 */

/** The first existing path at or above `path`. */
function nearestExisting(path: string): string {
  let at = resolve(path);
  for (;;) {
    try {
      statSync(at);
      return at;
    } catch {
      const parent = dirname(at);
      if (parent === at) return at;
      at = parent;
    }
  }
}

/** Throws a UsageError naming `--out` unless `out` is, or can be made, a writable directory. */
export function checkOutDirectory(out: string): void {
  if (out.trim() === '') throw new UsageError('--out: empty path; give a directory for the results (default results/<experiment>)');
  const existing = nearestExisting(out);
  if (!statSync(existing).isDirectory()) {
    throw new UsageError(existing === resolve(out) ? `--out: ${out} is a file, not a directory` : `--out: ${out} lies under ${existing}, which is a file, not a directory`);
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    throw new UsageError(`--out: ${existing} is not writable (a read-only filesystem, or no permission for this user); choose another --out`);
  }
}

interface LockRecord {
  pid: number;
  host: string;
  started: string;
}

const LOCK_FILE = 'sweep.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<out>/sweep.lock` for this process, or refuses with a UsageError naming the holder. A lock
 * whose pid is gone on this host is stale (a SIGKILLed sweep): it is taken over with a log line, so
 * resuming after a crash stays a plain rerun. A lock from another host cannot be checked, so it
 * needs `--force`. Returns the release, which also runs when the process exits.
 */
export async function lockOutDirectory(out: string, force: boolean): Promise<{ release: () => void; tookOver: LockRecord | null }> {
  const path = join(out, LOCK_FILE);
  const mine: LockRecord = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  let tookOver: LockRecord | null = null;
  try {
    await writeFile(path, JSON.stringify(mine), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let holder: LockRecord | null = null;
    try {
      holder = JSON.parse(await readFile(path, 'utf8')) as LockRecord;
    } catch {
      holder = null; // unreadable: a writer died between creating and filling it
    }
    const sameHost = holder?.host === mine.host;
    if (holder && sameHost && alive(holder.pid) && !force) {
      throw new UsageError(`--out: ${out} is in use by another sweep (pid ${holder.pid}, started ${holder.started}); wait for it, or use another --out`);
    }
    if (holder && !sameHost && !force) {
      throw new UsageError(`--out: ${out} is locked by a sweep on host ${holder.host} (pid ${holder.pid}, started ${holder.started}); if it is no longer running, rerun with --force`);
    }
    tookOver = holder;
    await writeFile(path, JSON.stringify(mine));
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return { release, tookOver };
}

const REPORT_FILES = ['report.json', 'report.md', 'report.html'];

/**
 * Renames an earlier sweep's report to `report.stale.*` as soon as a new sweep starts, so a report
 * marked complete never sits beside results it does not describe (the new one replaces it at the end).
 */
export async function retirePreviousReport(out: string, logger: winston.Logger): Promise<void> {
  const present = (await readdir(out)).filter((name) => REPORT_FILES.includes(name));
  for (const name of present) await rename(join(out, name), join(out, name.replace(/^report\./, 'report.stale.')));
  if (present.length) logger.info(`an earlier sweep's report in ${out} is now report.stale.* (this sweep writes report.* when it ends)`);
}

/** Removes staging files and directories that a killed writer left (they are never read). */
export async function removeStagingFiles(out: string, runsDir: string, logger: winston.Logger): Promise<void> {
  const removed: string[] = [];
  // The reports at the top, and everything under runs/ (unit directories, their models and examples).
  const sweepDirectory = async (directory: string, deep: boolean) => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (isStagingFile(entry.name)) {
        await rm(path, { recursive: true, force: true });
        removed.push(path);
      } else if (entry.isDirectory() && deep) await sweepDirectory(path, true);
    }
  };
  await sweepDirectory(out, false);
  await sweepDirectory(runsDir, true);
  if (removed.length) logger.info(`removed ${removed.length} staging file(s) a killed writer left behind, e.g. ${removed[0]}`);
}
