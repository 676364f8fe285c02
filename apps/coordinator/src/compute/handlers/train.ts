import { rm } from 'node:fs/promises';
import { Rng, type Dataset } from '@advx/data';
import { Classifier, concatData, fitProtocol, saveModel, type EpochRecord, type ProtocolCheckpoint } from '@advx/models';
import { isMpDbmTrain, type ClassifierTrainUnitConfig, type Unit } from '../../units/types.js';
import { runMpDbmTrain } from './train-mp-dbm.js';
import { encode } from '../../units/codec.js';
import { checkpointInterval, readCheckpoint } from './checkpoint.js';
import { writeFileAtomic } from '../../support/atomic-write.js';
import { checkpointPath, modelDirectory, tensorboardDirectory } from '../../units/files.js';
import { flatSize, readResult, unitData, type Handler, type WorkerContext } from './context.js';
import { openCurveWriter } from './learning-curves.js';

/** App. A: N(0, I) inputs labelled as an extra "none" class (index numClasses). */
function withRubbishClass(data: Dataset, count: number, rng: Rng): Dataset {
  const width = data.images.length / data.count;
  const rubbish: Dataset = { ...data, images: rng.fillNormal(new Float32Array(count * width)), labels: new Uint8Array(count).fill(data.numClasses), count };
  return { ...concatData(data, rubbish), numClasses: data.numClasses + 1 };
}

export const runTrain: Handler<'train'> = async (context, unit) => (isMpDbmTrain(unit.config) ? runMpDbmTrain(context, unit, unit.config) : runClassifierTrain(context, unit, unit.config));

const runClassifierTrain = async (context: WorkerContext, unit: Unit, config: ClassifierTrainUnitConfig): ReturnType<Handler<'train'>> => {
  const started = performance.now();
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
  const checkpointFile = checkpointPath(context.runsDir, unit.key);
  const interval = checkpointInterval();
  let lastCheckpoint = performance.now();
  const resume = await readCheckpoint<ProtocolCheckpoint>(checkpointFile);
  const curves = openCurveWriter(context.backend, tensorboardDirectory(context.runsDir, unit.key), !!config.earlyStopping?.adversarialEps);
  let step = resume ? resume.history.length : 0;
  try {
    const outcome = await fitProtocol(
      model,
      { train: data, validation },
      { training, earlyStopping: config.earlyStopping, continuation: config.continuation },
      rng,
      {
        resume,
        onEpoch: (r: EpochRecord, bestEpoch) => {
          curves.epoch(r, ++step);
          context.progress({
            type: 'epoch', key: unit.key, role: unit.role, seed: unit.seed, stage: r.stage, epoch: r.epoch, epochs: r.stage === 1 ? training.epochs : config.continuation!.maxEpochs,
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
      },
    );
    await saveModel(model, modelDirectory(context.runsDir, unit.key), data.numClasses);
    // The finished model and result.json replace it; a stale checkpoint must not outlive its unit.
    await rm(checkpointFile, { force: true });
    const speeds = outcome.history.map((r) => r.examplesPerSecond).sort((a, b) => a - b);
    const last = outcome.history[outcome.history.length - 1];
    return {
      metrics: {
        epochs: outcome.history.length,
        stage1_epochs: outcome.stage1Epochs,
        final_loss: last.trainLoss,
        examples_per_second: speeds[Math.floor(speeds.length / 2)],
        train_count: data.count,
        best_epoch: outcome.bestEpoch,
        best_validation_error: outcome.bestValidationError,
        stage2_epochs: outcome.stage2Epochs,
        stage2_target_objective: outcome.stage2Target,
        stage2_final_objective: outcome.stage2FinalObjective,
        stage2_matched: outcome.stage2Stop === null ? null : Number(outcome.stage2Stop === 'matched'),
        resumed_from_epoch: resume ? resume.history.length : null,
      },
      artifacts: { history: outcome.history },
    };
  } finally {
    curves.close();
    model.dispose();
  }
};
