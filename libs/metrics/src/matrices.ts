/**
 * Cross-model transfer of adversarial examples (Goodfellow, Shlens & Szegedy 2015, §8). For each source
 * model s, adversarial examples are crafted on s from labelled clean inputs; every target model t
 * (usually including s itself) classifies them. Rows are sources, columns targets.
 *
 * - transfer[s][t]: t's error rate on s's adversarial examples, against the true labels (the diagonal
 *   is the white-box error rate).
 * - agreement[s][t]: "On examples that were misclassified by the maxout network, the RBF network
 *   predicted the maxout network's class assignment only 16.0% of the time": among s's adversarial
 *   examples that s misclassifies, the fraction where t predicts the same class as s.
 * - agreementBothWrong[s][t]: "If we restrict our attention to cases where both models being compared
 *   make a mistake, then softmax regression predict's maxout's class 84.6% of the time": the same, among
 *   examples both s and t misclassify.
 * Empty denominators give NaN. The diagonal of the agreement matrices is 1 by construction.
 */

export type Predictions = Int32Array | Uint8Array | Uint16Array | number[];

export interface TransferInput {
  /** Row names: the models the adversarial examples were crafted on. */
  sources: string[];
  /** Column names: the models that classify them. */
  targets: string[];
  /** True labels: one array shared by every source, or one per source (same order as `sources`). */
  labels: Predictions | Predictions[];
  /** predictions[s][t][j]: target t's class for source s's j-th adversarial example. */
  predictions: Predictions[][];
  /**
   * sourcePredictions[s][j]: source s's own class for its j-th adversarial example. Optional when each
   * source also appears (by name) among the targets; then that column is used.
   */
  sourcePredictions?: Predictions[];
}

export interface NamedMatrix {
  rows: string[];
  columns: string[];
  values: number[][];
  /** The number of examples each cell's fraction is over. */
  counts: number[][];
}

export interface TransferMatrices {
  transfer: NamedMatrix;
  agreement: NamedMatrix;
  agreementBothWrong: NamedMatrix;
}

export function transferMatrices(input: TransferInput): TransferMatrices {
  const { sources, targets, predictions } = input;
  if (predictions.length !== sources.length) throw new Error(`predictions has ${predictions.length} rows for ${sources.length} sources`);
  const perSourceLabels = isNested(input.labels);
  if (perSourceLabels && input.labels.length !== sources.length) throw new Error(`labels has ${input.labels.length} arrays for ${sources.length} sources`);
  const matrix = (): NamedMatrix => ({ rows: [...sources], columns: [...targets], values: [], counts: [] });
  const transfer = matrix();
  const agreement = matrix();
  const agreementBothWrong = matrix();
  sources.forEach((source, s) => {
    const labels = perSourceLabels ? (input.labels as Predictions[])[s] : (input.labels as Predictions);
    const row = predictions[s];
    if (row.length !== targets.length) throw new Error(`predictions[${s}] has ${row.length} columns for ${targets.length} targets`);
    const own = input.sourcePredictions?.[s] ?? row[targets.indexOf(source)];
    if (!own) throw new Error(`no predictions of source "${source}" on its own examples: pass sourcePredictions or list it among the targets`);
    const n = labels.length;
    for (const [name, array] of [['source predictions', own], ...row.map((p, t) => [`target "${targets[t]}"`, p] as const)] as const) {
      if (array.length !== n) throw new Error(`source "${source}": ${name} has ${array.length} entries for ${n} labels`);
    }
    const cells = row.map((theirs) => {
      let wrong = 0;
      let sourceWrong = 0;
      let agree = 0;
      let bothWrong = 0;
      for (let j = 0; j < n; j++) {
        const targetWrong = theirs[j] !== labels[j];
        if (targetWrong) wrong++;
        if (own[j] === labels[j]) continue;
        sourceWrong++;
        // Agreeing with a wrong source class means the target is wrong too, so `agree` counts for both restrictions.
        if (theirs[j] === own[j]) agree++;
        if (targetWrong) bothWrong++;
      }
      return { wrong, sourceWrong, agree, bothWrong, n };
    });
    transfer.values.push(cells.map((c) => ratio(c.wrong, c.n)));
    transfer.counts.push(cells.map((c) => c.n));
    agreement.values.push(cells.map((c) => ratio(c.agree, c.sourceWrong)));
    agreement.counts.push(cells.map((c) => c.sourceWrong));
    agreementBothWrong.values.push(cells.map((c) => ratio(c.agree, c.bothWrong)));
    agreementBothWrong.counts.push(cells.map((c) => c.bothWrong));
  });
  return { transfer, agreement, agreementBothWrong };
}

function ratio(a: number, b: number): number {
  return b ? a / b : NaN;
}

function isNested(labels: Predictions | Predictions[]): labels is Predictions[] {
  return Array.isArray(labels) && labels.length > 0 && typeof labels[0] !== 'number';
}
