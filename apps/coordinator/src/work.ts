import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { filterClasses, Rng, type Dataset } from '@advx/data';
import { bim, exactSign, fgsm, foolingRun, lossGradient, pgd, rubbishExamples, type AttackTarget } from '@advx/attacks';
import { AgreementAccumulator, ClassificationAccumulator, logitsAlongDirection, piecewiseLinearFit, rubbishStats } from '@advx/metrics';
import { Classifier, Ensemble, asAttackTarget, loadModel, saveModel, train, type EpochReport, type Predictor } from '@advx/models';
import type { AttackSpec } from './experiments/types.js';
import { head, viewSplit, type SharedDataset } from './shared-data.js';
import type { ExamplesArtifacts, FoolingArtifacts, LinearityArtifacts, RubbishArtifacts } from './report-figures.js';
import type { DatasetRef, EvaluateUnitConfig, ExamplesUnitConfig, FoolingUnitConfig, LinearityUnitConfig, Metrics, RubbishUnitConfig, TrainUnitConfig, Unit, UnitOutput, UnitResult } from './units.js';

/** What a worker thread holds for its whole life: the backend in use and the shared dataset. */
export interface WorkerContext {
  backend: string;
  datasets: Record<string, SharedDataset>;
  runsDir: string;
  progress: (event: ProgressEvent) => void;
}

export type ProgressEvent = { type: 'epoch'; key: string; role: string; seed: number; epoch: number; epochs: number; loss: number; examplesPerSecond: number };

type Handler = (context: WorkerContext, unit: Unit) => Promise<Omit<UnitOutput, 'backend' | 'computeSeconds'>>;

const EVAL_BATCH = 500;

export function modelDirectory(runsDir: string, trainKey: string): string {
  return join(runsDir, trainKey, 'model');
}

async function readResult(context: WorkerContext, key: string): Promise<UnitResult> {
  return JSON.parse(await readFile(join(context.runsDir, key, 'result.json'), 'utf8')) as UnitResult;
}

/** The split a unit works on, restricted to the experiment's classes and the preset's size. */
export function unitData(context: WorkerContext, ref: DatasetRef, split: 'train' | 'validation' | 'test'): Dataset {
  const shared = context.datasets[ref.name];
  if (!shared) throw new Error(`dataset ${ref.name} was not loaded for this sweep`);
  let data = viewSplit(shared, split);
  if (ref.classes) data = filterClasses(data, ref.classes, true);
  const count = split === 'train' ? ref.trainCount : split === 'test' ? ref.testCount : null;
  return head(data, count);
}

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

export function flatSize(data: Dataset): number {
  return data.shape[0] * data.shape[1] * data.shape[2];
}

/** One model, or an ensemble averaging the probabilities of several. */
export async function loadPredictor(context: WorkerContext, keys: string[]): Promise<{ predictor: Predictor; dispose: () => void }> {
  const models = await Promise.all(keys.map(async (key) => (await loadModel(modelDirectory(context.runsDir, key))).model));
  if (models.length === 1) return { predictor: models[0], dispose: () => models[0].dispose() };
  const ensemble = new Ensemble(models);
  return { predictor: ensemble, dispose: () => ensemble.dispose() };
}

export function craft(target: AttackTarget, x: tf.Tensor2D, labels: tf.Tensor1D, attack: AttackSpec, rng: Rng): tf.Tensor2D {
  switch (attack.kind) {
    case 'fgsm':
      return fgsm(target, x, { eps: attack.eps, labels });
    case 'bim':
      return bim(target, x, { eps: attack.eps, labels, steps: attack.steps, stepSize: attack.stepSize });
    case 'pgd':
      return pgd(target, x, { eps: attack.eps, labels, steps: attack.steps, stepSize: attack.stepSize, rng });
  }
}

/** Error of `model` on `data`, clean or under FGSM with ε — the early-stopping criterion. */
async function errorRate(model: Predictor, data: Dataset, adversarialEps: number | null): Promise<number> {
  const accumulator = new ClassificationAccumulator();
  const width = flatSize(data);
  const target = asAttackTarget(model);
  try {
    for (let start = 0; start < data.count; start += EVAL_BATCH) {
      const count = Math.min(EVAL_BATCH, data.count - start);
      tf.tidy(() => {
        const x = tf.tensor2d(data.images.subarray(start * width, (start + count) * width), [count, width]);
        const labels = tf.tensor1d(data.labels.subarray(start, start + count), 'int32');
        const input = adversarialEps === null ? x : fgsm(target, x, { eps: adversarialEps, labels });
        const scores = model.scores(input);
        accumulator.add(model.predict(scores), labels, model.confidence(scores));
      });
    }
    return (await accumulator.result()).error;
  } finally {
    accumulator.dispose();
  }
}

const runTrain: Handler = async (context, unit) => {
  const config = unit.config as TrainUnitConfig;
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
        context.progress({ type: 'epoch', key: unit.key, role: unit.role, seed: unit.seed, epoch: r.epoch, epochs: r.epochs, loss: r.meanLoss, examplesPerSecond: r.examplesPerSecond });
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

const runEvaluate: Handler = async (context, unit) => {
  const config = unit.config as EvaluateUnitConfig;
  const data = unitData(context, config.dataset, config.split);
  const sameModel = config.source.join() === config.target.join();
  const source = await loadPredictor(context, config.source);
  const target = sameModel ? source : await loadPredictor(context, config.target);
  const rng = Rng.fromSeed(config.seed).fork('attack');
  const clean = new ClassificationAccumulator();
  const adversarial = new ClassificationAccumulator();
  const agreement = new AgreementAccumulator();
  const sourceTarget = asAttackTarget(source.predictor);
  const width = flatSize(data);
  try {
    for (let start = 0; start < data.count; start += EVAL_BATCH) {
      const count = Math.min(EVAL_BATCH, data.count - start);
      tf.tidy(() => {
        const x = tf.tensor2d(data.images.subarray(start * width, (start + count) * width), [count, width]);
        const labels = tf.tensor1d(data.labels.subarray(start, start + count), 'int32');
        const model = target.predictor;
        const scores = model.scores(x);
        clean.add(model.predict(scores), labels, model.confidence(scores));
        if (!config.attack) return;
        // The paper's FGSM uses the true label y in J(θ, x, y).
        const xAdv = craft(sourceTarget, x, labels, config.attack, rng);
        const advScores = model.scores(xAdv);
        const targetPred = model.predict(advScores);
        adversarial.add(targetPred, labels, model.confidence(advScores));
        const sourcePred = sameModel ? targetPred : source.predictor.predict(source.predictor.scores(xAdv));
        agreement.add(labels, sourcePred, targetPred);
      });
    }
    const c = await clean.result();
    const metrics: Metrics = { clean_error: c.error, clean_confidence: c.confidence, count: c.count };
    if (config.attack) {
      const a = await adversarial.result();
      const g = await agreement.result();
      Object.assign(metrics, {
        adv_error: a.error,
        adv_confidence: a.confidence,
        adv_confidence_on_errors: a.confidenceOnErrors,
        source_adv_error: g.sourceError,
        agreement: g.agreement,
        agreement_both_wrong: g.agreementBothWrong,
      });
    }
    return { metrics };
  } finally {
    clean.dispose();
    adversarial.dispose();
    agreement.dispose();
    source.dispose();
    if (!sameModel) target.dispose();
  }
};

/** Runs `analyse` on a unit's model (or ensemble) and the test split it names, then releases the model. */
async function withModelAndTestData<T>(
  context: WorkerContext,
  dataset: DatasetRef,
  model: string[],
  analyse: (predictor: Predictor, data: Dataset, width: number) => Promise<T>,
): Promise<T> {
  const data = unitData(context, dataset, 'test');
  const { predictor, dispose } = await loadPredictor(context, model);
  try {
    return await analyse(predictor, data, flatSize(data));
  } finally {
    dispose();
  }
}

/** Rounds for artifacts: figures need 4 digits, and result.json stays small. */
const rounded = (values: ArrayLike<number>) => Array.from(values, (v) => Math.round(v * 1e4) / 1e4);

const runExamples: Handler = async (context, unit) => {
  const config = unit.config as ExamplesUnitConfig;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const n = Math.min(config.count, data.count);
    const tensors = tf.tidy(() => {
      const target = asAttackTarget(predictor);
      const x = tf.tensor2d(data.images.subarray(0, n * width), [n, width]);
      const labels = tf.tensor1d(data.labels.subarray(0, n), 'int32');
      const gradientSign = exactSign(lossGradient(target, x, predictor.targets(labels), false));
      const xAdv = craft(target, x, labels, config.attack, Rng.fromSeed(config.seed).fork('attack'));
      const scores = predictor.scores(x);
      const advScores = predictor.scores(xAdv);
      return [x, gradientSign, xAdv, predictor.predict(scores), predictor.confidence(scores), predictor.predict(advScores), predictor.confidence(advScores)];
    });
    const [clean, gradientSign, adversarial, cleanPrediction, cleanConfidence, adversarialPrediction, adversarialConfidence] = await Promise.all(tensors.map((t) => t.data()));
    tf.dispose(tensors);
    const rows = (values: ArrayLike<number>) => Array.from({ length: n }, (_, i) => rounded(Array.prototype.slice.call(values, i * width, (i + 1) * width)));
    const artifacts: ExamplesArtifacts = {
      shape: data.shape,
      eps: config.attack.eps,
      classNames: config.dataset.classes ? config.dataset.classes.map(String) : data.classNames,
      labels: Array.from(data.labels.subarray(0, n)),
      clean: rows(clean),
      gradientSign: rows(gradientSign),
      adversarial: rows(adversarial),
      cleanPrediction: Array.from(cleanPrediction),
      cleanConfidence: rounded(cleanConfidence),
      adversarialPrediction: Array.from(adversarialPrediction),
      adversarialConfidence: rounded(adversarialConfidence),
    };
    if (config.weights && predictor instanceof Classifier) artifacts.weights = await firstLayerFilters(predictor, FIG3_UNITS);
    return { metrics: { count: n }, artifacts };
  });
};

/** Fig. 3 shows the first few units of the first layer, each as its row of pieces. */
const FIG3_UNITS = 8;

async function firstLayerFilters(model: Classifier, units: number): Promise<{ images: number[][]; pieces: number }> {
  const pieces = model.spec.hidden[0]?.pieces ?? 1;
  const weights = model.firstLayerWeights;
  const columns = Math.min(weights.shape[1], units * pieces);
  const filters = tf.tidy(() => tf.transpose(tf.slice(weights, [0, 0], [-1, columns])));
  const values = (await filters.array()) as number[][];
  filters.dispose();
  return { images: values.map(rounded), pieces };
}

const runRubbish: Handler = async (context, unit) => {
  const config = unit.config as RubbishUnitConfig;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const numClasses = data.numClasses;
    const samples = rubbishExamples(Rng.fromSeed(config.seed).fork('rubbish'), config.count, width);
    // A model trained with an extra "none" output (App. A) may call rubbish "none"; only real classes count as errors.
    const hasNoneClass = predictor.outputs === numClasses + 1;
    const probabilities = tf.tidy(() => {
      let x = tf.tensor2d(samples, [config.count, width]);
      if (config.attack) {
        // FGSM on rubbish pushes it away from "none" (or from whatever the model calls it); inputs are not images, so no clipping.
        const labels = hasNoneClass ? tf.fill([config.count], numClasses, 'int32') as tf.Tensor1D : undefined;
        x = fgsm(asAttackTarget(predictor), x, { eps: config.attack.eps, labels, clipMin: -Infinity, clipMax: Infinity });
      }
      const p = predictor.probabilities(predictor.scores(x));
      return hasNoneClass ? (tf.slice(p, [0, 0], [-1, numClasses]) as tf.Tensor2D) : p;
    });
    const stats = await rubbishStats(probabilities);
    probabilities.dispose();
    const falsePositives = stats.classHistogram.reduce((a, b) => a + b, 0);
    const artifacts: RubbishArtifacts = { classHistogram: stats.classHistogram };
    return {
      metrics: {
        false_positive_rate: stats.falsePositiveRate,
        confidence_on_false_positives: Number.isFinite(stats.meanConfidenceOnFalsePositives) ? stats.meanConfidenceOnFalsePositives : null,
        fraction_class_5: falsePositives ? stats.classHistogram[5] / falsePositives : null,
        fraction_class_8: falsePositives ? stats.classHistogram[8] / falsePositives : null,
        count: config.count,
      },
      artifacts,
    };
  });
};

const runLinearity: Handler = async (context, unit) => {
  const config = unit.config as LinearityUnitConfig;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const x = data.images.slice(config.exampleIndex * width, (config.exampleIndex + 1) * width);
    const label = data.labels[config.exampleIndex];
    const sign = tf.tidy(() => {
      const input = tf.tensor2d(x, [1, width]);
      return exactSign(lossGradient(asAttackTarget(predictor), input, predictor.targets(tf.tensor1d([label], 'int32')), false));
    });
    const direction = (await sign.data()) as Float32Array;
    sign.dispose();
    const epsilons = Array.from({ length: config.points }, (_, i) => -config.epsMax + (2 * config.epsMax * i) / (config.points - 1));
    const logits = await logitsAlongDirection((input) => predictor.scores(input), x, direction, epsilons);
    const fits = logits[0].map((_, c) => piecewiseLinearFit(epsilons, logits.map((row) => row[c]), 3));
    const artifacts: LinearityArtifacts = { epsilons: rounded(epsilons), logits: logits.map(rounded), label };
    return {
      metrics: {
        piecewise_r2_mean: fits.reduce((a, f) => a + f.r2, 0) / fits.length,
        piecewise_r2_min: Math.min(...fits.map((f) => f.r2)),
        linear_r2_mean: fits.reduce((a, f) => a + f.r2Line, 0) / fits.length,
      },
      artifacts,
    };
  });
};

const runFooling: Handler = async (context, unit) => {
  const config = unit.config as FoolingUnitConfig;
  return withModelAndTestData(context, config.dataset, config.model, async (predictor, data, width) => {
    const classes = Array.from({ length: data.numClasses }, (_, i) => i);
    const result = await foolingRun(predictor, Rng.fromSeed(config.seed).fork('fooling'), { classes, samplesPerClass: config.samplesPerClass, eps: config.eps, maxSteps: config.maxSteps, inputSize: width });
    const success = result.successRateByClass;
    const perStep = result.perStepSuccessRateByClass;
    const artifacts: FoolingArtifacts = {
      shape: data.shape,
      examples: classes.map((c) => rounded(result.examples.subarray(c * width, (c + 1) * width))),
      successByClass: success,
    };
    return {
      metrics: {
        success_mean: success.reduce((a, b) => a + b, 0) / success.length,
        success_min: Math.min(...success),
        // The paper's CIFAR-10 numbers are per step: the chance that one step from fresh noise succeeds.
        per_step_success_mean: perStep.reduce((a, b) => a + b, 0) / perStep.length,
        per_step_success_min: Math.min(...perStep),
        ...Object.fromEntries(success.map((s, c) => [`success_class_${c}`, s])),
      },
      artifacts,
    };
  });
};

// Every unit kind has exactly one handler; a new kind without one is a type error.
const HANDLERS: Record<Unit['config']['kind'], Handler> = {
  train: runTrain,
  evaluate: runEvaluate,
  examples: runExamples,
  rubbish: runRubbish,
  linearity: runLinearity,
  fooling: runFooling,
};

export async function runUnit(context: WorkerContext, unit: Unit): Promise<UnitOutput> {
  const handler = HANDLERS[unit.config.kind];
  const started = performance.now();
  const before = tf.memory().numTensors;
  const output = await handler(context, unit);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`unit ${unit.key} (${unit.role}) leaked ${leaked} tensors`);
  return { ...output, backend: context.backend, computeSeconds: (performance.now() - started) / 1000 };
}
