import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import { fgsm } from '@advx/attacks';
import { asAttackTarget } from './attack-target.js';
import { ownedVariable, type Classifier, type DropoutMasks } from './classifier.js';

/**
 * What each training step minimises. The paper's variants all live here so that a model trained
 * adversarially and its noise-trained controls differ only in this field of their config.
 */
export type Objective =
  | { kind: 'clean' }
  /** J̃ = α J(x) + (1 − α) J(x + ε sign ∇ₓJ) (§6), the adversarial example crafted on the dropout net. */
  | { kind: 'adversarial'; alpha: number; eps: number }
  /** Controls (§6): train on x + ε·(random ±1) or x + U(−ε, ε), clipped to [0, 1]. */
  | { kind: 'noise'; distribution: 'sign' | 'uniform'; eps: number };

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** Learning rate decays linearly from `learningRate` to `learningRate · finalLearningRateFactor`. */
  learningRate: number;
  finalLearningRateFactor: number;
  /** Momentum ramps linearly from `initialMomentum` to `finalMomentum` over the epochs (pylearn2's MomentumAdjustor). */
  initialMomentum: number;
  finalMomentum: number;
  objective: Objective;
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
}

export interface TrainHooks {
  /** Called after each epoch; return `false` to stop early (early stopping lives with the caller). */
  onEpoch?: (report: EpochReport) => boolean | void | Promise<boolean | void>;
}

function schedule(config: TrainConfig, epoch: number): { learningRate: number; momentum: number } {
  const t = config.epochs > 1 ? epoch / (config.epochs - 1) : 1;
  return {
    learningRate: config.learningRate * (1 + t * (config.finalLearningRateFactor - 1)),
    momentum: config.initialMomentum + t * (config.finalMomentum - config.initialMomentum),
  };
}

/** Fresh inverted-dropout masks for one batch, drawn from our PRNG (tfjs' own dropout ignores seeds). */
function dropoutMasks(model: Classifier, batch: number, rng: Rng): DropoutMasks {
  return model.dropoutWidths().map(({ width, keep }) =>
    keep >= 1 ? tf.ones([batch, width]) : tf.tensor2d(rng.fillDropoutMask(new Float32Array(batch * width), keep), [batch, width]),
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
      const xAdv = fgsm(asAttackTarget(model, masks), x, { eps: objective.eps, labels });
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
      return [[tf.clipByValue(tf.add(x, tf.tensor2d(noise, x.shape)), 0, 1) as tf.Tensor2D, 1]];
    }
  }
}

/**
 * Minibatch SGD with momentum, max-norm after every step, optional first-layer L1. The training set
 * is uploaded once; each epoch gathers one shuffled copy on the device and slices batches from it,
 * so the hot loop creates only the per-batch dropout masks and reads nothing back until the
 * epoch ends.
 */
export async function train(model: Classifier, data: TrainData, config: TrainConfig, rng: Rng, hooks: TrainHooks = {}): Promise<EpochReport[]> {
  const shuffleRng = rng.fork('shuffle');
  const dropoutRng = rng.fork('dropout');
  const noiseRng = rng.fork('noise');
  const variables = model.variables;
  const velocities = variables.map((v) => ownedVariable(() => tf.zerosLike(v)));
  const allImages = tf.tensor2d(data.images, [data.count, model.inputSize]);
  const allLabels = tf.tensor1d(data.labels, 'int32');
  const reports: EpochReport[] = [];
  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const started = performance.now();
      const { learningRate, momentum } = schedule(config, epoch);
      const order = tf.tensor1d(shuffleRng.permutation(data.count), 'int32');
      const epochImages = tf.gather(allImages, order);
      const epochLabels = tf.gather(allLabels, order);
      order.dispose();
      let lossSum = tf.scalar(0);
      let batches = 0;
      for (let start = 0; start < data.count; start += config.batchSize) {
        const size = Math.min(config.batchSize, data.count - start);
        const batchLoss = tf.tidy(() => {
          const x = tf.slice(epochImages, [start, 0], [size, -1]) as tf.Tensor2D;
          const labels = tf.slice(epochLabels, [start], [size]) as tf.Tensor1D;
          const targets = model.targets(labels);
          const masks = dropoutMasks(model, size, dropoutRng);
          const inputs = objectiveInputs(model, x, labels, masks, config.objective, noiseRng);
          const { value, grads } = tf.variableGrads(() => {
            const terms = inputs.map(([input, weight]) => tf.mul(model.loss(model.scores(input, masks), targets), weight));
            const loss = tf.addN(terms) as tf.Scalar;
            return model.spec.firstLayerL1 > 0 ? tf.add(loss, tf.mul(tf.sum(tf.abs(model.firstLayerWeights)), model.spec.firstLayerL1)) : loss;
          }, variables);
          variables.forEach((v, i) => {
            const velocity = velocities[i];
            velocity.assign(tf.sub(tf.mul(velocity, momentum), tf.mul(grads[v.name], learningRate)));
            v.assign(tf.add(v, velocity));
          });
          return value;
        });
        model.applyConstraints();
        const next = tf.add(lossSum, batchLoss) as tf.Scalar;
        lossSum.dispose();
        batchLoss.dispose();
        lossSum = next;
        batches++;
      }
      epochImages.dispose();
      epochLabels.dispose();
      const meanLoss = (await lossSum.data())[0] / batches;
      lossSum.dispose();
      const seconds = (performance.now() - started) / 1000;
      const report = { epoch: epoch + 1, epochs: config.epochs, meanLoss, examplesPerSecond: data.count / seconds };
      reports.push(report);
      if (!Number.isFinite(meanLoss)) throw new Error(`training diverged at epoch ${epoch + 1} (loss ${meanLoss})`);
      if ((await hooks.onEpoch?.(report)) === false) break;
    }
  } finally {
    allImages.dispose();
    allLabels.dispose();
    for (const v of velocities) v.dispose();
  }
  return reports;
}
