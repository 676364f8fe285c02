import { join } from 'node:path';
import type { UnitConfig } from './types.js';

/**
 * Files a unit leaves beside its result.json for the units that read it, by unit kind: a train
 * unit's model, a craft unit's adversarial examples. `marker` is the file whose presence means the
 * directory is whole (it is written last, or atomically). The BullMQ executor ships these
 * directories between machines. No TensorFlow here: the coordinator's main thread imports this.
 */
const UNIT_FILES: Partial<Record<UnitConfig['kind'], { directory: string; marker: string }>> = {
  train: { directory: 'model', marker: 'model.json' },
  craft: { directory: 'adversarial', marker: 'examples.msgpack' },
};

export function unitFiles(runsDir: string, key: string, kind: UnitConfig['kind']): { directory: string; marker: string } | null {
  const files = UNIT_FILES[kind];
  return files ? { directory: join(runsDir, key, files.directory), marker: join(runsDir, key, files.directory, files.marker) } : null;
}

export const modelDirectory = (runsDir: string, trainKey: string): string => unitFiles(runsDir, trainKey, 'train')!.directory;

/** A training unit's last checkpoint, while it runs (removed once its model is saved). */
export const checkpointPath = (runsDir: string, trainKey: string): string => join(runsDir, trainKey, 'checkpoint.msgpack');

/** A craft unit's stored examples. */
export const craftedPath = (runsDir: string, craftKey: string): string => unitFiles(runsDir, craftKey, 'craft')!.marker;

/** Staging files of atomic writes (store.ts writeFileAtomic) that a killed writer can leave behind. */
export const isStagingFile = (name: string): boolean => name.includes('.tmp-');
