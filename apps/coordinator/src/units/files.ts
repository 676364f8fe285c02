import { join } from 'node:path';
import type { UnitConfig } from './types.js';

/**
 * The one owner of a runs directory's layout: `runs/<key>/` holds a unit's result.json and the
 * files it leaves for the units that read it. No TensorFlow here: the coordinator's main thread
 * imports this.
 */

/** Everything a unit leaves: its result, its files, its TensorBoard log, its checkpoint. */
export const unitDirectory = (runsDir: string, key: string): string => join(runsDir, key);

/** A finished unit's result (the sweep's cache: present = done). */
export const resultPath = (runsDir: string, key: string): string => join(unitDirectory(runsDir, key), 'result.json');

/**
 * Files a unit leaves beside its result.json for the units that read it, by unit kind: a train
 * unit's model, a craft unit's adversarial examples. `marker` is the file whose presence means the
 * directory is whole (it is written last, or atomically). The BullMQ executor ships these
 * directories between machines.
 */
const UNIT_FILES: Partial<Record<UnitConfig['kind'], { directory: string; marker: string }>> = {
  train: { directory: 'model', marker: 'model.json' },
  craft: { directory: 'adversarial', marker: 'examples.msgpack' },
};

/** The kind's files directory and marker as names under the unit's directory ("model", "model.json"), or null. */
export const unitFilesLayout = (kind: UnitConfig['kind']): { directory: string; marker: string } | null => UNIT_FILES[kind] ?? null;

export function unitFiles(runsDir: string, key: string, kind: UnitConfig['kind']): { directory: string; marker: string } | null {
  const files = UNIT_FILES[kind];
  const directory = files ? join(unitDirectory(runsDir, key), files.directory) : null;
  return files && directory ? { directory, marker: join(directory, files.marker) } : null;
}

export const modelDirectory = (runsDir: string, trainKey: string): string => unitFiles(runsDir, trainKey, 'train')!.directory;

/** A training unit's last checkpoint, while it runs (removed once its model is saved). */
export const checkpointPath = (runsDir: string, trainKey: string): string => join(unitDirectory(runsDir, trainKey), 'checkpoint.msgpack');

/** A craft unit's stored examples. */
export const craftedPath = (runsDir: string, craftKey: string): string => unitFiles(runsDir, craftKey, 'craft')!.marker;

/** A training unit's TensorBoard log directory (events.out.tfevents.*.v2 files). */
export const tensorboardDirectory = (runsDir: string, trainKey: string): string => join(unitDirectory(runsDir, trainKey), 'tensorboard');
