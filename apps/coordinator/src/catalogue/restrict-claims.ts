import { refRole, type ExperimentSpec, type ModelRef } from './experiments/types.js';

/**
 * The part of an experiment that the given claims need: their claims, the evaluations, matrices
 * and analyses their metrics read, and the models those read (with the models they retrain
 * from), and the gradient-masking battery on those models. Unit configs are untouched, so every unit keeps its key: a restricted sweep's finished
 * units are reused by a later full one, and the other way round. A researcher on a small budget
 * runs the claims that matter first (the paper protocol's P6 pair before its noise controls).
 * Figures are dropped (their analyses may be missing); learning curves still come with the models.
 * Returns null when the experiment has none of the claims.
 */
export function restrictToClaims(experiment: ExperimentSpec, claimIds: ReadonlySet<string>): ExperimentSpec | null {
  const claims = experiment.claims.filter((c) => claimIds.has(c.id));
  if (claims.length === 0) return null;
  const sources = claims.flatMap((c) => Object.values(c.metrics).map((m) => m.from));
  const readEvaluations = new Set(sources.flatMap((from) => ('evaluation' in from ? [from.evaluation] : [])));
  const readAnalyses = new Set(sources.flatMap((from) => ('analysis' in from ? [from.analysis] : [])));
  const readMatrices = new Set(sources.flatMap((from) => ('matrix' in from ? [from.matrix] : [])));

  const evaluations = Object.fromEntries(Object.entries(experiment.evaluations).filter(([role]) => readEvaluations.has(role)));
  const analyses = Object.fromEntries(Object.entries(experiment.analyses ?? {}).filter(([role]) => readAnalyses.has(role)));
  const matrices = (experiment.matrices ?? []).filter((m) => readMatrices.has(m.id));
  // No claim reads a curve (curves go beyond the paper).
  const curves: NonNullable<ExperimentSpec['curves']> = [];

  const needed = new Set<string>();
  const need = (ref: ModelRef | undefined) => {
    if (ref === undefined) return;
    const role = refRole(ref);
    if (needed.has(role)) return;
    needed.add(role);
    need(experiment.models[role]?.retrainFrom);
  };
  for (const from of sources) if ('model' in from) need(from.model);
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
