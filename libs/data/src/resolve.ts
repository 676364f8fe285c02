/**
 * Which directory a dataset is read from. A directory the user names is used or rejected, never
 * quietly replaced; only the cache may be filled by a download.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataError } from './errors.js';
import type { DatasetName, DatasetSpec } from './registry.js';

export type DirectorySource = 'option' | 'env' | 'system' | 'cache';

export interface Located {
  /** Path of each required file, by its registry name. */
  paths: Map<string, string>;
  /** Registry names of required files found under none of their accepted paths. */
  missing: string[];
}

export interface Resolution extends Located {
  directory: string;
  source: DirectorySource;
}

export interface ResolveOptions {
  dataDir?: string;
  env?: Record<string, string | undefined>;
  /** Defaults to the spec's; tests point it elsewhere. */
  systemDirectories?: string[];
  homeDirectory?: string;
}

/** Registry names of the files a loader needs, in a fixed order (the dataset checksum depends on it). */
export function requiredFiles(spec: DatasetSpec): string[] {
  if (spec.format === 'idx') {
    const { trainImages, trainLabels, testImages, testLabels } = spec.files;
    return [trainImages.name, trainLabels.name, testImages.name, testLabels.name];
  }
  return [...spec.trainFiles, ...spec.testFiles];
}

/** Relative paths under which a required file is accepted: as published, or as people commonly unpack it. */
function acceptedPaths(spec: DatasetSpec, name: string): string[] {
  return spec.format === 'idx' ? [name, name.replace(/\.gz$/, '')] : [name, join(spec.batchDirectory, name)];
}

export function locateFiles(spec: DatasetSpec, directory: string): Located {
  const paths = new Map<string, string>();
  const missing: string[] = [];
  for (const name of requiredFiles(spec)) {
    const found = acceptedPaths(spec, name)
      .map((relative) => join(directory, relative))
      .find((path) => existsSync(path));
    if (found) paths.set(name, found);
    else missing.push(name);
  }
  return { paths, missing };
}

const nonEmpty = (value: string | undefined): string | undefined => (value ? value : undefined);

export function cacheDirectory(
  name: DatasetName,
  env: Record<string, string | undefined> = process.env,
  homeDirectory: string = homedir(),
): string {
  const advxCache = nonEmpty(env.ADVX_CACHE_DIR);
  if (advxCache) return resolve(advxCache, 'datasets', name);
  const xdgCache = nonEmpty(env.XDG_CACHE_HOME);
  return resolve(xdgCache ?? join(homeDirectory, '.cache'), 'advx', 'datasets', name);
}

/**
 * `dataDir` → `$<ENV_VAR>` → system directories → cache. Every directory but the cache must hold all
 * files to be chosen; the cache is returned with whatever it lacks, for the caller to download.
 */
export function resolveDataDirectory(spec: DatasetSpec, options: ResolveOptions = {}): Resolution {
  const env = options.env ?? process.env;
  const explicit = options.dataDir
    ? { directory: resolve(options.dataDir), source: 'option' as const, origin: 'data directory option' }
    : nonEmpty(env[spec.envVar])
      ? { directory: resolve(env[spec.envVar]!), source: 'env' as const, origin: `$${spec.envVar}` }
      : null;
  if (explicit) {
    if (!existsSync(explicit.directory)) {
      throw new DataError(`${explicit.directory} (from ${explicit.origin}): directory does not exist`);
    }
    const located = locateFiles(spec, explicit.directory);
    if (located.missing.length > 0) {
      throw new DataError(
        `${explicit.directory} (from ${explicit.origin}): missing ${spec.name} file(s) ${located.missing.join(', ')}`,
      );
    }
    return { directory: explicit.directory, source: explicit.source, ...located };
  }
  for (const directory of options.systemDirectories ?? spec.systemDirectories) {
    const located = locateFiles(spec, directory);
    if (located.missing.length === 0) return { directory, source: 'system', ...located };
  }
  const directory = cacheDirectory(spec.name, env, options.homeDirectory);
  return { directory, source: 'cache', ...locateFiles(spec, directory) };
}

/**
 * What to do when the cache cannot be filled (offline, a proxy, a mirror serving the wrong file):
 * point the loader at local files instead. Appended to a download error, on the same line, so a
 * newcomer sees the fix where they see the failure.
 */
export function offlineHint(spec: DatasetSpec, cache: string): string {
  if (spec.format === 'idx') {
    return `to run offline, set ${spec.envVar} or --data-dir to a folder with the four ${spec.name} IDX files (${requiredFiles(spec).join(', ')}; gzipped or not), or put them in the cache, ${cache}`;
  }
  return `to run offline, set ${spec.envVar} to a folder with ${spec.batchDirectory}/ (${requiredFiles(spec).join(', ')}), or put that folder in the cache, ${cache}`;
}
