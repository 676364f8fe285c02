import { readFile } from 'node:fs/promises';
import { checkpointFromDecoded } from '@advx/models';
import { decode } from '../../units/codec.js';

/** Checkpoint timing and reading, shared by the train handlers of both model families. */

/**
 * How often a training unit saves its state. Long enough that writing it (weights, velocities and
 * the best weights: ~15 MB for the 240-unit net) costs nothing measurable, short enough that a
 * killed run loses minutes, not hours. ADVX_CHECKPOINT_SECONDS overrides it (tests use 0).
 */
export function checkpointInterval(): number {
  const raw = process.env.ADVX_CHECKPOINT_SECONDS;
  const seconds = raw === undefined ? 120 : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`ADVX_CHECKPOINT_SECONDS must be a number of seconds ≥ 0, got "${raw}"`);
  return seconds;
}

/** A checkpoint decoded by `fromDecoded`, or null when there is none. */
export async function readCheckpoint<C>(path: string, fromDecoded: (value: unknown) => C = checkpointFromDecoded as (value: unknown) => C): Promise<C | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return null;
  }
  // Written atomically, so a file that is there is whole; one that does not decode is not ours.
  try {
    return fromDecoded(decode(bytes));
  } catch (error) {
    throw new Error(`${path}: not a readable training checkpoint (${(error as Error).message}); delete it to restart this unit from scratch`);
  }
}

