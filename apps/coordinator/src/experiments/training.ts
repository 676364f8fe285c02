import type { TrainConfig } from '@advx/models';
import type { PresetName } from './types.js';

/**
 * Training schedules shared by experiments. The paper preset follows pylearn2's mnist_pi maxout
 * recipe (batch 100, lr .1 decaying linearly, momentum .5 → .7); cpu keeps the recipe and shortens
 * the epochs to fit the 2-core budget; smoke only checks the machinery.
 */
const clean = { kind: 'clean' } as const;

export const maxoutTraining: Record<PresetName, TrainConfig> = {
  smoke: { epochs: 1, batchSize: 100, learningRate: 0.1, finalLearningRateFactor: 1, initialMomentum: 0.5, finalMomentum: 0.5, objective: clean },
  cpu: { epochs: 30, batchSize: 100, learningRate: 0.1, finalLearningRateFactor: 0.1, initialMomentum: 0.5, finalMomentum: 0.7, objective: clean },
  paper: { epochs: 250, batchSize: 100, learningRate: 0.1, finalLearningRateFactor: 0.05, initialMomentum: 0.5, finalMomentum: 0.7, objective: clean },
};

export const softmaxTraining: Record<PresetName, TrainConfig> = {
  smoke: { epochs: 1, batchSize: 100, learningRate: 0.1, finalLearningRateFactor: 1, initialMomentum: 0.5, finalMomentum: 0.5, objective: clean },
  cpu: { epochs: 20, batchSize: 100, learningRate: 0.1, finalLearningRateFactor: 0.1, initialMomentum: 0.5, finalMomentum: 0.9, objective: clean },
  paper: { epochs: 100, batchSize: 100, learningRate: 0.1, finalLearningRateFactor: 0.05, initialMomentum: 0.5, finalMomentum: 0.9, objective: clean },
};
