import { curveRole, matrixRole } from './plan.js';
import { refRole, type ExperimentSpec, type ModelRef } from './experiments/types.js';

/**
 * The part of an experiment that the given claims need: their claims, the evaluations, matrices,
 * curves and analyses their metrics read, and the models those read (with the models they retrain
 * from), and the gradient-masking battery on those models. Unit configs are untouched, so every unit keeps its key: a restricted sweep's finished
 * units are reused by a later full one, and the other way round. A researcher on a small budget
 * runs the claims that matter first (the paper protocol's P6 pair before its noise controls).
 * Figures are dropped (their analyses may be missing); learning curves still come with the models.
 * Returns null when the experiment has none of the claims.
 */
export function restrictToClaims(experiment: ExperimentSpec, claimIds: ReadonlySet<string>): ExperimentSpec | null {
  const claims = experiment.claims.filter((c) => claimIds.has(c.id));
  if (claims.length === 0) return null;
  const read = new Set(claims.flatMap((c) => Object.values(c.metrics).map((m) => m.from.unit)));

  const evaluations = Object.fromEntries(Object.entries(experiment.evaluations).filter(([role]) => read.has(role)));
  const analyses = Object.fromEntries(Object.entries(experiment.analyses ?? {}).filter(([role]) => read.has(role)));
  const matrices = (experiment.matrices ?? []).filter((m) => m.models.some((s) => m.models.some((t) => read.has(matrixRole(m.id, s, t)))));
  const curves = (experiment.curves ?? []).filter((c) => c.models.some((model) => c.attacks.some((a) => c.epsilons.some((eps) => read.has(curveRole(c.id, model, a, eps))))));

  const needed = new Set<string>();
  const need = (ref: ModelRef | undefined) => {
    if (ref === undefined) return;
    const role = refRole(ref);
    if (needed.has(role)) return;
    needed.add(role);
    need(experiment.models[role]?.retrainFrom);
  };
  for (const e of Object.values(evaluations)) [e.source, e.target, e.reference].forEach(need);
  for (const a of Object.values(analyses)) need(a.model);
  for (const m of matrices) m.models.forEach(need);
  for (const c of curves) c.models.forEach(need);
  const models = Object.fromEntries(Object.entries(experiment.models).filter(([role]) => needed.has(role)));

  // The battery stays on the models kept, with the transfer sources that are kept anyway: it qualifies
  // the claims kept and never adds a model to train.
  const kept = (ref: ModelRef) => needed.has(refRole(ref));
  const battery = experiment.battery && experiment.battery.models.some(kept)
    ? {
        ...experiment.battery,
        models: experiment.battery.models.filter(kept),
        transferFrom: Object.fromEntries(Object.entries(experiment.battery.transferFrom ?? {}).filter(([model]) => kept(model)).map(([model, sources]) => [model, (sources ?? []).filter(kept)])),
      }
    : undefined;

  const omittedClaims = experiment.claims.filter((c) => !claimIds.has(c.id)).map((c) => c.id);
  return { ...experiment, models, evaluations, analyses, matrices, curves, battery, claims, omittedClaims, figures: [] };
}

/** Every claim id of these experiments, for the flag's error message. */
export function claimIdsOf(experiments: ExperimentSpec[]): string[] {
  return [...new Set(experiments.flatMap((e) => e.claims.map((c) => c.id)))];
}
