import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@advx/data';
import { apgdCe, bim, fgsm, fgsmRandomStart, firstSuccessful, miFgsm, pgd, rfgsm, square, type AttackTarget } from '@advx/attacks';
import type { AttackSpec } from '../../units/types.js';

/**
 * An attack spec of the catalogue as a call of @advx/attacks on one batch (true labels given, as
 * the paper's FGSM uses y in J(θ, x, y)). `imageShape` is the batch rows' [h, w, c], which only
 * Square reads (its squares are squares of the image). Randomised attacks draw from `rng`, so a
 * unit's examples are the same however its batches fall.
 */
export function craft(target: AttackTarget, x: tf.Tensor2D, labels: tf.Tensor1D, attack: AttackSpec, rng: Rng, imageShape?: [number, number, number]): tf.Tensor2D {
  const range = attack.clip ? { clipMin: 0, clipMax: 1 } : { clipMin: -Infinity, clipMax: Infinity };
  const common = { eps: attack.eps, labels, ...range };
  switch (attack.kind) {
    case 'fgsm':
      // Without labels, the attacks step against the model's predictions on the clean input.
      return fgsm(target, x, attack.labels === 'predicted' ? { ...common, labels: undefined } : common);
    case 'bim':
      return bim(target, x, { ...common, steps: attack.steps, stepSize: attack.stepSize });
    case 'pgd':
      return pgd(target, x, { ...common, steps: attack.steps, stepSize: attack.stepSize, rng });
    case 'rfgsm':
      return rfgsm(target, x, { ...common, alpha: attack.alpha, rng });
    case 'fgsm-random-start':
      return fgsmRandomStart(target, x, { ...common, stepSize: attack.stepSize, rng });
    case 'mi-fgsm':
      return miFgsm(target, x, { ...common, steps: attack.steps, decay: attack.decay });
    case 'apgd-ce':
      return apgdCe(target, x, { ...common, steps: attack.steps, restarts: attack.restarts, rng });
    case 'square':
      if (!imageShape) throw new Error('the Square attack needs the rows\' image shape');
      return square(target, x, { ...common, queries: attack.queries, imageShape, rng });
    case 'worst-case': {
      const mismatched = attack.attacks.find((a) => a.eps !== attack.eps || a.clip !== attack.clip || a.kind === 'worst-case');
      if (mismatched) throw new Error(`a worst-case attack's members share its ε and clipping and are not worst cases themselves: ${JSON.stringify(mismatched)}`);
      return firstSuccessful(target, x, labels, attack.attacks.map((a) => (rows: tf.Tensor2D, rowLabels: tf.Tensor1D) => craft(target, rows, rowLabels, a, rng, imageShape)));
    }
  }
}
