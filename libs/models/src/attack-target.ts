import type { AttackTarget } from '@advx/attacks';
import type { Classifier, DropoutMasks } from './classifier.js';

/** Presents a classifier to the attacks; with masks, the training-time dropout network (for adversarial training). */
export function asAttackTarget(model: Classifier, masks?: DropoutMasks): AttackTarget {
  return {
    scores: (x) => model.scores(x, masks),
    loss: (scores, targets) => model.loss(scores, targets),
    targets: (labels) => model.targets(labels),
    predict: (scores) => model.predict(scores),
  };
}
