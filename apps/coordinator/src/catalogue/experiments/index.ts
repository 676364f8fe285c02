import { adversarialTrainingExperiment } from './adversarial-training.js';
import { cifarConv } from './cifar-conv.js';
import { earlyStopping } from './early-stopping.js';
import { ensembleExperiment } from './ensemble.js';
import { fgsmBaseline } from './fgsm-baseline.js';
import { foolingExperiment } from './fooling.js';
import { l1WeightDecay } from './l1-weight-decay.js';
import { linearityExperiment } from './linearity.js';
import { logistic3v7 } from './logistic-3v7.js';
import { mpDbmExperiment } from './mp-dbm.js';
import { mpDbmAblation } from './mp-dbm-ablation.js';
import { rbfAndTransfer } from './rbf.js';
import { robustnessCurve } from './robustness-curve.js';
import { rubbishExperiment } from './rubbish.js';
import { strongAttacks } from './strong-attacks.js';
import { withClippedAlternatives } from './clipping.js';
import type { ExperimentSpec } from './types.js';

export * from './types.js';

/**
 * The catalogue, in the paper's order: adding an experiment means adding one file and one line here.
 * Every FGSM claim is reported unclipped (deciding) and clipped (beside it): clipping.ts.
 */
export const EXPERIMENTS: Record<string, ExperimentSpec> = Object.fromEntries(
  [
    fgsmBaseline,
    cifarConv,
    logistic3v7,
    l1WeightDecay,
    adversarialTrainingExperiment,
    earlyStopping,
    rbfAndTransfer,
    linearityExperiment,
    ensembleExperiment,
    mpDbmExperiment,
    mpDbmAblation,
    rubbishExperiment,
    foolingExperiment,
    robustnessCurve,
    strongAttacks,
  ].map((e) => [e.id, withClippedAlternatives(e)]),
);
