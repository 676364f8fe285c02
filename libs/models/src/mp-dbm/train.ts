import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@advx/data';
import { ownedVariable } from '../classifier.js';
import { improvesOn, patienceExhausted, type EarlyStoppingRule, type EpochRecord } from '../protocol.js';
import { momentumAt } from '../schedule.js';
import { DeviceData, errorRate, minibatchEpoch, momentumUpdate, scaledGradients, type TrainData } from '../train.js';
import { readWeights, withFloatArrays, writeWeights } from '../snapshot.js';
import { inpaint, multiPredictionCost } from './mean-field.js';
import type { MpDbm } from './model.js';
import { checkMpDbmTraining, linearDecayAt, type MpDbmTrainConfig } from './spec.js';

/** The random streams of an MP-DBM run, each its own so a checkpoint can save them. */
const STREAMS = ['shuffle', 'masks', 'binarize'] as const;
type StreamName = (typeof STREAMS)[number];

export interface MpDbmTrainerState {
  /** Epochs completed. */
  epoch: number;
  update: number;
  velocities: Float32Array[];
  streams: Record<StreamName, number[]>;
}

/** Cost of one minibatch's inpainting problem (pylearn2 MultiPrediction), for a step or a held-out measurement. Inside a tidy. */
export function mpBatchCost(model: MpDbm, x: tf.Tensor2D, labels: tf.Tensor1D, dropProbability: number, masks: Rng): tf.Scalar {
  const [n, d] = x.shape;
  // MaskGen(balance 0): every pixel and every label independently a target with probability p (1 = hidden).
  const visibleDrop = tf.tensor2d(masks.fillDropoutMask(new Float32Array(n * d), dropProbability, 1), [n, d]);
  const labelDrop = tf.tensor2d(masks.fillDropoutMask(new Float32Array(n), dropProbability, 1), [n, 1]);
  const y = model.targets(labels);
  return multiPredictionCost(inpaint(model.params, x, visibleDrop, y, labelDrop, model.spec.iterations), x, visibleDrop, y, labelDrop);
}

/**
 * Multi-prediction training (Goodfellow et al. 2013; pylearn2 `MultiPrediction` under `SGD` with
 * `Momentum`): per minibatch, binarize the pixels, draw which pixels and labels to hide, run mean
 * field with the rest clamped and descend the cross-entropy of the hidden ones, backpropagating
 * through every unrolled iteration. v ← m v − lr ∇; θ ← θ + v; max column norms after each update.
 * One epoch at a time with its whole state saveable, as the classifier's Trainer.
 */
export class MpDbmTrainer {
  private readonly velocities: tf.Variable[];
  private streams: Record<StreamName, Rng>;
  epoch = 0;
  update = 0;

  constructor(
    private readonly model: MpDbm,
    private readonly data: DeviceData,
    private readonly config: MpDbmTrainConfig,
    rng: Rng,
  ) {
    checkMpDbmTraining(config);
    this.velocities = model.variables.map((v) => ownedVariable(() => tf.zerosLike(v)));
    this.streams = Object.fromEntries(STREAMS.map((name) => [name, rng.fork(name)])) as Record<StreamName, Rng>;
  }

  /** The next epoch's learning rate and momentum (pylearn2 sets both once per epoch). */
  get learningRate(): number {
    return linearDecayAt(this.config.learningRate, this.epoch + 1);
  }

  get momentum(): number {
    return momentumAt(this.config.momentum, this.epoch + 1);
  }

  private binarized(raw: tf.Tensor2D): tf.Tensor2D {
    switch (this.config.binarize) {
      case 'none':
        return raw;
      case 'threshold':
        return tf.cast(tf.greater(raw, 0.5), 'float32') as tf.Tensor2D;
      case 'stochastic': {
        const u = tf.tensor2d(this.streams.binarize.fillUniform(new Float32Array(raw.size)), raw.shape);
        return tf.cast(tf.less(u, raw), 'float32') as tf.Tensor2D;
      }
    }
  }

  /** One epoch over the data; the mean minibatch cost is read back once, at the end. */
  async runEpoch(): Promise<{ meanLoss: number; examplesPerSecond: number; learningRate: number; momentum: number }> {
    const { model, data, config } = this;
    const started = performance.now();
    const learningRate = this.learningRate;
    const momentum = this.momentum;
    const variables = model.variables;
    const meanLoss = await minibatchEpoch(
      data,
      this.streams.shuffle.permutation(data.count),
      config.batchSize,
      ({ x, labels }) => {
        // ∇ of lr·J: the update needs no separate multiply by lr.
        const { value, grads } = scaledGradients(() => mpBatchCost(model, this.binarized(x), labels, config.dropProbability, this.streams.masks), learningRate, variables);
        // A parameter the cost does not reach (e.g. no iteration reads it) has no gradient and stays.
        momentumUpdate(variables, this.velocities, grads, momentum);
        return value;
      },
      () => {
        model.applyConstraints();
        this.update++;
      },
    );
    this.epoch++;
    if (!Number.isFinite(meanLoss)) throw new Error(`mp-dbm training diverged at epoch ${this.epoch} (cost ${meanLoss})`);
    return { meanLoss, examplesPerSecond: data.count / ((performance.now() - started) / 1000), learningRate, momentum };
  }

  async state(): Promise<MpDbmTrainerState> {
    return {
      epoch: this.epoch,
      update: this.update,
      velocities: await Promise.all(this.velocities.map(async (v) => new Float32Array(await v.data()))),
      streams: Object.fromEntries(STREAMS.map((name) => [name, this.streams[name].state()])) as Record<StreamName, number[]>,
    };
  }

  restore(state: MpDbmTrainerState): void {
    if (state.velocities.length !== this.velocities.length) throw new Error(`checkpoint has ${state.velocities.length} velocities, the model ${this.velocities.length}`);
    this.epoch = state.epoch;
    this.update = state.update;
    tf.tidy(() => this.velocities.forEach((v, i) => v.assign(tf.tensor(state.velocities[i], v.shape))));
    this.streams = Object.fromEntries(STREAMS.map((name) => [name, Rng.fromState(state.streams[name])])) as Record<StreamName, Rng>;
  }

  dispose(): void {
    for (const v of this.velocities) v.dispose();
  }
}

/** Everything an MP-DBM run needs to continue exactly where it stopped. */
export interface MpDbmCheckpoint {
  kind: 'mp-dbm';
  weights: Float32Array[];
  trainer: MpDbmTrainerState;
  best: { epoch: number; error: number; weights: Float32Array[] } | null;
  history: EpochRecord[];
}

/** A decoded checkpoint (msgpack hands Float32Arrays back as bytes), checked, its arrays restored. */
export function mpDbmCheckpointFromDecoded(value: unknown): MpDbmCheckpoint {
  const c = value as MpDbmCheckpoint;
  if (!c || c.kind !== 'mp-dbm' || !Array.isArray(c.weights) || !c.trainer || !Array.isArray(c.history)) throw new Error('not an mp-dbm training checkpoint (kind, weights, trainer or history missing)');
  return withFloatArrays(c);
}

export interface MpDbmOutcome {
  history: EpochRecord[];
  bestEpoch: number | null;
  bestValidationError: number | null;
}

export interface MpDbmHooks {
  onEpoch?: (record: EpochRecord, bestEpoch: number | null) => void;
  /** Asked after every epoch; when due, `save` gets the whole state (write it atomically). */
  checkpoint?: { due: () => boolean; save: (checkpoint: MpDbmCheckpoint) => Promise<void> };
  resume?: MpDbmCheckpoint | null;
}

/**
 * mpdbm.yaml's run: train until `earlyStopping.patience` epochs pass without a strictly lower
 * validation error (MonitorBased on raw_valid_err, N = 100, prop_decrease 0) or `epochs` is reached,
 * and keep the best epoch's weights (MonitorBasedSaveBest). The validation error is the classifier's
 * (label unobserved, raw pixels). Without a rule (or validation data), the last epoch's weights are kept.
 */
export async function fitMpDbm(
  model: MpDbm,
  data: { train: TrainData; validation: TrainData | null },
  config: { training: MpDbmTrainConfig; earlyStopping: EarlyStoppingRule | null },
  rng: Rng,
  hooks: MpDbmHooks = {},
): Promise<MpDbmOutcome> {
  const { training, earlyStopping } = config;
  checkMpDbmTraining(training);
  if (earlyStopping && !data.validation) throw new Error('mp-dbm early stopping needs validation data');
  if (earlyStopping?.adversarialEps) throw new Error('mp-dbm early stopping selects on the clean validation error (adversarialEps must be null)');
  const resume = hooks.resume ?? null;
  const history: EpochRecord[] = resume ? [...resume.history] : [];
  let best = resume?.best ?? null;
  if (resume) writeWeights(model, resume.weights);
  const train = new DeviceData(data.train, model.inputSize);
  const validation = earlyStopping && data.validation ? new DeviceData(data.validation, model.inputSize) : null;
  const trainer = new MpDbmTrainer(model, train, training, rng);
  try {
    if (resume) trainer.restore(resume.trainer);
    while (trainer.epoch < training.epochs) {
      const report = await trainer.runEpoch();
      let error: number | null = null;
      if (validation) {
        error = await errorRate(model, validation);
        if (improvesOn(best, error)) best = { epoch: trainer.epoch, error, weights: await readWeights(model) };
      }
      const record: EpochRecord = { stage: 1, epoch: trainer.epoch, trainLoss: report.meanLoss, learningRate: report.learningRate, momentum: report.momentum, validationError: error, validationObjective: null, examplesPerSecond: report.examplesPerSecond, monitor: null };
      history.push(record);
      hooks.onEpoch?.(record, best?.epoch ?? null);
      if (patienceExhausted(earlyStopping, trainer.epoch, best)) break;
      if (trainer.epoch < training.epochs && hooks.checkpoint?.due()) {
        await hooks.checkpoint.save({ kind: 'mp-dbm', weights: await readWeights(model), trainer: await trainer.state(), best, history });
      }
    }
    if (best) writeWeights(model, best.weights);
    return { history, bestEpoch: best?.epoch ?? null, bestValidationError: best?.error ?? null };
  } finally {
    trainer.dispose();
    train.dispose();
    validation?.dispose();
  }
}
