import { Rng } from '@advx/data';
import { MpDbm, fitMpDbm, mpDbmCheckpointFromDecoded, visibleBiasFromMarginals, type MpDbmCheckpoint, type MpDbmOutcome } from '@advx/models';
import type { MpDbmTrainUnitConfig, Unit } from '../../units/types.js';
import { flatSize, unitData, type Handler, type WorkerContext } from './context.js';
import { runCheckpointedTraining } from './checkpointed-training.js';

/**
 * A train unit of an MP-DBM (§9, P13): multi-prediction training with early stopping on the clean
 * validation error, checkpointed between epochs like the classifier protocol and resumed from the
 * last checkpoint; then saved in the tfjs layout (format `advx-mp-dbm`). Its metrics use the
 * classifier's names, the continued-stage ones null, so the report reads both alike.
 */
export async function runMpDbmTrain(context: WorkerContext, unit: Unit, config: MpDbmTrainUnitConfig): ReturnType<Handler<'train'>> {
  const rng = Rng.fromSeed(config.seed).fork(config.model.name);
  const data = unitData(context, config.dataset, 'train');
  const width = flatSize(data);
  // pylearn2 takes the marginals of the raw (not binarized) training pixels.
  const bias = config.model.visibleBias === 'marginals' ? visibleBiasFromMarginals(data.images, data.count, width) : undefined;
  const model = new MpDbm(config.model, width, data.numClasses, rng, bias);
  const validation = config.earlyStopping ? unitData(context, config.dataset, 'validation') : null;
  return runCheckpointedTraining<MpDbmCheckpoint, MpDbmOutcome>(context, unit, {
    model,
    numClasses: data.numClasses,
    trainCount: data.count,
    fromDecoded: mpDbmCheckpointFromDecoded,
    adversarialCurves: false,
    epochsOfStage: () => config.training.epochs,
    fit: (hooks) => fitMpDbm(model, { train: data, validation }, { training: config.training, earlyStopping: config.earlyStopping }, rng, hooks),
    stageMetrics: (outcome) => ({ stage1_epochs: outcome.history.length, stage2_epochs: null, stage2_target_objective: null, stage2_final_objective: null, stage2_matched: null }),
  });
}
