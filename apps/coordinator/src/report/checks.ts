import { catastrophicOverfitting, maskingChecks, type CheckOutcome, type CheckStatus, type MaskingMeasurements } from '@advx/metrics';
import { monitorSeries } from '@advx/models';
import { refName, refRole, type ClaimSpec, type ExperimentSpec, type ModelRef } from '../catalogue/experiments/types.js';
import type { Plan } from '../catalogue/plan.js';
import type { UnitStatus } from '../schedule/status.js';
import type { MaskingArtifacts, TrainArtifacts } from '../units/artifacts.js';
import { isMpDbmTrain, type UnitResult } from '../units/types.js';
import type { CheckReport, ClaimQualification } from './model.js';

/**
 * The gradient-masking battery's checks of an experiment, per model × seed, from its masking units'
 * results (@advx/metrics maskingChecks decides them), and, for a model trained with a PGD monitor,
 * the catastrophic-overfitting check from its training history; seeds whose unit has not finished
 * have none.
 */
export function checkReports(plan: Plan, statuses: Map<string, UnitStatus>): CheckReport[] {
  const resultOf = (role: string, seed: number) => {
    const key = plan.roles.get(role)?.get(seed);
    return key ? statuses.get(key)?.result : undefined;
  };
  const rate = (role: string, seed: number) => {
    const value = resultOf(role, seed)?.metrics.adv_error;
    return typeof value === 'number' ? value : null;
  };
  return plan.batteryRoles.flatMap(({ model, role, transfers }) =>
    [...(plan.roles.get(role) ?? new Map<number, string>())].flatMap(([seed, key]) => {
      const result = statuses.get(key)?.result;
      if (!result) return [];
      // A transfer source whose evaluations have not finished is left out (the check says n/a without any).
      const transferRates = transfers.flatMap((t) => {
        const [fgsm, pgd] = [rate(t.fgsm, seed), rate(t.pgd, seed)];
        return fgsm === null || pgd === null ? [] : [{ from: refName(t.from), fgsm, pgd }];
      });
      const masking = maskingChecks(measurementsOf(result, transferRates)).map((check) => ({ ...check, experiment: plan.experiment.id, model, seed, run: key }));
      const trainKey = plan.roles.get(model)?.get(seed);
      const train = trainKey ? statuses.get(trainKey)?.result : undefined;
      const overfitting = train?.config.kind === 'train' && !isMpDbmTrain(train.config) && train.config.training.monitor ? [{ ...overfittingCheck(train.artifacts as TrainArtifacts | undefined), experiment: plan.experiment.id, model, seed, run: trainKey! }] : [];
      return [...masking, ...overfitting];
    }),
  );
}

/**
 * Catastrophic overfitting (Wong et al. 2020) judged on each stage of the protocol apart: stage 2
 * restarts from stage 1's best weights, so a fall across the restart is not a collapse. The worse
 * stage decides; its detail says which.
 */
function overfittingCheck(artifacts: TrainArtifacts | undefined): CheckOutcome<'catastrophic-overfitting'> {
  const series = monitorSeries(artifacts?.history ?? []);
  const stages = ([1, 2] as const)
    .map((stage) => ({ stage, check: catastrophicOverfitting(series.filter((p) => p.stage === stage)) }))
    .filter(({ check }) => check.status !== 'n/a');
  if (stages.length === 0) return { id: 'catastrophic-overfitting', status: 'n/a', value: null, threshold: null, detail: 'fewer than two PGD-monitor readings in a stage' };
  const worst = stages.find(({ check }) => check.status === 'fail') ?? stages.reduce((a, b) => (b.check.value - b.check.threshold > a.check.value - a.check.threshold ? b : a));
  return { id: 'catastrophic-overfitting', status: worst.check.status, value: worst.check.value, threshold: worst.check.threshold, detail: `stage ${worst.stage}: ${worst.check.detail}` };
}

function measurementsOf(result: UnitResult, transfers: MaskingMeasurements['transfers']): MaskingMeasurements {
  const m = result.metrics;
  // Results are schema-checked (units/schema.ts), so a masking result has its curves; none reads as no curve.
  const a = (result.artifacts as MaskingArtifacts | undefined) ?? { epsilons: [], fgsmCurve: [], pgdCurve: [] };
  const rate = (name: string) => m[name] ?? NaN;
  const eps = result.config.kind === 'masking' ? result.config.eps : NaN;
  return {
    count: rate('count'),
    eps,
    epsilons: a.epsilons,
    fgsmCurve: a.fgsmCurve,
    pgdCurve: a.pgdCurve,
    fgsm: rate('fgsm_error'),
    bim: rate('bim_error'),
    pgd: rate('pgd_error'),
    apgd: rate('apgd_error'),
    fgsmOnly: rate('fgsm_only'),
    square: rate('square_error'),
    pgdMore: rate('pgd_more_error'),
    apgdMore: rate('apgd_more_error'),
    unbounded: rate('unbounded_error'),
    zeroGradient: rate('zero_gradient'),
    transfers,
  };
}

/** The models (roles, members folded into their role) whose numbers a claim's metrics read: sources and targets of its evaluations and matrix cells, models of its analyses. */
export function modelsOfClaim(experiment: ExperimentSpec, claim: ClaimSpec): ModelRef[] {
  const models = Object.values(claim.metrics).flatMap(({ from }): ModelRef[] => {
    if ('model' in from) return [from.model];
    if ('matrix' in from) return [from.source, from.target];
    if ('analysis' in from) {
      const analysis = experiment.analyses?.[from.analysis];
      return analysis ? [analysis.model] : [];
    }
    const evaluation = experiment.evaluations[from.evaluation];
    return evaluation ? [evaluation.source, evaluation.target ?? evaluation.source] : [];
  });
  return [...new Set(models.map(refRole))];
}

/** Per model the claim reads, the checks it fails and on which seeds. */
export function qualificationsOf(experiment: ExperimentSpec, claim: ClaimSpec, checks: CheckReport[]): ClaimQualification[] {
  const models = new Set(modelsOfClaim(experiment, claim));
  const failing = new Map<string, ClaimQualification>();
  for (const c of checks) {
    if (c.status !== 'fail' || !models.has(c.model)) continue;
    const id = `${c.model} ${c.id}`;
    if (!failing.has(id)) failing.set(id, { model: c.model, check: c.id, seeds: [] });
    failing.get(id)!.seeds.push(c.seed);
  }
  return [...failing.values()];
}

/** "maxout-adv fails monotone-eps (seeds 1, 2)"; empty when nothing qualifies the claim. */
export function qualificationWords(qualifications: ClaimQualification[]): string {
  return qualifications.map((q) => `${q.model} fails ${q.check} (seed${q.seeds.length > 1 ? 's' : ''} ${q.seeds.join(', ')})`).join('; ');
}

/** The checks of an experiment as a table: one row per model × seed, one column per check id. */
export function checkTable(checks: CheckReport[]): { columns: string[]; rows: { model: string; seed: number; cells: (CheckReport | null)[] }[] } {
  const columns = [...new Set(checks.map((c) => c.id))];
  type Row = { model: string; seed: number; cells: (CheckReport | null)[] };
  const rows: Row[] = [];
  const bySeed = new Map<string, Map<number, Row>>();
  for (const c of checks) {
    if (!bySeed.has(c.model)) bySeed.set(c.model, new Map());
    const seeds = bySeed.get(c.model)!;
    if (!seeds.has(c.seed)) {
      const row: Row = { model: c.model, seed: c.seed, cells: columns.map(() => null) };
      seeds.set(c.seed, row);
      rows.push(row);
    }
    seeds.get(c.seed)!.cells[columns.indexOf(c.id)] = c;
  }
  return { columns, rows };
}

/** A check's value against its threshold in words: "12.0% (> 3.0%)" for rates. */
export function checkValueWords(check: { status: CheckStatus; value: number | null; threshold: number | null }): string {
  if (check.value === null) return '';
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return check.threshold === null ? pct(check.value) : `${pct(check.value)} vs ${pct(check.threshold)}`;
}
