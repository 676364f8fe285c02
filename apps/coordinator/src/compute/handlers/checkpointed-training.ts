import { rm } from 'node:fs/promises';
import { saveModel, type EpochRecord, type TrainedModel } from '@advx/models';
import { encode } from '../../units/codec.js';
import { writeFileAtomic } from '../../support/atomic-write.js';
import { checkpointPath, modelDirectory, tensorboardDirectory } from '../../units/files.js';
import type { Unit } from '../../units/types.js';
import type { Handler, WorkerContext } from './context.js';
import { openCurveWriter } from './learning-curves.js';
import { checkpointInterval, readCheckpoint } from './checkpoint.js';

/** What the trainers of both model families take from a train unit: where they resume, and what they report back. */
export interface TrainingHooks<C> {
  resume: C | null;
  onEpoch: (record: EpochRecord, bestEpoch: number | null) => void;
  checkpoint: { due: () => boolean; save: (checkpoint: C) => Promise<void> };
}

/** What both trainers' checkpoints have in common: the epochs done so far. */
export interface Checkpoint {
  history: readonly unknown[];
}

/** What both trainers' outcomes have in common. */
export interface TrainingOutcome {
  history: EpochRecord[];
  bestEpoch: number | null;
  bestValidationError: number | null;
}

/** The metrics only the classifier protocol's second stage fills in (null for a one-stage trainer). */
export interface StageMetrics {
  stage1_epochs: number;
  stage2_epochs: number | null;
  stage2_target_objective: number | null;
  stage2_final_objective: number | null;
  stage2_matched: number | null;
}

export interface TrainingJob<C extends Checkpoint, O extends TrainingOutcome> {
  model: TrainedModel;
  numClasses: number;
  trainCount: number;
  /** Decodes this family's checkpoint (default: the classifier protocol's). */
  fromDecoded?: (value: unknown) => C;
  /** Whether the learning curves have an adversarial-validation column. */
  adversarialCurves: boolean;
  /** Epoch cap of a stage, for the progress bar. */
  epochsOfStage: (stage: 1 | 2) => number;
  fit: (hooks: TrainingHooks<C>) => Promise<O>;
  stageMetrics: (outcome: O) => StageMetrics;
}

/**
 * The part of a train unit that does not depend on the model family: resume from the unit's
 * checkpoint, checkpoint between epochs every `checkpointInterval()` seconds (atomically, so a
 * killed worker leaves the last whole one), stream learning curves and progress, then save the
 * model and drop the checkpoint, and report the metrics the report reads for both families alike.
 * Disposes the model.
 */
export async function runCheckpointedTraining<C extends Checkpoint, O extends TrainingOutcome>(context: WorkerContext, unit: Unit, job: TrainingJob<C, O>): ReturnType<Handler<'train'>> {
  const started = performance.now();
  const checkpointFile = checkpointPath(context.runsDir, unit.key);
  const interval = checkpointInterval();
  let lastCheckpoint = performance.now();
  let curves: ReturnType<typeof openCurveWriter> | null = null;
  try {
    curves = openCurveWriter(context.backend, tensorboardDirectory(context.runsDir, unit.key), job.adversarialCurves);
    const writer = curves;
    // Without `fromDecoded`, readCheckpoint's default (the classifier protocol's) applies.
    const resume = await readCheckpoint<C>(checkpointFile, job.fromDecoded);
    let step = resume ? resume.history.length : 0;
    const resumedFrom = resume ? step : null;
    const outcome = await job.fit({
      resume,
      onEpoch: (r, bestEpoch) => {
        writer.epoch(r, ++step);
        context.progress({
          type: 'epoch', key: unit.key, role: unit.role, seed: unit.seed, stage: r.stage, epoch: r.epoch, epochs: job.epochsOfStage(r.stage),
          loss: r.trainLoss, bestEpoch, examplesPerSecond: r.examplesPerSecond, elapsedSeconds: (performance.now() - started) / 1000,
        });
      },
      checkpoint: {
        due: () => (performance.now() - lastCheckpoint) / 1000 >= interval,
        save: async (checkpoint) => {
          await writeFileAtomic(checkpointFile, encode(checkpoint));
          lastCheckpoint = performance.now();
        },
      },
    });
    await saveModel(job.model, modelDirectory(context.runsDir, unit.key), job.numClasses);
    // The finished model and result.json replace it; a stale checkpoint must not outlive its unit.
    await rm(checkpointFile, { force: true });
    const speeds = outcome.history.map((r) => r.examplesPerSecond).sort((a, b) => a - b);
    const last = outcome.history[outcome.history.length - 1];
    const { stage1_epochs, ...stage2 } = job.stageMetrics(outcome);
    return {
      metrics: {
        epochs: outcome.history.length,
        stage1_epochs,
        final_loss: last.trainLoss,
        examples_per_second: speeds[Math.floor(speeds.length / 2)],
        train_count: job.trainCount,
        best_epoch: outcome.bestEpoch,
        best_validation_error: outcome.bestValidationError,
        ...stage2,
        resumed_from_epoch: resumedFrom,
      },
      artifacts: { history: outcome.history },
    };
  } finally {
    curves?.close();
    job.model.dispose();
  }
}
