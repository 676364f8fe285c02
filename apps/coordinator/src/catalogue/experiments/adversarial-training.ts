import { maxoutSpec } from '@advx/models';
import { ALL_EXAMPLES, MNIST_SCALE } from './fgsm-baseline.js';
import { adversarialTraining, maxoutProtocol, maxoutTraining } from './training.js';
import { fgsmAt } from './clipping.js';
import type { ExperimentSpec } from './types.js';
import { mnistBattery } from './battery.js';

const fgsm25 = fgsmAt(0.25);
/** The reading without label leaking: the paper's FGSM uses y, which an attacker may not have. */
const PREDICTED_LABELS = "FGSM against the net's predicted labels (no label leaking, Kurakin et al. 2017)";

/** §6: adversarial training of the 240-unit maxout net, its transfer behaviour and the noise controls. */
export const adversarialTrainingExperiment: ExperimentSpec = {
  id: 'adversarial-training',
  title: 'Adversarial training of a maxout network (α = .5, ε = .25) and noise-trained controls',
  section: '§6, Fig. 3',
  dataset: 'mnist',
  scale: MNIST_SCALE,
  models: {
    maxout: { spec: maxoutSpec(), ...maxoutTraining },
    'maxout-adv': { spec: maxoutSpec(), ...adversarialTraining },
    'maxout-sign-noise': { spec: maxoutSpec(), ...maxoutProtocol({ kind: 'noise', distribution: 'sign', eps: 0.25, clip: false }) },
    'maxout-uniform-noise': { spec: maxoutSpec(), ...maxoutProtocol({ kind: 'noise', distribution: 'uniform', eps: 0.25, clip: false }) },
  },
  // P8's 17.9% says little if the adversarially trained net masks its gradients: the battery checks
  // every net, the trained ones judged on the baseline's examples and the baseline on theirs.
  battery: mnistBattery(['maxout', 'maxout-adv', 'maxout-sign-noise', 'maxout-uniform-noise'], {
    maxout: ['maxout-adv'],
    'maxout-adv': ['maxout'],
    'maxout-sign-noise': ['maxout'],
    'maxout-uniform-noise': ['maxout'],
  }),
  evaluations: {
    'maxout-fgsm': { source: 'maxout', attack: fgsm25 },
    'adv-fgsm': { source: 'maxout-adv', attack: fgsm25 },
    // Label leaking (Kurakin et al. 2017): FGSM against the net's own predictions, not the true labels.
    'adv-fgsm:predicted-labels': { source: 'maxout-adv', attack: { kind: 'fgsm', eps: 0.25, clip: false, labels: 'predicted' } },
    'maxout→adv': { source: 'maxout', target: 'maxout-adv', attack: fgsm25 },
    'adv→maxout': { source: 'maxout-adv', target: 'maxout', attack: fgsm25 },
    'sign-noise-fgsm': { source: 'maxout-sign-noise', attack: fgsm25 },
    'uniform-noise-fgsm': { source: 'maxout-uniform-noise', attack: fgsm25 },
  },
  analyses: {
    'maxout-weights': { kind: 'examples', model: 'maxout', attack: fgsm25, count: 6, weights: true },
    'adv-weights': { kind: 'examples', model: 'maxout-adv', attack: fgsm25, count: 6, weights: true },
  },
  figures: ['fig1-fgsm', 'fig3-weights'],
  claims: [
    {
      id: 'P6',
      description: 'Adversarial training lowers the clean test error of the 240-unit maxout net from 0.94% to 0.84%',
      metrics: {
        clean_error_baseline: { paper: 0.0094, tolerance: 0.003, from: { evaluation: 'maxout-fgsm', metric: 'clean_error' } },
        clean_error_adversarial: { paper: 0.0084, tolerance: 0.003, from: { evaluation: 'adv-fgsm', metric: 'clean_error' } },
      },
    },
    {
      id: 'P8',
      description: 'The adversarially trained net under FGSM ε=.25: 17.9% error, 81.4% mean confidence on its mistakes',
      metrics: {
        adv_error: { paper: 0.179, tolerance: 0.05, from: { evaluation: 'adv-fgsm', metric: 'adv_error' } },
        adv_confidence_on_errors: { paper: 0.814, tolerance: 0.05, from: { evaluation: 'adv-fgsm', metric: 'adv_confidence_on_errors' } },
        adv_error_predicted_labels: { paper: 0.179, tolerance: 0.05, from: { evaluation: 'adv-fgsm:predicted-labels', metric: 'adv_error' }, alternative: PREDICTED_LABELS },
      },
    },
    {
      id: 'P9',
      description: "Transfer: the original net's adversarial examples give the adversarially trained net 19.6% error; the reverse direction gives 40.9%",
      metrics: {
        original_to_adversarial: { paper: 0.196, tolerance: 0.05, from: { evaluation: 'maxout→adv', metric: 'adv_error' } },
        adversarial_to_original: { paper: 0.409, tolerance: 0.05, from: { evaluation: 'adv→maxout', metric: 'adv_error' } },
      },
    },
    {
      id: 'P10',
      description: 'Noise-trained controls stay vulnerable: ±ε sign noise 86.2% error (97.3% confidence), U(−ε, ε) noise 90.4% (97.8%)',
      metrics: {
        sign_noise_adv_error: { paper: 0.862, tolerance: 0.05, from: { evaluation: 'sign-noise-fgsm', metric: 'adv_error' } },
        sign_noise_adv_confidence: { paper: 0.973, tolerance: 0.03, from: { evaluation: 'sign-noise-fgsm', metric: 'adv_confidence_on_errors' } },
        sign_noise_adv_confidence_all: { paper: 0.973, tolerance: 0.03, from: { evaluation: 'sign-noise-fgsm', metric: 'adv_confidence' }, alternative: ALL_EXAMPLES },
        uniform_noise_adv_error: { paper: 0.904, tolerance: 0.05, from: { evaluation: 'uniform-noise-fgsm', metric: 'adv_error' } },
        uniform_noise_adv_confidence: { paper: 0.978, tolerance: 0.03, from: { evaluation: 'uniform-noise-fgsm', metric: 'adv_confidence_on_errors' } },
        uniform_noise_adv_confidence_all: { paper: 0.978, tolerance: 0.03, from: { evaluation: 'uniform-noise-fgsm', metric: 'adv_confidence' }, alternative: ALL_EXAMPLES },
      },
    },
  ],
};
