import type { AttackTarget } from '@advx/attacks';
import type { Classifier, DropoutMasks } from './classifier.js';
import type { Predictor } from './ensemble.js';

/**
 * Presents a model to the attacks. With masks (a Classifier only), the attack sees the
 * training-time dropout network, as adversarial training needs.
 */
export function asAttackTarget(model: Predictor | Classifier, masks?: DropoutMasks): AttackTarget {
  return {
    scores: masks ? (x) => (model as Classifier).scores(x, masks) : (x) => model.scores(x),
    loss: (scores, targets) => model.loss(scores, targets),
    exampleLosses: (scores, targets) => model.exampleLosses(scores, targets),
    targets: (labels) => model.targets(labels),
    predict: (scores) => model.predict(scores),
  };
}
