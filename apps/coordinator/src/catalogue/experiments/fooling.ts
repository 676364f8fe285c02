import { maxoutSpec } from '@advx/models';
import { MNIST_SCALE } from './fgsm-baseline.js';
import { maxoutTraining } from './training.js';
import type { ExperimentSpec } from './types.js';

/** App. A, Fig. 5: fooling images grown from N(0, I) noise towards each class (run on MNIST; the paper's numbers are CIFAR-10). */
export const foolingExperiment: ExperimentSpec = {
  id: 'fooling',
  title: 'Fooling images from Gaussian noise, per target class (MNIST)',
  section: 'App. A, Fig. 5',
  dataset: 'mnist',
  scale: MNIST_SCALE,
  models: { maxout: { spec: maxoutSpec(), ...maxoutTraining } },
  evaluations: {},
  analyses: {
    'maxout-fooling': { kind: 'fooling', model: 'maxout', samplesPerClass: { smoke: 5, cpu: 100, paper: 100 }, eps: 0.25, maxSteps: 20 },
  },
  figures: ['fig5-fooling'],
  claims: [
    {
      id: 'P17',
      description: 'Fooling images reach their target class (paper, CIFAR-10: mean success 75.3%, airplane lowest at 24.7%); here on MNIST',
      metrics: {
        mean_success: { paper: null, from: { analysis: 'maxout-fooling', metric: 'success_mean' } },
        min_class_success: { paper: null, from: { analysis: 'maxout-fooling', metric: 'success_min' } },
        per_step_success: { paper: null, from: { analysis: 'maxout-fooling', metric: 'per_step_success_mean' } },
      },
    },
  ],
};
