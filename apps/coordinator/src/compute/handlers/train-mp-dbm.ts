import { rm } from 'node:fs/promises';
import { Rng } from '@advx/data';
import { MpDbm, fitMpDbm, mpDbmCheckpointFromDecoded, saveModel, visibleBiasFromMarginals, type EpochRecord, type MpDbmCheckpoint } from '@advx/models';
import { encode } from '../../units/codec.js';
import { writeFileAtomic } from '../../support/atomic-write.js';
import { checkpointPath, modelDirectory, tensorboardDirectory } from '../../units/files.js';
import type { MpDbmTrainUnitConfig, Unit } from '../../units/types.js';
import { flatSize, unitData, type Handler, type WorkerContext } from './context.js';
import { openCurveWriter } from './learning-curves.js';
import { checkpointInterval, readCheckpoint } from './checkpoint.js';

/**
 * A train unit of an MP-DBM (§9, P13): multi-prediction training with early stopping on the clean
 * validation error, checkpointed between epochs like the classifier protocol and resumed from the
 * last checkpoint; then saved in the tfjs layout (format `advx-mp-dbm`). Its metrics use the
 * classifier's names, the continued-stage ones null, so the report reads both alike.
 */
export async function runMpDbmTrain(context: WorkerContext, unit: Unit, config: MpDbmTrainUnitConfig): ReturnType<Handler<'train'>> {
  const started = performance.now();
  const rng = Rng.fromSeed(config.seed).fork(config.model.name);
  const data = unitData(context, config.dataset, 'train');
  const width = flatSize(data);
  // pylearn2 takes the marginals of the raw (not binarized) training pixels.
  const bias = config.model.visibleBias === 'marginals' ? visibleBiasFromMarginals(data.images, data.count, width) : undefined;
  const model = new MpDbm(config.model, width, data.numClasses, rng, bias);
  const validation = config.earlyStopping ? unitData(context, config.dataset, 'validation') : null;
  const checkpointFile = checkpointPath(context.runsDir, unit.key);
  const interval = checkpointInterval();
  let lastCheckpoint = performance.now();
  const curves = openCurveWriter(context.backend, tensorboardDirectory(context.runsDir, unit.key), false);
  try {
    const resume = await readCheckpoint<MpDbmCheckpoint>(checkpointFile, mpDbmCheckpointFromDecoded);
    let step = resume ? resume.history.length : 0;
    const outcome = await fitMpDbm(model, { train: data, validation }, { training: config.training, earlyStopping: config.earlyStopping }, rng, {
      resume,
      onEpoch: (r: EpochRecord, bestEpoch) => {
        curves.epoch(r, ++step);
        context.progress({
          type: 'epoch', key: unit.key, role: unit.role, seed: unit.seed, stage: 1, epoch: r.epoch, epochs: config.training.epochs,
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
    await saveModel(model, modelDirectory(context.runsDir, unit.key), data.numClasses);
    await rm(checkpointFile, { force: true });
    const speeds = outcome.history.map((r) => r.examplesPerSecond).sort((a, b) => a - b);
    const last = outcome.history[outcome.history.length - 1];
    return {
      metrics: {
        epochs: outcome.history.length,
        stage1_epochs: outcome.history.length,
        final_loss: last.trainLoss,
        examples_per_second: speeds[Math.floor(speeds.length / 2)],
        train_count: data.count,
        best_epoch: outcome.bestEpoch,
        best_validation_error: outcome.bestValidationError,
        stage2_epochs: null,
        stage2_target_objective: null,
        stage2_final_objective: null,
        stage2_matched: null,
        resumed_from_epoch: resume ? resume.history.length : null,
      },
      artifacts: { history: outcome.history },
    };
  } finally {
    curves.close();
    model.dispose();
  }
}
