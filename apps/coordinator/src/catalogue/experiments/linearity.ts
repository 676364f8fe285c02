import { maxoutSpec } from '@advx/models';
import { MNIST_SCALE } from './fgsm-baseline.js';
import { maxoutTraining } from './training.js';
import type { ExperimentSpec } from './types.js';

/** Fig. 4: the 10 logits of a maxout net along x + ε·sign(∇ₓJ) are piecewise linear in ε. */
export const linearityExperiment: ExperimentSpec = {
  id: 'linearity',
  title: 'Logits along the fast-gradient-sign direction (Fig. 4)',
  section: '§8, Fig. 4',
  dataset: 'mnist',
  scale: MNIST_SCALE,
  models: { maxout: { spec: maxoutSpec(), ...maxoutTraining } },
  evaluations: {},
  analyses: {
    // Test example 4 is a 4, the digit of the paper's figure.
    'maxout-linearity': { kind: 'linearity', model: 'maxout', exampleIndex: 4, epsMax: 1, points: 101 },
  },
  figures: ['fig4-logits'],
  claims: [
    {
      id: 'P19',
      description: 'Each logit is piecewise linear in ε: fraction of variance explained by a 3-segment piecewise-linear fit (mean over classes), against a single line',
      metrics: {
        piecewise_linear_r2: { paper: null, from: { analysis: 'maxout-linearity', metric: 'piecewise_r2_mean' } },
        single_line_r2: { paper: null, from: { analysis: 'maxout-linearity', metric: 'linear_r2_mean' } },
        min_piecewise_linear_r2: { paper: null, from: { analysis: 'maxout-linearity', metric: 'piecewise_r2_min' } },
      },
    },
  ],
};
