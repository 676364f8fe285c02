import { maxoutSpec } from '@advx/models';
import { maxoutProtocol } from './training.js';
import { fgsmAt } from './clipping.js';
import { memberOf, type ExperimentSpec } from './types.js';

const fgsm25 = fgsmAt(0.25);

/** §9: twelve maxout nets from different seeds, averaging probabilities, attacked whole or through one member. */
export const ensembleExperiment: ExperimentSpec = {
  id: 'ensemble',
  title: 'An ensemble of 12 maxout networks under FGSM ε = .25',
  section: '§9',
  dataset: 'mnist',
  scale: {
    smoke: { trainCount: 1000, testCount: 500, validationSize: 10000, validationCount: 1000, shortened: '12 members on 1,000 examples, 1 epoch each' },
    cpu: { trainCount: null, testCount: null, validationSize: 10000, shortened: "12 members, each the paper's protocol truncated to the best of ≤ 10 epochs, then ≤ 2 on 60,000" },
    paper: { trainCount: null, testCount: null, validationSize: 10000, shortened: "12 members, each with the paper's protocol" },
  },
  // Twelve members per seed: on the cpu budget one ensemble is trained, not one per seed.
  maxSeeds: { cpu: 1 },
  models: {
    member: { spec: maxoutSpec(), ...maxoutProtocol(undefined, { stage1: { smoke: 1, cpu: 10, paper: 1000 }, stage2: { smoke: null, cpu: 2, paper: 500 } }), members: 12 },
  },
  evaluations: {
    'ensemble-fgsm': { source: 'member', attack: fgsm25 },
    'member-to-ensemble-fgsm': { source: memberOf('member', 0), target: 'member', attack: fgsm25 },
  },
  claims: [
    {
      id: 'P14',
      description: 'FGSM crafted on the whole ensemble gives it 91.1% error; crafted on one member, 87.9%',
      metrics: {
        ensemble_adv_error: { paper: 0.911, tolerance: 0.05, from: { evaluation: 'ensemble-fgsm', metric: 'adv_error' } },
        member_adv_error: { paper: 0.879, tolerance: 0.05, from: { evaluation: 'member-to-ensemble-fgsm', metric: 'adv_error' } },
        ensemble_clean_error: { paper: null, from: { evaluation: 'ensemble-fgsm', metric: 'clean_error' } },
      },
    },
  ],
};
