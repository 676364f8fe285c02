import { Rng, type Dataset } from '@advx/data';
import { Classifier, concatData, fitProtocol, type ProtocolCheckpoint, type ProtocolOutcome } from '@advx/models';
import { isMpDbmTrain, type ClassifierTrainUnitConfig, type Unit } from '../../units/types.js';
import { runMpDbmTrain } from './train-mp-dbm.js';
import { flatSize, readResult, unitData, type Handler, type WorkerContext } from './context.js';
import { runCheckpointedTraining } from './checkpointed-training.js';

/** App. A: N(0, I) inputs labelled as an extra "none" class (index numClasses). */
function withRubbishClass(data: Dataset, count: number, rng: Rng): Dataset {
  const width = data.images.length / data.count;
  const rubbish: Dataset = { ...data, images: rng.fillNormal(new Float32Array(count * width)), labels: new Uint8Array(count).fill(data.numClasses), count };
  return { ...concatData(data, rubbish), numClasses: data.numClasses + 1 };
}

export const runTrain: Handler<'train'> = async (context, unit) => (isMpDbmTrain(unit.config) ? runMpDbmTrain(context, unit, unit.config) : runClassifierTrain(context, unit, unit.config));

const runClassifierTrain = async (context: WorkerContext, unit: Unit, config: ClassifierTrainUnitConfig): ReturnType<Handler<'train'>> => {
  const rng = Rng.fromSeed(config.seed).fork(config.model.name);
  let data = unitData(context, config.dataset, 'train');
  if (config.includeValidation) data = concatData(data, unitData(context, config.dataset, 'validation'));
  if (config.rubbishClass) data = withRubbishClass(data, config.rubbishClass, rng.fork('rubbish-class'));
  const training = { ...config.training };
  if (config.epochsFrom) {
    const chosen = (await readResult(context, config.epochsFrom)).metrics.best_epoch;
    if (typeof chosen !== 'number' || chosen < 1) throw new Error(`unit ${config.epochsFrom} chose no epoch count to retrain for (best_epoch ${chosen})`);
    training.epochs = chosen;
  }

  const model = new Classifier(config.model, flatSize(data), data.numClasses, rng);
  const validation = config.earlyStopping ? unitData(context, config.dataset, 'validation') : null;
  return runCheckpointedTraining<ProtocolCheckpoint, ProtocolOutcome>(context, unit, {
    model,
    numClasses: data.numClasses,
    trainCount: data.count,
    adversarialCurves: !!config.earlyStopping?.adversarialEps,
    epochsOfStage: (stage) => (stage === 1 ? training.epochs : config.continuation!.maxEpochs),
    fit: (hooks) => fitProtocol(model, { train: data, validation }, { training, earlyStopping: config.earlyStopping, continuation: config.continuation }, rng, hooks),
    stageMetrics: (outcome) => ({
      stage1_epochs: outcome.stage1Epochs,
      stage2_epochs: outcome.stage2Epochs,
      stage2_target_objective: outcome.stage2Target,
      stage2_final_objective: outcome.stage2FinalObjective,
      stage2_matched: outcome.stage2Stop === null ? null : Number(outcome.stage2Stop === 'matched'),
    }),
  });
};
