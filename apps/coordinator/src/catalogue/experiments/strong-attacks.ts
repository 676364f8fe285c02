import { maxoutSpec } from '@advx/models';
import { MNIST_SCALE } from './fgsm-baseline.js';
import { adversarialTraining, maxoutTraining } from './training.js';
import type { ExperimentSpec } from './types.js';
import { mnistBattery } from './battery.js';

/**
 * Beyond the paper: the two 240-unit maxout nets (§5's and §6's adversarially trained one) under
 * stronger attacks than FGSM, at ε = .1 and the paper's .25. A net that masks its gradients shows
 * up here: randomised (R+FGSM, FGSM from a random start) or gradient-free (Square) attacks beating
 * FGSM, or the worst case (per example, the first attack that succeeds) far above every single one.
 */
export const strongAttacks: ExperimentSpec = {
  id: 'strong-attacks',
  title: 'The maxout nets under stronger attacks: R+FGSM, FGSM from a random start, MI-FGSM, PGD, APGD-CE, Square, and their worst case (beyond the paper)',
  section: 'beyond the paper',
  dataset: 'mnist',
  scale: {
    ...MNIST_SCALE,
    smoke: { ...MNIST_SCALE.smoke, testCount: 100, shortened: `${MNIST_SCALE.smoke.shortened}; attacks on the first 100 test examples` },
    cpu: { ...MNIST_SCALE.cpu, testCount: 1000, shortened: `${MNIST_SCALE.cpu.shortened}; attacks on the first 1,000 test examples` },
  },
  models: {
    maxout: { spec: maxoutSpec(), ...maxoutTraining },
    'maxout-adv': { spec: maxoutSpec(), ...adversarialTraining },
  },
  evaluations: {},
  battery: mnistBattery(['maxout', 'maxout-adv'], { maxout: ['maxout-adv'], 'maxout-adv': ['maxout'] }),
  curves: [
    {
      id: 'strong-attacks',
      title: 'Error against ε under stronger attacks (in the pixel box)',
      models: ['maxout', 'maxout-adv'],
      attacks: ['fgsm', 'rfgsm', 'fgsm-random-start', 'mi-fgsm', 'pgd', 'apgd-ce', 'square', 'worst-case'],
      epsilons: [0.1, 0.25],
      steps: 20,
      queries: 300,
    },
  ],
  claims: [],
};
