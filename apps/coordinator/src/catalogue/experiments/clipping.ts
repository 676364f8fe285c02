import type { AttackSpec, ClaimSource, ClaimSpec, EvaluationRole, ExperimentSpec, MatrixSpec, MetricClaim } from './types.js';

/**
 * The paper writes FGSM as x + ε·sign(∇ₓJ) and never says it clips to [0, 1]; its Fig. 4 is
 * unclipped, and the FGSM Goodfellow co-wrote for cleverhans (2016) did not clip. 81% of MNIST
 * test pixels are 0, so clipping removes about half of the perturbation there. Claims are decided
 * on the unclipped attack; every one also gets a clipped twin, shown beside it.
 */
export const fgsmAt = (eps: number): AttackSpec => ({ kind: 'fgsm', eps, clip: false });

export const CLIPPED_ALTERNATIVE = 'FGSM clipped to [0, 1]';
/** Said in every report with clipped twins: which reading decides and why. */
export const CLIPPING_NOTE =
  'FGSM rows decide their claim unclipped (x + ε·sign ∇ₓJ as the paper writes it; it never says it clips, its Fig. 4 is unclipped, and the FGSM Goodfellow co-wrote for cleverhans in 2016 did not clip). `_clipped` rows clip to [0, 1] and are shown beside them, not counted.';
const clippedRole = (role: string) => `${role}:clipped`;
const clippedMatrix = (id: string) => `${id}-clipped`;
const clipped = (attack: AttackSpec): AttackSpec => ({ ...attack, clip: true });

/** The clipped twin of a claim's source whose attack is unclipped, or null. */
function twinOf(from: ClaimSource, unclippedEvaluations: Set<string>, unclippedMatrices: Set<string>): ClaimSource | null {
  if ('evaluation' in from) return unclippedEvaluations.has(from.evaluation) ? { ...from, evaluation: clippedRole(from.evaluation) } : null;
  if ('matrix' in from) return unclippedMatrices.has(from.matrix) ? { ...from, matrix: clippedMatrix(from.matrix) } : null;
  return null;
}

/**
 * Adds, for every unclipped evaluation and matrix, a clipped twin (`<role>:clipped`,
 * `<matrix>-clipped`), and for every claim metric drawn from one, a `<metric>_clipped` twin with
 * the same paper value marked as the alternative reading. The trained models are shared, so the
 * twins cost only evaluations.
 */
export function withClippedAlternatives(experiment: ExperimentSpec): ExperimentSpec {
  const unclippedEvaluations = new Set(Object.entries(experiment.evaluations).filter(([, e]) => e.attack && !e.attack.clip).map(([role]) => role));
  const unclippedMatrices = new Set((experiment.matrices ?? []).filter((m) => !m.attack.clip).map((m) => m.id));
  const evaluations: Record<string, EvaluationRole> = { ...experiment.evaluations };
  for (const role of unclippedEvaluations) evaluations[clippedRole(role)] = { ...experiment.evaluations[role], attack: clipped(experiment.evaluations[role].attack!) };
  const matrices: MatrixSpec[] = (experiment.matrices ?? []).flatMap((m) => (unclippedMatrices.has(m.id) ? [m, { ...m, id: clippedMatrix(m.id), title: `${m.title}, clipped to [0, 1]`, attack: clipped(m.attack) }] : [m]));
  const claims: ClaimSpec[] = experiment.claims.map((claim) => {
    const metrics: Record<string, MetricClaim> = {};
    for (const [name, metric] of Object.entries(claim.metrics)) {
      metrics[name] = metric;
      const twin = twinOf(metric.from, unclippedEvaluations, unclippedMatrices);
      // Clean metrics do not depend on the attack: no twin for them.
      if (twin && !metric.from.metric.startsWith('clean_')) {
        const alternative = metric.alternative ? `${metric.alternative}; ${CLIPPED_ALTERNATIVE}` : CLIPPED_ALTERNATIVE;
        metrics[`${name}_clipped`] = { ...metric, from: twin, alternative };
      }
    }
    return { ...claim, metrics };
  });
  return { ...experiment, evaluations, matrices: experiment.matrices ? matrices : undefined, claims };
}
