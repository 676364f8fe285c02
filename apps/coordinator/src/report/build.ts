import { summarize } from '@advx/metrics';
import { curveRole, matrixRole, type Plan } from '../catalogue/plan.js';
import { SMOKE_NOTE, type MetricClaim, type PresetName } from '../catalogue/experiments/types.js';
import { CLIPPED_ALTERNATIVE, CLIPPING_NOTE } from '../catalogue/experiments/clipping.js';
import type { FarmProfile } from '../schedule/farm-profile.js';
import { provenanceLine, provenanceOf, type Provenance } from './provenance.js';
import type { UnitStatus } from '../schedule/scheduler.js';

export interface MetricReport {
  paper: number | null;
  tolerance: number | null;
  bound: 'atLeast' | 'atMost' | null;
  mean: number;
  std: number;
  ci95: number;
  n: number;
  values: number[];
  /** 'within tolerance (±x pp)' | 'off by +x pp (tolerance ±y pp)' | 'ours only' | 'no data' | bound checks. */
  status: string;
  /** Whether the paper's value lies inside our mean ± 95% CI (null without a paper value or with n < 2). */
  paperInCi: boolean | null;
  /** Another reading of the claim (e.g. clipped FGSM): shown, but not deciding the claim's status. */
  alternative: string | null;
}

export interface ClaimReport {
  id: string;
  experiment: string;
  description: string;
  metrics: Record<string, MetricReport>;
  status: string;
  /** Unit keys whose results fed this claim. */
  runs: string[];
}

export interface MatrixReport {
  id: string;
  experiment: string;
  title: string;
  metric: string;
  models: string[];
  /** [source][target] mean over seeds (null where no seed finished). */
  values: (number | null)[][];
}

export interface CurveReport {
  id: string;
  experiment: string;
  title: string;
  series: { model: string; attack: string; points: [eps: number, error: number][] }[];
}

export interface ExperimentReport {
  id: string;
  title: string;
  section: string;
  shortened: string;
  /** Seeds this experiment ran (fewer than the sweep's where the preset caps it). */
  seeds: number[];
  claims: string[];
  /** Claims a `--claims` sweep left out (their units were not planned). */
  omittedClaims: string[];
  matrices: string[];
  curves: string[];
  skipped: string | null;
}

export interface RunReport {
  key: string;
  role: string;
  seed: number;
  status: string;
  resultPath: string | null;
  attempts: number;
  error: string | null;
  backend: string | null;
  /** The kernels' threads the unit ran with (null: not finished, or recorded before threads were). */
  threads: number | null;
  computeSeconds: number | null;
}

export interface Report {
  experiment: string;
  preset: PresetName;
  backend: string;
  dataset: string;
  seeds: number[];
  wallSeconds: number;
  /** Backends, threads per unit and CPUs the units ran with: what bitwise comparison with another report needs. */
  provenance: Provenance;
  experiments: ExperimentReport[];
  claims: ClaimReport[];
  matrices: MatrixReport[];
  curves: CurveReport[];
  /** Rendered figures, paths relative to the report (filled in once they are drawn). */
  figures: { id: string; title: string; svg: string; png: string }[];
  runs: RunReport[];
  /** Where the sweep's time went (null when it computed nothing). */
  farm: FarmProfile | null;
  complete: boolean;
  failures: { key: string; role: string; seed: number; error: string }[];
  generatedAt: string;
}

const pp = (x: number) => `${(x * 100).toFixed(2)} pp`;

function metricStatus(claim: MetricClaim, mean: number, n: number): string {
  if (n === 0) return 'no data';
  if (claim.paper === null) return 'ours only';
  const diff = mean - claim.paper;
  if (claim.bound === 'atLeast') return diff >= 0 ? `holds (≥ ${pp(claim.paper).replace(' pp', '%')})` : `fails: ${pp(-diff)} below the bound`;
  if (claim.bound === 'atMost') return diff <= 0 ? `holds (≤ ${pp(claim.paper).replace(' pp', '%')})` : `fails: ${pp(diff)} above the bound`;
  if (claim.tolerance !== undefined && Math.abs(diff) <= claim.tolerance) return `within tolerance (±${pp(claim.tolerance)})`;
  return `off by ${diff >= 0 ? '+' : '−'}${pp(Math.abs(diff))}${claim.tolerance !== undefined ? ` (tolerance ±${pp(claim.tolerance)})` : ''}`;
}

const reproduced = (status: string) => status.startsWith('within') || status.startsWith('holds');

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

function experimentParts(plan: Plan, statuses: Map<string, UnitStatus>) {
  const { experiment } = plan;
  const claims: ClaimReport[] = experiment.claims.map((claim) => {
    const runs = new Set<string>();
    const metrics = Object.fromEntries(
      Object.entries(claim.metrics).map(([name, metric]) => {
        const { values, keys } = roleValues(plan, statuses, metric.from.unit, metric.from.metric);
        keys.forEach((k) => runs.add(k));
        const summary = summarize(values);
        const report: MetricReport = {
          paper: metric.paper,
          tolerance: metric.tolerance ?? null,
          bound: metric.bound ?? null,
          mean: summary.mean,
          std: summary.std,
          ci95: summary.ci95,
          n: summary.n,
          values,
          status: metricStatus(metric, summary.mean, summary.n),
          paperInCi: metric.paper === null || !Number.isFinite(summary.ci95) || summary.n < 2 ? null : Math.abs(summary.mean - metric.paper) <= summary.ci95,
          alternative: metric.alternative ?? null,
        };
        return [name, report];
      }),
    );
    const compared = Object.entries(metrics).filter(([, m]) => m.paper !== null && m.n > 0 && m.alternative === null);
    // A claim whose metrics are all ours-only (P17, P19) has data even though nothing is compared.
    const status = compared.length === 0 ? (Object.values(metrics).some((m) => m.n > 0) ? 'ours only' : 'no data') : compared.every(([, m]) => reproduced(m.status)) ? 'reproduced' : `differs: ${compared.filter(([, m]) => !reproduced(m.status)).map(([n]) => n).join(', ')}`;
    return { id: claim.id, experiment: experiment.id, description: claim.description, metrics, status, runs: [...runs] };
  });
  const matrices: MatrixReport[] = (experiment.matrices ?? []).flatMap((matrix) =>
    matrix.metrics.map((metric) => ({
      id: `${matrix.id}-${metric}`,
      experiment: experiment.id,
      title: `${matrix.title}: ${metric.replaceAll('_', ' ')}`,
      metric,
      models: matrix.models,
      values: matrix.models.map((source) =>
        matrix.models.map((target) => {
          const { values } = roleValues(plan, statuses, matrixRole(matrix.id, source, target), metric);
          return values.length ? summarize(values).mean : null;
        }),
      ),
    })),
  );
  const curves: CurveReport[] = (experiment.curves ?? []).map((curve) => ({
    id: curve.id,
    experiment: experiment.id,
    title: curve.title,
    series: curve.models.flatMap((model) =>
      curve.attacks.map((attack) => ({
        model,
        attack,
        points: curve.epsilons.flatMap((eps): [number, number][] => {
          const { values } = roleValues(plan, statuses, curveRole(curve.id, model, attack, eps), 'adv_error');
          return values.length ? [[eps, summarize(values).mean]] : [];
        }),
      })),
    ),
  }));
  return { claims, matrices, curves };
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
    figures: [],
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
    farm: null,
    complete: !interrupted && all.every((s) => s.state === 'done' || s.state === 'cached'),
    failures: all.filter((s) => s.state === 'failed' || (s.state === 'skipped' && s.error)).map((s) => ({ key: s.unit.key, role: s.unit.role, seed: s.unit.seed, error: s.error ?? '' })),
    generatedAt: new Date().toISOString(),
  };
}

const percent = (x: number | null) => (x !== null && Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '–');

export function renderMarkdown(report: Report): string {
  const lines = [
    `# advx report: ${report.experiment}`,
    '',
    `Preset \`${report.preset}\`, backend \`${report.backend}\`, dataset ${report.dataset}, seeds ${report.seeds.join(', ')}, wall time ${report.wallSeconds.toFixed(1)} s.`,
    '',
    provenanceLine(report.provenance),
    report.complete ? '' : '\n**Incomplete:** some units did not finish (see Failures).\n',
  ];
  if (report.preset === 'smoke') lines.push(`**${SMOKE_NOTE}**`, '');
  for (const experiment of report.experiments) {
    lines.push(`## ${experiment.title} (\`${experiment.id}\`, paper ${experiment.section})`, '');
    if (experiment.skipped) {
      lines.push(`Skipped: ${experiment.skipped}`, '');
      continue;
    }
    lines.push(`Preset scale: ${experiment.shortened}. Seeds: ${experiment.seeds.join(', ')}.`, '');
    if (experiment.omittedClaims.length) lines.push(`Restricted by \`--claims\` to ${experiment.claims.join(', ')}; not run: ${experiment.omittedClaims.join(', ')}.`, '');
    const claims = report.claims.filter((c) => c.experiment === experiment.id);
    if (claims.length) {
      lines.push('| claim | metric | paper | ours (mean ± std) | 95% CI | n | status | paper in CI | reading |', '|---|---|---|---|---|---|---|---|---|');
      for (const claim of claims) {
        for (const [name, m] of Object.entries(claim.metrics)) {
          const paper = m.paper === null ? '–' : `${m.bound === 'atLeast' ? '≥ ' : m.bound === 'atMost' ? '≤ ' : ''}${percent(m.paper)}`;
          const ours = m.n ? `${percent(m.mean)} ± ${percent(m.std)}` : '–';
          const inCi = m.paperInCi === null ? '–' : m.paperInCi ? 'yes' : 'no';
          lines.push(`| ${claim.id} | ${name} | ${paper} | ${ours} | ${Number.isFinite(m.ci95) ? `±${percent(m.ci95)}` : '–'} | ${m.n} | ${m.status} | ${inCi} | ${m.alternative ? `alternative: ${m.alternative}` : 'decides the status'} |`);
        }
      }
      if (claims.some((c) => Object.values(c.metrics).some((m) => m.alternative?.includes(CLIPPED_ALTERNATIVE)))) lines.push('', CLIPPING_NOTE);
      lines.push('', '| claim | description | status |', '|---|---|---|');
      for (const claim of claims) lines.push(`| ${claim.id} | ${claim.description} | ${claim.status} |`);
      lines.push('');
    }
    for (const matrix of report.matrices.filter((m) => m.experiment === experiment.id)) {
      lines.push(`**${matrix.title}** (rows: source of the adversarial examples, columns: target)`, '', `| source \\ target | ${matrix.models.join(' | ')} |`, `|---|${matrix.models.map(() => '---').join('|')}|`);
      matrix.values.forEach((row, i) => lines.push(`| ${matrix.models[i]} | ${row.map(percent).join(' | ')} |`));
      lines.push('');
    }
    for (const curve of report.curves.filter((c) => c.experiment === experiment.id)) {
      const epsilons = [...new Set(curve.series.flatMap((s) => s.points.map(([e]) => e)))].sort((a, b) => a - b);
      lines.push(`**${curve.title}** (error rate)`, '', `| model | attack | ${epsilons.map((e) => `ε=${e}`).join(' | ')} |`, `|---|---|${epsilons.map(() => '---').join('|')}|`);
      for (const s of curve.series) lines.push(`| ${s.model} | ${s.attack} | ${epsilons.map((e) => percent(s.points.find(([x]) => x === e)?.[1] ?? null)).join(' | ')} |`);
      lines.push('');
    }
  }
  if (report.figures.length) {
    lines.push('## Figures', '');
    for (const f of report.figures) lines.push(`- ${f.title}: [${f.png}](${f.png}) ([svg](${f.svg}))`);
    lines.push('');
  }
  if (report.failures.length) {
    lines.push('## Failures', '');
    for (const f of report.failures) lines.push(`- \`${f.key}\` (${f.role}, seed ${f.seed}): ${f.error}`);
    lines.push('');
  }
  lines.push(`Runs: ${report.runs.length} units (${report.runs.filter((r) => r.status === 'cached').length} from cache); results under \`runs/<key>/result.json\`.`, '');
  if (report.farm) lines.push(farmLine(report.farm), '');
  return lines.join('\n');
}

/** One line on where the sweep's time went (see farm-profile.ts). */
export function farmLine(f: FarmProfile): string {
  const b = f.breakdown;
  const s = (x: number) => `${x.toFixed(1)} s`;
  return (
    `Farm: ${f.units} units computed on ${f.workers} worker(s) in ${s(f.wallSeconds)} (Σ compute ${s(f.computeSeconds)}); ` +
    `overhead ${s(f.overheadSeconds)} per worker = ${(f.overheadFraction * 100).toFixed(1)}% of wall ` +
    `(data load ${s(b.dataLoad)}, worker start ${s(b.workerStart)}, hand-offs ${s(b.handoff)}, coordinator ${s(b.coordinator)}, tail ${s(b.tail)}).`
  );
}
