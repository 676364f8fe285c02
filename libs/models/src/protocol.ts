import { Rng } from '@advx/data';
import type { Classifier } from './classifier.js';
import { checkMonitor, type MonitorReading } from './monitor.js';
import { momentumAt } from './schedule.js';
import { readWeights, withFloatArrays, writeWeights } from './snapshot.js';
import { DeviceData, Trainer, errorRate, objectiveValue, type EpochReport, type TrainConfig, type TrainData, type TrainerState } from './train.js';

/**
 * The paper's training protocol for its MNIST maxout nets (pylearn2 mnist_pi.yaml, then
 * mnist_pi_continued.yaml):
 *  1. train on the 50,000 training examples, monitoring the validation misclassification after every
 *     epoch; stop after `patience` epochs without a strict improvement (MonitorBased, N = 100,
 *     prop_decrease 0) and keep the best epoch's weights (MonitorBasedSaveBest);
 *  2. (`continuation`) from the best weights, with fresh velocities, the learning rate at its
 *     best-epoch value still decaying per update, and the momentum frozen at its best-epoch value,
 *     train on all 60,000 until the objective on the validation examples (now trained on) falls to
 *     the stage-1 training objective at the best epoch (MatchChannel, checked before the first
 *     epoch too), or until `maxEpochs`.
 * Both objectives are the stochastic training cost (dropout masks drawn afresh), as pylearn2's
 * monitor computes them.
 */
export interface EarlyStoppingRule {
  /** Epochs without a strict improvement before stage 1 stops. */
  patience: number;
  /** Select on validation error under FGSM with this ε (§6's criterion for P7), or clean error when null. */
  adversarialEps: number | null;
}

/** MonitorBased with prop_decrease 0: an epoch is better only when its error is strictly lower (the first always is). */
export const improvesOn = (best: { error: number } | null, error: number): boolean => best === null || error < best.error;

/** MonitorBased's termination: `patience` epochs have passed since the best one. */
export const patienceExhausted = (rule: EarlyStoppingRule | null, epoch: number, best: { epoch: number } | null): boolean => !!rule && !!best && epoch - best.epoch >= rule.patience;

export interface Continuation {
  /** Cap on stage 2's epochs (MatchChannel usually ends it sooner); the outcome says which ended it. */
  maxEpochs: number;
}

export interface ProtocolConfig {
  /** Stage 1's schedule; `training.epochs` caps stage 1. */
  training: TrainConfig;
  earlyStopping: EarlyStoppingRule | null;
  /** Requires early stopping (its best epoch and target). */
  continuation: Continuation | null;
}

export interface ProtocolData {
  train: TrainData;
  /** Monitored in both stages; required by early stopping. */
  validation: TrainData | null;
}

/** One epoch of either stage, for learning curves and the progress line. */
export interface EpochRecord {
  stage: 1 | 2;
  /** 1-based within its stage. */
  epoch: number;
  trainLoss: number;
  learningRate: number;
  momentum: number;
  validationError: number | null;
  /** Stage 2: the MatchChannel channel. */
  validationObjective: number | null;
  examplesPerSecond: number;
  /** The catastrophic-overfitting monitor's reading (TrainConfig.monitor), null without one. */
  monitor: MonitorReading | null;
}

/** One monitored epoch of a history, numbered over both stages. */
export interface MonitorPoint {
  /** 1-based over the whole run: stage 1's epochs, then stage 2's (the learning curves' step). */
  epoch: number;
  stage: 1 | 2;
  /** 1-based within its stage (EpochRecord.epoch). */
  stageEpoch: number;
  cleanAccuracy: number;
  pgdAccuracy: number;
}

/**
 * The PGD monitor's readings of a run, in order, epochs numbered over both stages (stage 2 restarts
 * EpochRecord.epoch at 1): what a catastrophic-overfitting check reads. Empty without a monitor,
 * and for histories written before it existed (no `monitor` field).
 */
export function monitorSeries(history: readonly (Pick<EpochRecord, 'stage' | 'epoch'> & Partial<Pick<EpochRecord, 'monitor'>>)[]): MonitorPoint[] {
  return history.flatMap((r, i) => (r.monitor ? [{ epoch: i + 1, stage: r.stage, stageEpoch: r.epoch, cleanAccuracy: r.monitor.cleanAccuracy, pgdAccuracy: r.monitor.pgdAccuracy }] : []));
}

interface Best {
  epoch: number;
  /** Updates done after the best epoch (stage 2's learning-rate clock starts here). */
  update: number;
  error: number;
  /** Stage-1 training objective at the best epoch: stage 2's target (set when stage 1 ends). */
  trainObjective: number | null;
  weights: Float32Array[];
}

/** All of a protocol run's state between two epochs: a resumed run continues bit for bit. */
export interface ProtocolCheckpoint {
  stage: 1 | 2;
  weights: Float32Array[];
  trainer: TrainerState;
  monitorStream: number[];
  best: Best | null;
  history: EpochRecord[];
  /** Stage 2: the validation objective after the last epoch (recomputing it would draw new masks). */
  stage2Objective: number | null;
}

export interface ProtocolOutcome {
  history: EpochRecord[];
  stage1Epochs: number;
  bestEpoch: number | null;
  bestValidationError: number | null;
  stage2Epochs: number | null;
  /** Stage 2's target (stage-1 training objective at the best epoch) and its last validation objective. */
  stage2Target: number | null;
  stage2FinalObjective: number | null;
  /** What ended stage 2: the objective matched, or the cap. */
  stage2Stop: 'matched' | 'cap' | null;
}

export interface ProtocolHooks {
  onEpoch?: (record: EpochRecord, bestEpoch: number | null) => void;
  /** Asked after every epoch; when it says so, `save` gets the state (write it atomically). */
  checkpoint?: { due: () => boolean; save: (checkpoint: ProtocolCheckpoint) => Promise<void> };
  resume?: ProtocolCheckpoint | null;
}

/**
 * A checkpoint as a codec decoded it, checked and with its float arrays restored: msgpack (as the
 * coordinator stores it) returns Float32Arrays as their bytes.
 */
export function checkpointFromDecoded(value: unknown): ProtocolCheckpoint {
  const c = value as ProtocolCheckpoint;
  if (!c || (c.stage !== 1 && c.stage !== 2) || !Array.isArray(c.weights) || !c.trainer || !Array.isArray(c.history)) throw new Error('not a training checkpoint (stage, weights, trainer or history missing)');
  return withFloatArrays(c);
}

/** `a` followed by `b` (any other fields are `a`'s): stage 2's 60,000 from the 50,000 and the validation 10,000. */
export function concatData<T extends TrainData>(a: T, b: TrainData): T {
  const images = new Float32Array(a.images.length + b.images.length);
  images.set(a.images);
  images.set(b.images, a.images.length);
  const labels = new Uint8Array(a.count + b.count);
  labels.set(a.labels);
  labels.set(b.labels, a.count);
  return { ...a, images, labels, count: a.count + b.count };
}

export async function fitProtocol(model: Classifier, data: ProtocolData, config: ProtocolConfig, rng: Rng, hooks: ProtocolHooks = {}): Promise<ProtocolOutcome> {
  const { earlyStopping, continuation, training } = config;
  if (continuation && !earlyStopping) throw new Error('the continued stage needs early stopping (its best epoch and target)');
  if (earlyStopping && !data.validation) throw new Error('early stopping needs validation data');
  if (training.monitor) checkMonitor(training.monitor);
  const resume = hooks.resume ?? null;
  const history: EpochRecord[] = resume ? [...resume.history] : [];
  let best: Best | null = resume?.best ?? null;
  const monitorRng = resume ? Rng.fromState(resume.monitorStream) : rng.fork('monitor');
  const validation = data.validation ? new DeviceData(data.validation, model.inputSize) : null;
  if (resume) writeWeights(model, resume.weights);

  const save = async (stage: 1 | 2, trainer: Trainer, stage2Objective: number | null = null) => {
    if (!hooks.checkpoint?.due()) return;
    await hooks.checkpoint.save({ stage, weights: await readWeights(model), trainer: await trainer.state(), monitorStream: monitorRng.state(), best, history, stage2Objective });
  };
  const record = (stage: 1 | 2, report: EpochReport, validationError: number | null, validationObjective: number | null) => {
    const entry: EpochRecord = { stage, epoch: report.epoch, trainLoss: report.meanLoss, learningRate: report.learningRate, momentum: report.momentum, validationError, validationObjective, examplesPerSecond: report.examplesPerSecond, monitor: report.monitor };
    history.push(entry);
    hooks.onEpoch?.(entry, best?.epoch ?? null);
  };

  try {
    // Stage 1.
    if (!resume || resume.stage === 1) {
      const train = new DeviceData(data.train, model.inputSize);
      const trainer = new Trainer(model, train, training, rng);
      try {
        if (resume) trainer.restore(resume.trainer);
        while (trainer.epoch < training.epochs) {
          const report = await trainer.runEpoch();
          let error: number | null = null;
          if (earlyStopping && validation) {
            error = await errorRate(model, validation, earlyStopping.adversarialEps);
            if (improvesOn(best, error)) best = { epoch: report.epoch, update: trainer.update, error, trainObjective: null, weights: await readWeights(model) };
          }
          record(1, report, error, null);
          if (patienceExhausted(earlyStopping, report.epoch, best)) break;
          if (trainer.epoch < training.epochs) await save(1, trainer);
        }
        if (best) writeWeights(model, best.weights);
        // pylearn2 monitors the training objective after every epoch; only the best epoch's value is
        // used (stage 2's target), so it is computed once, on the best weights, when stage 1 ends.
        if (best && continuation) best.trainObjective = await objectiveValue(model, train, training, monitorRng);
      } finally {
        trainer.dispose();
        train.dispose();
      }
    }
    const stage1Epochs = history.filter((h) => h.stage === 1).length;
    const outcome: ProtocolOutcome = {
      history,
      stage1Epochs,
      bestEpoch: best?.epoch ?? null,
      bestValidationError: best?.error ?? null,
      stage2Epochs: null,
      stage2Target: null,
      stage2FinalObjective: null,
      stage2Stop: null,
    };
    if (!continuation || !best || !validation) return outcome;
    const target = best.trainObjective!;

    // Stage 2: pylearn2 starts a new SGD on the loaded best model (fresh velocities and iterator).
    const all = new DeviceData(concatData(data.train, data.validation!), model.inputSize);
    const stage2Rng = rng.fork('continuation');
    const trainer = new Trainer(model, all, { ...training, epochs: continuation.maxEpochs }, stage2Rng, {
      startUpdate: best.update,
      momentum: momentumAt(training.momentum, best.epoch),
    });
    try {
      let objective: number;
      if (resume?.stage === 2 && resume.stage2Objective !== null) {
        trainer.restore(resume.trainer);
        objective = resume.stage2Objective;
      } else {
        // Stage 1 has just ended on the best weights (it writes them back before computing the target).
        objective = await objectiveValue(model, validation, training, monitorRng);
      }
      while (objective > target && trainer.epoch < continuation.maxEpochs) {
        const report = await trainer.runEpoch();
        objective = await objectiveValue(model, validation, training, monitorRng);
        record(2, report, await errorRate(model, validation), objective);
        if (objective > target && trainer.epoch < continuation.maxEpochs) await save(2, trainer, objective);
      }
      return {
        ...outcome,
        stage2Epochs: trainer.epoch,
        stage2Target: target,
        stage2FinalObjective: objective,
        stage2Stop: objective <= target ? 'matched' : 'cap',
      };
    } finally {
      trainer.dispose();
      all.dispose();
    }
  } finally {
    validation?.dispose();
  }
}
