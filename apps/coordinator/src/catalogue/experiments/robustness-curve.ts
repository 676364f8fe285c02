import { maxoutSpec, rbfSpec, softmaxRegressionSpec } from '@advx/models';
import { MNIST_SCALE } from './fgsm-baseline.js';
import { rbfTraining } from './rbf.js';
import { adversarialTraining, maxoutTraining, softmaxTraining } from './training.js';
import type { ExperimentSpec } from './types.js';

/** Beyond the paper: FGSM is one point of a family; error against ε for FGSM, BIM and PGD. */
export const robustnessCurve: ExperimentSpec = {
  id: 'robustness-curve',
  title: 'Error rate against ε for FGSM, BIM and PGD (beyond the paper)',
  section: 'beyond the paper',
  dataset: 'mnist',
  scale: {
    ...MNIST_SCALE,
    cpu: { ...MNIST_SCALE.cpu, testCount: 2000, shortened: `${MNIST_SCALE.cpu.shortened}; curves on the first 2,000 test examples` },
  },
  models: {
    softmax: { spec: softmaxRegressionSpec(), training: softmaxTraining },
    maxout: { spec: maxoutSpec(), ...maxoutTraining },
    'maxout-adv': { spec: maxoutSpec(), ...adversarialTraining },
    rbf: { spec: rbfSpec(), training: rbfTraining },
  },
  evaluations: {},
  curves: [{ id: 'robustness', title: 'Error against ε', models: ['softmax', 'maxout', 'maxout-adv', 'rbf'], attacks: ['fgsm', 'bim', 'pgd'], epsilons: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3], steps: 10 }],
  claims: [],
};
