/**
 * Worst case over a list of attacks, AutoAttack's standard evaluation: each attack runs only on the
 * examples every earlier one failed on, and an example counts as broken by the first attack that
 * misclassifies it. So "robust error" is the union over the attacks, and the order only affects cost.
 *
 *   const { adversarial, brokenBy } = worstCase(target, x, labels, [
 *     (x, labels) => fgsm(target, x, { eps, labels }),
 *     (x, labels) => apgdCe(target, x, { eps, labels, steps: 100, rng }),
 *   ]);
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectRows } from './gradient.js';
import type { AttackTarget } from './types.js';

/** One attack of the list: adversarial versions of the given rows (true labels given). */
export type AttackRun = (x: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor2D;

export interface WorstCase {
  /** Per example, the first successful attack's example, else the clean input. */
  adversarial: tf.Tensor2D;
  /** Per example, the index of the first attack that misclassified it; −1 for none (and for examples the clean input already misclassifies: −2). */
  brokenBy: Int32Array;
}

export async function worstCase(model: AttackTarget, x: tf.Tensor2D, labels: tf.Tensor1D, attacks: AttackRun[]): Promise<WorstCase> {
  const wrong = (input: tf.Tensor2D, truth: tf.Tensor1D) => tf.tidy(() => tf.notEqual(model.predict(model.scores(input)), truth));
  const cleanWrong = wrong(x, labels);
  const brokenBy = Int32Array.from(await cleanWrong.data(), (w) => (w ? -2 : -1));
  cleanWrong.dispose();
  let adversarial = tf.clone(x);
  for (let a = 0; a < attacks.length; a++) {
    const open = Int32Array.from(brokenBy.keys()).filter((i) => brokenBy[i] === -1);
    if (open.length === 0) break;
    const indices = tf.tensor1d(open, 'int32');
    const rows = tf.gather(x, indices);
    const rowLabels = tf.gather(labels, indices);
    const attacked = attacks[a](rows, rowLabels);
    const fooledTensor = wrong(attacked, rowLabels);
    const fooled = await fooledTensor.data();
    fooledTensor.dispose();
    const next = tf.tidy(() => {
      const broken = open.filter((_, j) => fooled[j]);
      if (broken.length === 0) return tf.clone(adversarial);
      const updates = tf.gather(attacked, tf.tensor1d(Int32Array.from(open.keys()).filter((j) => fooled[j]), 'int32'));
      return tf.tensorScatterUpdate(adversarial, tf.tensor2d(Int32Array.from(broken), [broken.length, 1], 'int32'), updates) as tf.Tensor2D;
    });
    open.forEach((i, j) => {
      if (fooled[j]) brokenBy[i] = a;
    });
    tf.dispose([indices, rows, rowLabels, attacked, adversarial]);
    adversarial = next;
  }
  return { adversarial, brokenBy };
}

/**
 * The worst case's examples without reading anything back, for use inside a batch's tidy: every
 * attack runs on every row, and each row keeps the first attack's example that misclassifies it
 * (else the clean row). Equal to `worstCase(...).adversarial`, at the cost of attacking rows an
 * earlier attack already broke.
 */
export function firstSuccessful(model: AttackTarget, x: tf.Tensor2D, labels: tf.Tensor1D, attacks: AttackRun[]): tf.Tensor2D {
  const wrong = (input: tf.Tensor2D) => tf.notEqual(model.predict(model.scores(input)), labels);
  let adversarial = tf.clone(x);
  let broken = tf.tidy(() => wrong(x));
  for (const attack of attacks) {
    const [nextAdversarial, nextBroken] = tf.tidy(() => {
      const attacked = attack(x, labels);
      const fooled = wrong(attacked);
      const fresh = tf.logicalAnd(fooled, tf.logicalNot(broken));
      return [selectRows(fresh as tf.Tensor1D, attacked, adversarial), tf.logicalOr(broken, fooled)];
    });
    tf.dispose([adversarial, broken]);
    adversarial = nextAdversarial;
    broken = nextBroken;
  }
  broken.dispose();
  return adversarial;
}
