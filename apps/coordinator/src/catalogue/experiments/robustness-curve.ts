import { maxoutSpec, rbfSpec, softmaxRegressionSpec } from '@advx/models';
import { MNIST_SCALE } from './fgsm-baseline.js';
import { rbfTraining } from './rbf.js';
import { adversarialTraining, maxoutTraining, softmaxTraining } from './training.js';
import type { ExperimentSpec } from './types.js';
import { mnistBattery } from './battery.js';
import { CPU_SHORTENED, mpDbmRole } from './mp-dbm.js';

/**
 * Beyond the paper: FGSM is one point of a family. Error against ε for every attack of the project
 * and their worst case (per example, the first that succeeds), with each model's masking checks.
 */
export const robustnessCurve: ExperimentSpec = {
  id: 'robustness-curve',
  title: 'Error rate against ε for every attack and their worst case, with gradient-masking checks (beyond the paper)',
  section: 'beyond the paper',
  dataset: 'mnist',
  scale: {
    ...MNIST_SCALE,
    cpu: { ...MNIST_SCALE.cpu, testCount: 1000, shortened: `${MNIST_SCALE.cpu.shortened}; ${CPU_SHORTENED}; curves on the first 1,000 test examples` },
  },
  models: {
    softmax: { spec: softmaxRegressionSpec(), training: softmaxTraining },
    maxout: { spec: maxoutSpec(), ...maxoutTraining },
    'maxout-adv': { spec: maxoutSpec(), ...adversarialTraining },
    rbf: { spec: rbfSpec(), training: rbfTraining },
    // The generatively trained MP-DBM (§9), attacked through its mean-field inference (the mp-dbm experiment's net, shared).
    'mp-dbm': mpDbmRole,
  },
  evaluations: {},
  battery: mnistBattery(['softmax', 'maxout', 'maxout-adv', 'rbf', 'mp-dbm'], { softmax: ['maxout'], maxout: ['maxout-adv'], 'maxout-adv': ['maxout'], rbf: ['maxout'], 'mp-dbm': ['maxout'] }),
  curves: [{ id: 'robustness', title: 'Error against ε', models: ['softmax', 'maxout', 'maxout-adv', 'rbf', 'mp-dbm'], attacks: ['fgsm', 'rfgsm', 'fgsm-random-start', 'bim', 'mi-fgsm', 'pgd', 'apgd-ce', 'square', 'worst-case'], epsilons: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3], steps: 10, queries: 200 }],
  claims: [],
};
