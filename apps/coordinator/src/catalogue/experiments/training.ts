import { PYLEARN2_MNIST_LEARNING_RATE, PYLEARN2_MNIST_MOMENTUM, type Continuation, type EarlyStoppingRule, type LearningRateSchedule, type MomentumSchedule, type Objective, type PgdMonitor, type TrainConfig } from '@advx/models';
import type { ClassifierRole, PresetName } from './types.js';

/**
 * Training recipes shared by experiments. Schedules are functions of the absolute update and epoch
 * count (pylearn2's ExponentialDecay and MomentumAdjustor), so a preset changes only how long a run
 * is allowed to go, never the values it sees on the way: a `cpu` run is a truncated `paper` run.
 */
export function schedule(
  epochs: Record<PresetName, number>,
  objective: Objective = { kind: 'clean' },
  learningRate: Partial<LearningRateSchedule> = {},
  momentum: Partial<MomentumSchedule> = {},
): Record<PresetName, TrainConfig> {
  const config = (cap: number): TrainConfig => ({
    epochs: cap,
    batchSize: 100,
    learningRate: { ...PYLEARN2_MNIST_LEARNING_RATE, ...learningRate },
    momentum: { ...PYLEARN2_MNIST_MOMENTUM, ...momentum },
    objective,
  });
  return { smoke: config(epochs.smoke), cpu: config(epochs.cpu), paper: config(epochs.paper) };
}

/** Caps of the two stages of the maxout protocol per preset (patience 100 is the paper's throughout). */
export interface ProtocolCaps {
  stage1: Record<PresetName, number>;
  /** null: stop after stage 1. */
  stage2: Record<PresetName, number | null>;
}

/**
 * Stage 1 runs until 100 epochs pass without a better validation error (Goodfellow's best was
 * epoch 243, so ~343 epochs) and keeps the best weights; stage 2 continues on all 60,000 until the
 * validation objective matches stage 1's training objective at the best epoch. `cpu` truncates
 * both stages (the best epoch is then simply the best of the epochs run).
 */
export const MAXOUT_CAPS: ProtocolCaps = { stage1: { smoke: 2, cpu: 25, paper: 1000 }, stage2: { smoke: 1, cpu: 5, paper: 500 } };
export const PAPER_PATIENCE = 100;

/**
 * The paper's maxout protocol (protocol.ts in @advx/models) as the training fields of a model role.
 * `monitor`, when given, is read after every epoch of every preset and changes nothing else.
 */
export function maxoutProtocol(objective: Objective = { kind: 'clean' }, caps: ProtocolCaps = MAXOUT_CAPS, monitor?: PgdMonitor): Pick<ClassifierRole, 'training' | 'earlyStopping' | 'continuation'> {
  const rule: EarlyStoppingRule = { patience: PAPER_PATIENCE, adversarialEps: null };
  const continuation = (preset: PresetName): Continuation | null => (caps.stage2[preset] === null ? null : { maxEpochs: caps.stage2[preset]! });
  const training = schedule(caps.stage1, objective);
  // Spread in only when given: an absent monitor is absent from the config, and so from the unit key.
  const monitored = (config: TrainConfig): TrainConfig => (monitor ? { ...config, monitor } : config);
  return {
    training: { smoke: monitored(training.smoke), cpu: monitored(training.cpu), paper: monitored(training.paper) },
    earlyStopping: { smoke: rule, cpu: rule, paper: rule },
    continuation: { smoke: continuation('smoke'), cpu: continuation('cpu'), paper: continuation('paper') },
  };
}

/**
 * §6: J̃ = .5 J(x) + .5 J(x + .25 sign ∇ₓJ). Not clipped to [0, 1]: the paper does not clip, and
 * neither did the FGSM Goodfellow co-wrote for cleverhans.
 */
export const adversarialObjective: Objective = { kind: 'adversarial', alpha: 0.5, eps: 0.25, clip: false };

/**
 * Catastrophic-overfitting monitor of FGSM training (Wong, Rice & Kolter 2020): PGD at the training
 * ε = .25 with 10 steps of 2.5 ε / 10 (Madry et al.'s step, as our PGD evaluations use) from a
 * random start, with the true labels, clipped to [0, 1] as every robustness evaluation here is
 * (training's FGSM is not: the paper does not clip), on the first 256 training examples after every
 * epoch. 256 examples measure an accuracy to ±3 points, far finer than a collapse; their 10 PGD
 * steps and 2 forward passes cost ≈ 2,700 example-passes against ≈ 100,000 for an epoch of the
 * two-pass adversarial step on 50,000 examples: ≈ 3% counted, 1.0–1.5% measured for the 240-unit net
 * (tensorflow and wasm); on smoke's 2,000 examples about a quarter of an epoch, as smoke only checks
 * the machinery. The same for every preset, so a `cpu` run stays a truncated `paper` run.
 */
export const ADVERSARIAL_TRAINING_MONITOR: PgdMonitor = { kind: 'pgd', eps: 0.25, steps: 10, stepSize: (2.5 * 0.25) / 10, examples: 256, clip: true };

export const maxoutTraining = maxoutProtocol();
export const adversarialTraining = maxoutProtocol(adversarialObjective, MAXOUT_CAPS, ADVERSARIAL_TRAINING_MONITOR);
/** The paper does not describe its softmax regression's training: our SGD, with momentum .5 → .9 over 20 epochs. */
export const softmaxTraining = schedule({ smoke: 1, cpu: 20, paper: 100 }, { kind: 'clean' }, {}, { final: 0.9, saturateEpoch: 20 });
