import { Rng, type Dataset } from '@advx/data';
import { fgsm } from '@advx/attacks';
import { ClassificationAccumulator } from '@advx/metrics';
import { Classifier, asAttackTarget, saveModel, train, type EpochReport, type Predictor } from '@advx/models';
import type { TrainUnitConfig } from '../units.js';
import { modelDirectory } from '../unit-files.js';
import { flatSize, forEachBatch, readResult, unitData, type Handler } from './context.js';

function concat(a: Dataset, b: Dataset): Dataset {
  const images = new Float32Array(a.images.length + b.images.length);
  images.set(a.images);
  images.set(b.images, a.images.length);
  const labels = new Uint8Array(a.count + b.count);
  labels.set(a.labels);
  labels.set(b.labels, a.count);
  return { ...a, images, labels, count: a.count + b.count };
}

/** App. A: N(0, I) inputs labelled as an extra "none" class (index numClasses). */
function withRubbishClass(data: Dataset, count: number, rng: Rng): Dataset {
  const width = data.images.length / data.count;
  const rubbish: Dataset = { ...data, images: rng.fillNormal(new Float32Array(count * width)), labels: new Uint8Array(count).fill(data.numClasses), count };
  return { ...concat(data, rubbish), numClasses: data.numClasses + 1 };
}

/** Error of `model` on `data`, clean or under FGSM with ε — the early-stopping criterion. */
async function errorRate(model: Predictor, data: Dataset, adversarialEps: number | null): Promise<number> {
  const accumulator = new ClassificationAccumulator();
  const target = asAttackTarget(model);
  try {
    forEachBatch(data, (x, labels) => {
      const input = adversarialEps === null ? x : fgsm(target, x, { eps: adversarialEps, labels });
      const scores = model.scores(input);
      accumulator.add(model.predict(scores), labels, model.confidence(scores));
    });
    return (await accumulator.result()).error;
  } finally {
    accumulator.dispose();
  }
}

export const runTrain: Handler = async (context, unit) => {
  const config = unit.config as TrainUnitConfig;
  const started = performance.now();
  const rng = Rng.fromSeed(config.seed).fork(config.model.name);
  let data = unitData(context, config.dataset, 'train');
  if (config.includeValidation) data = concat(data, unitData(context, config.dataset, 'validation'));
  if (config.rubbishClass) data = withRubbishClass(data, config.rubbishClass, rng.fork('rubbish-class'));
  const training = { ...config.training };
  if (config.epochsFrom) {
    const chosen = (await readResult(context, config.epochsFrom)).metrics.best_epoch;
    if (typeof chosen !== 'number' || chosen < 1) throw new Error(`unit ${config.epochsFrom} chose no epoch count to retrain for (best_epoch ${chosen})`);
    training.epochs = chosen;
  }

  const model = new Classifier(config.model, flatSize(data), data.numClasses, rng);
  const validation = config.earlyStopping ? unitData(context, config.dataset, 'validation') : null;
  const history: { epoch: number; validationError: number }[] = [];
  let best = { epoch: 0, error: Infinity };
  try {
    const reports = await train(model, data, training, rng, {
      onEpoch: async (r: EpochReport) => {
        context.progress({ type: 'epoch', key: unit.key, role: unit.role, seed: unit.seed, epoch: r.epoch, epochs: r.epochs, loss: r.meanLoss, examplesPerSecond: r.examplesPerSecond, elapsedSeconds: (performance.now() - started) / 1000 });
        if (!validation || !config.earlyStopping) return;
        const error = await errorRate(model, validation, config.earlyStopping.adversarialEps);
        history.push({ epoch: r.epoch, validationError: error });
        if (error < best.error) best = { epoch: r.epoch, error };
        return r.epoch - best.epoch < config.earlyStopping.patience;
      },
    });
    await saveModel(model, modelDirectory(context.runsDir, unit.key), data.numClasses);
    const speeds = reports.map((r) => r.examplesPerSecond).sort((a, b) => a - b);
    return {
      metrics: {
        epochs: reports.length,
        final_loss: reports[reports.length - 1].meanLoss,
        examples_per_second: speeds[Math.floor(speeds.length / 2)],
        train_count: data.count,
        best_epoch: validation ? best.epoch : null,
        best_validation_error: validation ? best.error : null,
      },
      artifacts: history.length ? { validationHistory: history } : undefined,
    };
  } finally {
    model.dispose();
  }
};
