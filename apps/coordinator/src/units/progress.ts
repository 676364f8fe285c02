/** What a running unit reports as it goes: sent by the compute side, shown by the scheduler's progress. */

/**
 * A training unit's progress after each epoch of its stage (1, or 2 = the continued stage on all
 * 60,000); `bestEpoch` is stage 1's best so far; `elapsedSeconds` since the unit started, for ETAs.
 */
export type ProgressEvent = {
  type: 'epoch';
  key: string;
  role: string;
  seed: number;
  stage: 1 | 2;
  epoch: number;
  epochs: number;
  loss: number;
  bestEpoch: number | null;
  examplesPerSecond: number;
  elapsedSeconds: number;
};
