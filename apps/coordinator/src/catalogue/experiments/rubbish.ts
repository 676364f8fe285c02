import { maxoutSpec, rbfSpec, softmaxRegressionSpec } from '@advx/models';
import { MNIST_SCALE } from './fgsm-baseline.js';
import { rbfTraining } from './rbf.js';
import { maxoutTraining, softmaxTraining } from './training.js';
import { fgsmAt } from './clipping.js';
import { CPU_SHORTENED, mpDbmRole } from './mp-dbm.js';
import type { ExperimentSpec, PresetName } from './types.js';

const RUBBISH: Record<PresetName, number> = { smoke: 1000, cpu: 10000, paper: 10000 };
const fromRubbish = (analysis: string, metric: string) => ({ analysis, metric });

/**
 * Appendix A: Gaussian "rubbish" inputs x ~ N(0, I₇₈₄) counted as errors when any class gets
 * probability > .5; and a net trained with rubbish as an extra "none" class.
 */
export const rubbishExperiment: ExperimentSpec = {
  id: 'rubbish',
  title: 'Rubbish-class examples: N(0, I) inputs classified with confidence',
  section: 'App. A',
  dataset: 'mnist',
  scale: { ...MNIST_SCALE, cpu: { ...MNIST_SCALE.cpu, shortened: `${MNIST_SCALE.cpu.shortened}; ${CPU_SHORTENED}` } },
  models: {
    maxout: { spec: maxoutSpec(), ...maxoutTraining },
    'maxout-sigmoid': { spec: maxoutSpec({ name: 'maxout-240-sigmoid', head: 'sigmoid' }), ...maxoutTraining },
    softmax: { spec: softmaxRegressionSpec(), training: softmaxTraining },
    rbf: { spec: rbfSpec(), training: rbfTraining },
    'maxout-none-class': { spec: maxoutSpec({ name: 'maxout-240-none', outputs: 11 }), ...maxoutTraining, rubbishClass: { smoke: 500, cpu: 10000, paper: 10000 } },
    // §9's question, asked of rubbish: is a generatively trained model less confident away from the data? (the mp-dbm experiment's net, shared)
    'mp-dbm': mpDbmRole,
  },
  evaluations: {
    'none-class-clean': { source: 'maxout-none-class', attack: null },
    'maxout-clean': { source: 'maxout', attack: null },
  },
  analyses: {
    'rubbish-maxout': { kind: 'rubbish', model: 'maxout', count: RUBBISH },
    'rubbish-sigmoid': { kind: 'rubbish', model: 'maxout-sigmoid', count: RUBBISH },
    'rubbish-softmax': { kind: 'rubbish', model: 'softmax', count: RUBBISH },
    'rubbish-rbf': { kind: 'rubbish', model: 'rbf', count: RUBBISH },
    'rubbish-none-class': { kind: 'rubbish', model: 'maxout-none-class', count: RUBBISH },
    'rubbish-mp-dbm': { kind: 'rubbish', model: 'mp-dbm', count: RUBBISH },
    'rubbish-none-class-fgsm': { kind: 'rubbish', model: 'maxout-none-class', count: RUBBISH, attack: fgsmAt(0.25) },
  },
  figures: ['rubbish-histogram'],
  claims: [
    {
      id: 'P15',
      description: 'Rubbish N(0, I) inputs given > .5 probability: maxout 98.35% (mean confidence 92.8%), sigmoid top 68% (87.9%), softmax regression 59.8% (70.8%), RBF 0%; 45.3% of maxout false positives are 5s',
      metrics: {
        maxout_rate: { paper: 0.9835, tolerance: 0.05, from: fromRubbish('rubbish-maxout', 'false_positive_rate') },
        maxout_confidence: { paper: 0.928, tolerance: 0.05, from: fromRubbish('rubbish-maxout', 'confidence_on_false_positives') },
        maxout_fraction_fives: { paper: 0.453, tolerance: 0.1, from: fromRubbish('rubbish-maxout', 'fraction_class_5') },
        sigmoid_rate: { paper: 0.68, tolerance: 0.1, from: fromRubbish('rubbish-sigmoid', 'false_positive_rate') },
        sigmoid_confidence: { paper: 0.879, tolerance: 0.05, from: fromRubbish('rubbish-sigmoid', 'confidence_on_false_positives') },
        softmax_rate: { paper: 0.598, tolerance: 0.1, from: fromRubbish('rubbish-softmax', 'false_positive_rate') },
        softmax_confidence: { paper: 0.708, tolerance: 0.05, from: fromRubbish('rubbish-softmax', 'confidence_on_false_positives') },
        rbf_rate: { paper: 0, tolerance: 0.01, from: fromRubbish('rubbish-rbf', 'false_positive_rate') },
        // Beyond the paper, which does not give the MP-DBM's rubbish rate.
        mp_dbm_rate: { paper: null, from: fromRubbish('rubbish-mp-dbm', 'false_positive_rate') },
        mp_dbm_confidence: { paper: null, from: fromRubbish('rubbish-mp-dbm', 'confidence_on_false_positives') },
      },
    },
    {
      id: 'P18',
      description: 'Training with rubbish as an extra "none" class drives rubbish error to 0% without changing clean error, but FGSM applied to rubbish still fools it',
      metrics: {
        rubbish_rate: { paper: 0, tolerance: 0.01, from: fromRubbish('rubbish-none-class', 'false_positive_rate') },
        clean_error_with_none_class: { paper: null, from: { evaluation: 'none-class-clean', metric: 'clean_error' } },
        clean_error_without: { paper: null, from: { evaluation: 'maxout-clean', metric: 'clean_error' } },
        rubbish_fgsm_rate: { paper: null, from: fromRubbish('rubbish-none-class-fgsm', 'false_positive_rate') },
      },
    },
  ],
};
