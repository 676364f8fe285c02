import { summarize } from '@advx/metrics';
import { sourceRole, type Plan } from '../catalogue/plan.js';
import { refName, type PresetName } from '../catalogue/experiments/types.js';
import type { FarmProfile } from '../schedule/farm-profile.js';
import type { UnitStatus } from '../schedule/status.js';
import type { ClaimReport, CurveReport, FigureLink, MatrixReport, MetricReport, Report } from './model.js';
import { checkReports, qualificationWords, qualificationsOf } from './checks.js';
import { provenanceOf } from './provenance.js';
import { claimStatus, claimVerdict, metricStatus, metricVerdict } from './verdict.js';

/** Mean over seeds of one metric of the units filling `role`. */
function roleValues(plan: Plan, statuses: Map<string, UnitStatus>, role: string, metric: string): { values: number[]; keys: string[] } {
  const values: number[] = [];
  const keys: string[] = [];
  for (const key of plan.roles.get(role)?.values() ?? []) {
    const value = statuses.get(key)?.result?.metrics[metric];
    if (typeof value === 'number' && Number.isFinite(value)) {
      values.push(value);
      keys.push(key);
    }
  }
  return { values, keys };
}

/** An experiment's matrices: each cell the mean over seeds of its planned evaluation. */
export function matrixReports(plan: Plan, statuses: Map<string, UnitStatus>): MatrixReport[] {
  return (plan.experiment.matrices ?? []).flatMap((matrix) =>
    matrix.metrics.map((metric) => ({
      id: `${matrix.id}-${metric}`,
      experiment: plan.experiment.id,
      title: `${matrix.title}: ${metric.replaceAll('_', ' ')}`,
      metric,
      models: matrix.models.map(refName),
      values: plan.matrixRoles[matrix.id].map((row) =>
        row.map((role) => {
          const { values } = roleValues(plan, statuses, role, metric);
          return values.length ? summarize(values).mean : null;
        }),
      ),
    })),
  );
}

/** An experiment's curves: each point the mean over seeds of its planned evaluation's adversarial error. */
export function curveReports(plan: Plan, statuses: Map<string, UnitStatus>): CurveReport[] {
  return (plan.experiment.curves ?? []).map((curve) => ({
    id: curve.id,
    experiment: plan.experiment.id,
    title: curve.title,
    series: plan.curveRoles[curve.id].map(({ model, attack, points }) => ({
      model: refName(model),
      attack,
      points: points.flatMap(({ eps, role }): [number, number][] => {
        const { values } = roleValues(plan, statuses, role, 'adv_error');
        return values.length ? [[eps, summarize(values).mean]] : [];
      }),
    })),
  }));
}

function experimentParts(plan: Plan, statuses: Map<string, UnitStatus>) {
  const { experiment } = plan;
  const checks = checkReports(plan, statuses);
  const claims: ClaimReport[] = experiment.claims.map((claim) => {
    const runs = new Set<string>();
    const metrics = Object.fromEntries(
      Object.entries(claim.metrics).map(([name, metric]) => {
        const { values, keys } = roleValues(plan, statuses, sourceRole(metric.from), metric.from.metric);
        keys.forEach((k) => runs.add(k));
        const summary = summarize(values);
        const verdict = metricVerdict(metric, summary.mean, summary.n);
        const report: MetricReport = {
          paper: metric.paper,
          tolerance: metric.tolerance ?? null,
          bound: metric.bound ?? null,
          mean: summary.mean,
          std: summary.std,
          ci95: summary.ci95,
          n: summary.n,
          values,
          verdict,
          status: metricStatus(verdict, metric.unit),
          paperInCi: metric.paper === null || !Number.isFinite(summary.ci95) || summary.n < 2 ? null : Math.abs(summary.mean - metric.paper) <= summary.ci95,
          alternative: metric.alternative ?? null,
          unit: metric.unit ?? 'fraction',
        };
        return [name, report];
      }),
    );
    const verdict = claimVerdict(metrics);
    const qualifiedBy = qualificationsOf(experiment, claim, checks);
    return { id: claim.id, experiment: experiment.id, description: claim.description, metrics, verdict, status: claimStatus(verdict), runs: [...runs], qualifiedBy, qualification: qualificationWords(qualifiedBy) };
  });
  return { claims, matrices: matrixReports(plan, statuses), curves: curveReports(plan, statuses), checks };
}

/** What a sweep knows about its own run besides the units: given to buildReport, so the report is built whole. */
export interface SweepFacts {
  /** Where the sweep's time went (null when it computed nothing). */
  farm: FarmProfile | null;
  /** The figures it draws (report/figures.ts), relative to the report. */
  figures: FigureLink[];
}

/** One report for one experiment or the whole catalogue (`experiment: 'all'`). */
export function buildReport(
  name: string,
  plans: Plan[],
  skipped: { id: string; title: string; section: string; reason: string }[],
  statuses: Map<string, UnitStatus>,
  wallSeconds: number,
  interrupted: boolean,
  preset: PresetName,
  seeds: number[],
  dataset: string,
  facts: SweepFacts = { farm: null, figures: [] },
): Report {
  const parts = plans.map((plan) => ({ plan, ...experimentParts(plan, statuses) }));
  const all = [...statuses.values()];
  const backends = new Set(all.map((s) => s.result?.backend).filter((b): b is string => !!b));
  return {
    experiment: name,
    preset,
    backend: backends.size === 0 ? 'none' : [...backends].join('+'),
    dataset,
    seeds,
    wallSeconds,
    provenance: provenanceOf(all),
    experiments: [
      ...parts.map(({ plan, claims, matrices, curves }) => ({
        id: plan.experiment.id,
        title: plan.experiment.title,
        section: plan.experiment.section,
        shortened: plan.experiment.scale[preset].shortened,
        seeds: plan.seeds,
        claims: claims.map((c) => c.id),
        omittedClaims: plan.experiment.omittedClaims ?? [],
        matrices: matrices.map((m) => m.id),
        curves: curves.map((c) => c.id),
        skipped: null,
      })),
      ...skipped.map((s) => ({ id: s.id, title: s.title, section: s.section, shortened: '', seeds: [], claims: [], omittedClaims: [], matrices: [], curves: [], skipped: s.reason })),
    ],
    claims: parts.flatMap((p) => p.claims),
    matrices: parts.flatMap((p) => p.matrices),
    curves: parts.flatMap((p) => p.curves),
    checks: parts.flatMap((p) => p.checks),
    figures: facts.figures,
    runs: all.map((s) => ({
      key: s.unit.key,
      role: s.unit.role,
      seed: s.unit.seed,
      status: s.state,
      resultPath: s.resultPath,
      attempts: s.attempts,
      error: s.error,
      backend: s.result?.backend ?? null,
      threads: s.result?.run?.threads ?? null,
      computeSeconds: s.result?.computeSeconds ?? null,
    })),
    farm: facts.farm,
    complete: !interrupted && all.every((s) => s.state === 'done' || s.state === 'cached'),
    failures: all.filter((s) => s.state === 'failed' || s.state === 'skipped').map((s) => ({ key: s.unit.key, role: s.unit.role, seed: s.unit.seed, error: s.error ?? '' })),
    generatedAt: new Date().toISOString(),
  };
}

