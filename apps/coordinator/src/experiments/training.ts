import type { Objective, TrainConfig } from '@advx/models';
import type { PresetName } from './types.js';

/**
 * Training schedules shared by experiments. The paper preset follows pylearn2's mnist_pi maxout
 * recipe (batch 100, lr .1 decaying linearly, momentum .5 → .7); cpu keeps the recipe and shortens
 * the epochs to fit the 2-core budget; smoke only checks the machinery.
 */
type Schedule = Omit<TrainConfig, 'objective'>;

const sgd = (epochs: number, learningRate = 0.1, finalMomentum = 0.7): Schedule => ({
  epochs,
  batchSize: 100,
  learningRate,
  finalLearningRateFactor: epochs > 1 ? 0.1 : 1,
  initialMomentum: 0.5,
  finalMomentum: epochs > 1 ? finalMomentum : 0.5,
});

/** A preset → config table with one objective throughout. */
export function schedule(epochs: Record<PresetName, number>, objective: Objective = { kind: 'clean' }, learningRate = 0.1, finalMomentum = 0.7): Record<PresetName, TrainConfig> {
  return {
    smoke: { ...sgd(epochs.smoke, learningRate, finalMomentum), objective },
    cpu: { ...sgd(epochs.cpu, learningRate, finalMomentum), objective },
    paper: { ...sgd(epochs.paper, learningRate, finalMomentum), objective },
  };
}

export const MAXOUT_EPOCHS: Record<PresetName, number> = { smoke: 1, cpu: 30, paper: 250 };

export const maxoutTraining = schedule(MAXOUT_EPOCHS);
export const softmaxTraining = schedule({ smoke: 1, cpu: 20, paper: 100 }, { kind: 'clean' }, 0.1, 0.9);

/** §6: J̃ = .5 J(x) + .5 J(x + .25 sign ∇ₓJ). */
export const adversarialObjective: Objective = { kind: 'adversarial', alpha: 0.5, eps: 0.25 };
export const adversarialTraining = schedule(MAXOUT_EPOCHS, adversarialObjective);
