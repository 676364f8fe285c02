import { maxoutSpec } from '@advx/models';
import { MNIST_SCALE } from './fgsm-baseline.js';
import { maxoutTraining } from './training.js';
import type { ExperimentSpec } from './types.js';

/** §5: L1 weight decay on the first layer as a cheap stand-in for adversarial training. */
export const l1WeightDecay: ExperimentSpec = {
  id: 'l1-weight-decay',
  title: 'L1 weight decay on the first layer of a maxout network',
  section: '§5',
  dataset: 'mnist',
  scale: MNIST_SCALE,
  models: {
    maxout: { spec: maxoutSpec(), ...maxoutTraining },
    'maxout-l1-0.0025': { spec: maxoutSpec({ name: 'maxout-240-l1-0.0025', firstLayerL1: 0.0025 }), ...maxoutTraining },
    'maxout-l1-0.00025': { spec: maxoutSpec({ name: 'maxout-240-l1-0.00025', firstLayerL1: 0.00025 }), ...maxoutTraining },
  },
  evaluations: {
    'maxout-train': { source: 'maxout', attack: null, split: 'train' },
    'maxout-test': { source: 'maxout', attack: null },
    'l1-0.0025-train': { source: 'maxout-l1-0.0025', attack: null, split: 'train' },
    'l1-0.00025-train': { source: 'maxout-l1-0.00025', attack: null, split: 'train' },
    'l1-0.00025-test': { source: 'maxout-l1-0.00025', attack: null },
  },
  claims: [
    {
      id: 'P5',
      description: 'L1 coefficient .0025 on the first layer leaves > 5% training error; a smaller one trains but gives no benefit over no decay',
      metrics: {
        train_error_l1_0025: { paper: 0.05, bound: 'atLeast', from: { evaluation: 'l1-0.0025-train', metric: 'clean_error' } },
        train_error_l1_00025: { paper: null, from: { evaluation: 'l1-0.00025-train', metric: 'clean_error' } },
        test_error_l1_00025: { paper: null, from: { evaluation: 'l1-0.00025-test', metric: 'clean_error' } },
        test_error_no_decay: { paper: null, from: { evaluation: 'maxout-test', metric: 'clean_error' } },
        train_error_no_decay: { paper: null, from: { evaluation: 'maxout-train', metric: 'clean_error' } },
      },
    },
  ],
};
