import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@advx/data';
import { clipToRange, fgsm, linfStep } from '@advx/attacks';
import { asAttackTarget } from './attack-target.js';
import { checkMonitor, readMonitor, type MonitorReading, type PgdMonitor } from './monitor.js';
import { ownedVariable, type Classifier, type DropoutMasks } from './classifier.js';
import { learningRateAt, momentumAt, type LearningRateSchedule, type MomentumSchedule } from './schedule.js';
import type { Predictor } from './ensemble.js';

/**
 * What each training step minimises. The paper's variants all live here so that a model trained
 * adversarially and its noise-trained controls differ only in this field of their config.
 * `clip` says whether the perturbed input is clipped to [0, 1]: the paper never says it clips, so
 * it is a stated choice of each config, not a hidden default.
 */
export type Objective =
  | { kind: 'clean' }
  /** J̃ = α J(x) + (1 − α) J(x + ε sign ∇ₓJ) (§6), the adversarial example crafted on the dropout net. */
  | { kind: 'adversarial'; alpha: number; eps: number; clip: boolean }
  /** Controls (§6): train on x + ε·(random ±1) or x + U(−ε, ε). */
  | { kind: 'noise'; distribution: 'sign' | 'uniform'; eps: number; clip: boolean };

export interface TrainConfig {
  /** Epoch cap of the run (early stopping, when the caller uses it, usually ends it sooner). */
  epochs: number;
  batchSize: number;
  /** Per-update schedule, by the absolute update count (schedule.ts). */
  learningRate: LearningRateSchedule;
  /** Per-epoch schedule, by the absolute 1-based epoch. */
  momentum: MomentumSchedule;
  objective: Objective;
  /**
   * Read after every epoch, never used by training (monitor.ts). Absent, not null, when off: an
   * absent field is not hashed into unit keys, so configs without a monitor keep theirs.
   */
  monitor?: PgdMonitor;
}

export interface TrainData {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  meanLoss: number;
  examplesPerSecond: number;
  learningRate: number;
  momentum: number;
  /** After the epoch, when the config has a monitor. */
  monitor: MonitorReading | null;
}

export interface TrainHooks {
  /** Called after each epoch; return `false` to stop early (early stopping lives with the caller). */
  onEpoch?: (report: EpochReport) => boolean | void | Promise<boolean | void>;
}

/** A data set uploaded once, sliced into batches on the device. */
export class DeviceData {
  readonly images: tf.Tensor2D;
  readonly labels: tf.Tensor1D;
  readonly count: number;

  constructor(data: TrainData, inputSize: number) {
    this.count = data.count;
    this.images = tf.tensor2d(data.images, [data.count, inputSize]);
    this.labels = tf.tensor1d(data.labels, 'int32');
  }

  dispose(): void {
    this.images.dispose();
    this.labels.dispose();
  }
}

/** The random streams a training run draws from, each its own, so their states can be saved. */
const STREAMS = ['shuffle', 'dropout', 'noise'] as const;
type StreamName = (typeof STREAMS)[number];

/** Everything a Trainer needs to continue exactly where it stopped (with the model's weights). */
export interface TrainerState {
  /** Epochs this trainer has completed. */
  epoch: number;
  /** Absolute update count (the learning rate's clock). */
  update: number;
  velocities: Float32Array[];
  streams: Record<StreamName, number[]>;
  /** The PGD monitor's random-start stream; present exactly when the config has a monitor. */
  pgdMonitorStream?: number[];
}

export interface TrainerOptions {
  /** Absolute update count of the first update (a continued run keeps the decay going). */
  startUpdate?: number;
  /** A fixed momentum instead of the schedule (pylearn2's continued stage sets it once). */
  momentum?: number;
}

/** Fresh dropout masks for one batch, drawn from our PRNG (tfjs' own dropout ignores seeds). */
export function dropoutMasks(model: Classifier, batch: number, rng: Rng): DropoutMasks {
  return model.dropoutWidths().map(({ width, keep, scale }) =>
    keep >= 1 ? tf.ones([batch, width]) : tf.tensor2d(rng.fillDropoutMask(new Float32Array(batch * width), keep, scale), [batch, width]),
  );
}

/**
 * The weighted inputs a step's cost is summed over. Perturbed inputs are computed here, before the
 * gradient tape opens, so they are constants of the step (no gradient flows through sign(∇ₓJ)).
 */
function objectiveInputs(model: Classifier, x: tf.Tensor2D, labels: tf.Tensor1D, masks: DropoutMasks, objective: Objective, rng: Rng): [tf.Tensor2D, number][] {
  switch (objective.kind) {
    case 'clean':
      return [[x, 1]];
    case 'adversarial': {
      const range = objective.clip ? {} : { clipMin: -Infinity, clipMax: Infinity };
      const xAdv = fgsm(asAttackTarget(model, masks), x, { eps: objective.eps, labels, ...range });
      return [
        [x, objective.alpha],
        [xAdv, 1 - objective.alpha],
      ];
    }
    case 'noise': {
      const { eps } = objective;
      const noise =
        objective.distribution === 'uniform'
          ? rng.fillUniform(new Float32Array(x.size), -eps, eps)
          : rng.fillUniform(new Float32Array(x.size)).map((u) => (u < 0.5 ? -eps : eps));
      const noisy = tf.add(x, tf.tensor2d(noise, x.shape)) as tf.Tensor2D;
      return [[objective.clip ? (tf.clipByValue(noisy, 0, 1) as tf.Tensor2D) : noisy, 1]];
    }
  }
}

/** The cost of one batch under `objective` (with the penalty), as differentiated by a step. */
function batchCost(model: Classifier, inputs: [tf.Tensor2D, number][], masks: DropoutMasks, targets: tf.Tensor2D): tf.Scalar {
  const terms = inputs.map(([input, weight]) => tf.mul(model.loss(model.scores(input, masks), targets), weight));
  const loss = tf.addN(terms) as tf.Scalar;
  return model.spec.firstLayerL1 > 0 ? tf.add(loss, tf.mul(tf.sum(tf.abs(model.firstLayerWeights)), model.spec.firstLayerL1)) : loss;
}

/** One minibatch of an epoch: slices of the epoch's shuffled images and labels, and of its targets when the trainer made them. */
export interface Minibatch {
  x: tf.Tensor2D;
  labels: tf.Tensor1D;
  targets: tf.Tensor2D | null;
  size: number;
}

/**
 * One epoch of minibatch SGD, the loop both trainers (classifier and MP-DBM) share: the data
 * gathered once in `order`, each batch's `step` (its gradients and update) inside a tidy on its
 * slices, `afterStep` outside it (max-norm constraints, the update counter), the batch costs summed
 * on the device and read back once, at the end: no sync per batch. `epochTargets` makes per-epoch
 * tensors from the shuffled labels (the classifier's one-hots: one slice per batch, not three ops).
 * Returns the mean batch cost.
 */
export async function minibatchEpoch(data: DeviceData, order: Int32Array, batchSize: number, step: (batch: Minibatch) => tf.Scalar, afterStep: () => void, epochTargets?: (labels: tf.Tensor1D) => tf.Tensor2D): Promise<number> {
  const orderTensor = tf.tensor1d(order, 'int32');
  const images = tf.gather(data.images, orderTensor);
  const labels = tf.gather(data.labels, orderTensor);
  const targets = epochTargets ? epochTargets(labels) : null;
  orderTensor.dispose();
  let lossSum = tf.scalar(0);
  let batches = 0;
  try {
    for (let start = 0; start < data.count; start += batchSize) {
      const size = Math.min(batchSize, data.count - start);
      const batchLoss = tf.tidy(() =>
        step({
          x: tf.slice(images, [start, 0], [size, -1]) as tf.Tensor2D,
          labels: tf.slice(labels, [start], [size]) as tf.Tensor1D,
          targets: targets ? (tf.slice(targets, [start, 0], [size, -1]) as tf.Tensor2D) : null,
          size,
        }),
      );
      afterStep();
      const next = tf.add(lossSum, batchLoss) as tf.Scalar;
      lossSum.dispose();
      batchLoss.dispose();
      lossSum = next;
      batches++;
    }
  } finally {
    images.dispose();
    labels.dispose();
    targets?.dispose();
  }
  const meanLoss = (await lossSum.data())[0] / batches;
  lossSum.dispose();
  return meanLoss;
}

/**
 * ∇ of lr·f() (the update −lr·∇f the momentum step needs, with no pass over the weights to
 * multiply by lr: the backward pass starts from lr instead of 1) and f() itself, unscaled, for the
 * loss the epoch reports. That value is kept (tf.keep): the caller disposes it.
 */
export function scaledGradients(f: () => tf.Scalar, learningRate: number, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  let value: tf.Scalar | null = null;
  const { value: scaled, grads } = tf.variableGrads(() => {
    value = tf.keep(f());
    return tf.mul(value, learningRate) as tf.Scalar;
  }, variables);
  scaled.dispose();
  return { value: value!, grads };
}

/**
 * ∇θ of J̃ = α J(x) + (1 − α) J(x + ε sign ∇ₓJ(x)) (+ the penalty) in two passes instead of three:
 * the backward pass of the clean term yields ∇ₓ (of α J, the same sign for α > 0) beside ∇θ, so
 * the adversarial input needs no pass of its own (objectiveInputs' FGSM is a forward and backward
 * on x before the two terms' own). A third less work per adversarial step; a test checks it equals
 * the three-pass step to rounding.
 */
function adversarialStepGradients(
  model: Classifier,
  x: tf.Tensor2D,
  masks: DropoutMasks,
  targets: tf.Tensor2D,
  objective: Extract<Objective, { kind: 'adversarial' }>,
  learningRate: number,
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const variables = model.variables;
  const input = tf.variable(x, true);
  try {
    // ∇ₓ of lr·α·J has the sign of ∇ₓJ (lr, α > 0), so the FGSM step is the same.
    const clean = scaledGradients(() => batchCost(model, [[input, objective.alpha]], masks, targets), learningRate, [...variables, input]);
    const step = linfStep(clean.grads[input.name] as tf.Tensor2D, objective.eps);
    const xAdv = objective.clip ? clipToRange(tf.add(x, step), 0, 1) : (tf.add(x, step) as tf.Tensor2D);
    const adversarial = scaledGradients(() => tf.mul(model.loss(model.scores(xAdv, masks), targets), 1 - objective.alpha) as tf.Scalar, learningRate, variables);
    const grads = Object.fromEntries(variables.map((v) => [v.name, tf.add(clean.grads[v.name], adversarial.grads[v.name])]));
    const value = tf.add(clean.value, adversarial.value) as tf.Scalar;
    // Kept (scaledGradients), so no enclosing tidy releases them.
    clean.value.dispose();
    adversarial.value.dispose();
    return { value, grads };
  } finally {
    input.dispose();
  }
}

/**
 * pylearn2's Momentum with the learning rate already in the gradients (scaledGradients):
 * v ← m v − g; θ ← θ + v. A parameter without a gradient (one the cost does not reach) keeps its
 * value and velocity. Runs inside the caller's tidy.
 */
export function momentumUpdate(variables: tf.Variable[], velocities: tf.Variable[], grads: tf.NamedTensorMap, momentum: number): void {
  variables.forEach((v, i) => {
    const g = grads[v.name];
    if (!g) return;
    const velocity = velocities[i];
    velocity.assign(tf.sub(tf.mul(velocity, momentum), g));
    v.assign(tf.add(v, velocity));
  });
}

/**
 * Minibatch SGD with momentum (v ← m v − lr g; θ ← θ + v, pylearn2's Momentum), max-norm after
 * every step, optional first-layer L1. One epoch at a time, so a caller can monitor, stop,
 * checkpoint and resume between epochs; its whole state is `state()`. The hot loop creates only
 * the per-batch dropout masks and reads nothing back until the epoch ends.
 */
export class Trainer {
  private readonly velocities: tf.Variable[];
  private readonly streams: Record<StreamName, Rng>;
  /**
   * Not one of STREAMS: a run with a monitor and one without draw the same training numbers, and
   * checkpoints of runs without one stay as they were.
   */
  private monitorRng: Rng | null;
  epoch = 0;
  update: number;

  constructor(
    private readonly model: Classifier,
    private readonly data: DeviceData,
    private readonly config: TrainConfig,
    rng: Rng,
    private readonly options: TrainerOptions = {},
  ) {
    // Before anything is allocated, so a bad config leaks nothing.
    if (config.monitor) checkMonitor(config.monitor);
    this.update = options.startUpdate ?? 0;
    this.velocities = model.variables.map((v) => ownedVariable(() => tf.zerosLike(v)));
    this.streams = Object.fromEntries(STREAMS.map((name) => [name, rng.fork(name)])) as Record<StreamName, Rng>;
    // fork leaves `rng` as it was, so this draws nothing from the training streams.
    this.monitorRng = config.monitor ? rng.fork('pgd-monitor') : null;
  }

  /** Momentum of the next epoch (1-based absolute epoch this.epoch + 1). */
  get momentum(): number {
    return this.options.momentum ?? momentumAt(this.config.momentum, this.epoch + 1);
  }

  get learningRate(): number {
    return learningRateAt(this.config.learningRate, this.update);
  }

  async runEpoch(): Promise<EpochReport> {
    const { model, data, config } = this;
    const started = performance.now();
    const momentum = this.momentum;
    const firstLearningRate = this.learningRate;
    const variables = model.variables;
    const meanLoss = await minibatchEpoch(
      data,
      this.streams.shuffle.permutation(data.count),
      config.batchSize,
      ({ x, labels, targets, size }) => {
        const masks = dropoutMasks(model, size, this.streams.dropout);
        // grads are of lr·J̃ (scaledGradients): v ← m v − lr ∇J̃ is one multiply and one subtract.
        const { value, grads } =
          config.objective.kind === 'adversarial' && config.objective.alpha > 0
            ? adversarialStepGradients(model, x, masks, targets!, config.objective, this.learningRate)
            : scaledGradients(() => batchCost(model, objectiveInputs(model, x, labels, masks, config.objective, this.streams.noise), masks, targets!), this.learningRate, variables);
        momentumUpdate(variables, this.velocities, grads, momentum);
        return value;
      },
      () => {
        model.applyConstraints();
        this.update++;
      },
      (labels) => model.targets(labels),
    );
    this.epoch++;
    if (!Number.isFinite(meanLoss)) throw new Error(`training diverged at epoch ${this.epoch} (loss ${meanLoss})`);
    // The speed is training's own: the monitor's time is not in it.
    const seconds = (performance.now() - started) / 1000;
    const monitor = config.monitor ? await readMonitor(model, data.images, data.labels, config.monitor, this.monitorRng!) : null;
    return { epoch: this.epoch, epochs: config.epochs, meanLoss, examplesPerSecond: data.count / seconds, learningRate: firstLearningRate, momentum, monitor };
  }

  async state(): Promise<TrainerState> {
    return {
      epoch: this.epoch,
      update: this.update,
      velocities: await Promise.all(this.velocities.map(async (v) => new Float32Array(await v.data()))),
      streams: Object.fromEntries(STREAMS.map((name) => [name, this.streams[name].state()])) as Record<StreamName, number[]>,
      ...(this.monitorRng ? { pgdMonitorStream: this.monitorRng.state() } : {}),
    };
  }

  restore(state: TrainerState): void {
    if (state.velocities.length !== this.velocities.length) throw new Error(`checkpoint has ${state.velocities.length} velocities, the model ${this.velocities.length}`);
    this.epoch = state.epoch;
    this.update = state.update;
    tf.tidy(() => this.velocities.forEach((v, i) => v.assign(tf.tensor(state.velocities[i], v.shape))));
    for (const name of STREAMS) this.streams[name] = Rng.fromState(state.streams[name]);
    if (this.monitorRng) {
      if (!state.pgdMonitorStream) throw new Error('checkpoint has no PGD-monitor stream, but the config has a monitor');
      this.monitorRng = Rng.fromState(state.pgdMonitorStream);
    }
  }

  dispose(): void {
    for (const v of this.velocities) v.dispose();
  }
}

/** Trains for `config.epochs` epochs (fewer if `onEpoch` returns false), with the schedules from update 0. */
export async function train(model: Classifier, data: TrainData, config: TrainConfig, rng: Rng, hooks: TrainHooks = {}): Promise<EpochReport[]> {
  if (config.monitor) checkMonitor(config.monitor);
  const device = new DeviceData(data, model.inputSize);
  const trainer = new Trainer(model, device, config, rng);
  const reports: EpochReport[] = [];
  try {
    while (trainer.epoch < config.epochs) {
      const report = await trainer.runEpoch();
      reports.push(report);
      if ((await hooks.onEpoch?.(report)) === false) break;
    }
  } finally {
    trainer.dispose();
    device.dispose();
  }
  return reports;
}

/** Monitoring batch (pylearn2's monitor uses the training batch size; the size only affects speed here). */
const MONITOR_BATCH = 500;

function forEachSlice(data: DeviceData, batch: number, body: (x: tf.Tensor2D, labels: tf.Tensor1D, size: number) => tf.Scalar): Promise<number> {
  let sum = tf.scalar(0);
  for (let start = 0; start < data.count; start += batch) {
    const size = Math.min(batch, data.count - start);
    const next = tf.tidy(() => tf.add(sum, body(tf.slice(data.images, [start, 0], [size, -1]) as tf.Tensor2D, tf.slice(data.labels, [start], [size]) as tf.Tensor1D, size)));
    sum.dispose();
    sum = next as tf.Scalar;
  }
  return sum.data().then((v) => {
    sum.dispose();
    return v[0] / data.count;
  });
}

/**
 * Misclassification rate of the test-time (dropout-free) net, pylearn2's `valid_y_misclass`; with
 * `adversarialEps`, on FGSM examples crafted against that net (§6's adversarial validation error).
 */
export function errorRate(model: Predictor, data: DeviceData, adversarialEps: number | null = null): Promise<number> {
  const target = asAttackTarget(model);
  return forEachSlice(data, MONITOR_BATCH, (x, labels) => {
    const input = adversarialEps === null ? x : fgsm(target, x, { eps: adversarialEps, labels });
    return tf.sum(tf.cast(tf.notEqual(model.predict(model.scores(input)), labels), 'float32'));
  });
}

/**
 * The training objective on `data` as pylearn2's monitor computes its `*_objective` channels: the
 * cost of the training-time net, with fresh dropout masks (and noise or adversarial examples) per
 * batch, at the current weights. Batches are `batchSize` (the monitor's default), in order.
 */
export function objectiveValue(model: Classifier, data: DeviceData, config: TrainConfig, rng: Rng): Promise<number> {
  return forEachSlice(data, config.batchSize, (x, labels, size) => {
    const masks = dropoutMasks(model, size, rng);
    const inputs = objectiveInputs(model, x, labels, masks, config.objective, rng);
    return tf.mul(batchCost(model, inputs, masks, model.targets(labels)), size) as tf.Scalar;
  });
}
