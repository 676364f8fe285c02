import { logisticRegressionSpec } from '@advx/models';
import { schedule } from './training.js';
import { fgsmAt } from './clipping.js';
import type { ExperimentSpec } from './types.js';

/** §5, Fig. 2: logistic regression on MNIST 3s vs 7s, where FGSM is exact. */
export const logistic3v7: ExperimentSpec = {
  id: 'logistic-3v7',
  title: 'Logistic regression on MNIST 3 vs 7 under FGSM ε = .25',
  section: '§5, Fig. 2',
  dataset: 'mnist',
  classes: [3, 7],
  scale: {
    smoke: { trainCount: 1000, testCount: 500, validationSize: 10000, validationCount: 1000, shortened: '1,000 training examples, 1 epoch' },
    cpu: { trainCount: null, testCount: null, validationSize: 10000, shortened: 'the 3s and 7s of the 50,000-example split, 20 epochs' },
    paper: { trainCount: null, testCount: null, validationSize: 10000, shortened: 'the 3s and 7s of the 50,000-example split, 100 epochs' },
  },
  models: {
    logistic: { spec: logisticRegressionSpec(), training: schedule({ smoke: 1, cpu: 20, paper: 100 }, { kind: 'clean' }, {}, { final: 0.9, saturateEpoch: 20 }) },
  },
  evaluations: {
    'logistic-fgsm': { source: 'logistic', attack: fgsmAt(0.25) },
  },
  analyses: {
    'logistic-figure': { kind: 'examples', model: 'logistic', attack: fgsmAt(0.25), count: 6, weights: true },
  },
  figures: ['fig2-logistic'],
  claims: [
    {
      id: 'P4',
      description: 'Logistic regression, 3 vs 7: 1.6% clean error; FGSM ε=.25 gives 99% error (Fig. 2d)',
      metrics: {
        clean_error: { paper: 0.016, tolerance: 0.005, from: { evaluation: 'logistic-fgsm', metric: 'clean_error' } },
        adv_error: { paper: 0.99, tolerance: 0.02, from: { evaluation: 'logistic-fgsm', metric: 'adv_error' } },
      },
    },
  ],
};
