import { summarize } from '@advx/metrics';
import type { Plan } from './plan.js';
import type { UnitStatus } from './scheduler.js';

export interface MetricReport {
  paper: number | null;
  tolerance: number | null;
  mean: number;
  std: number;
  ci95: number;
  n: number;
  values: number[];
  /** 'within tolerance' | 'off by +x.x pp (tolerance y pp)' | 'ours only' | 'no data'. */
  status: string;
}

export interface ClaimReport {
  id: string;
  description: string;
  metrics: Record<string, MetricReport>;
  status: string;
  /** Unit keys whose results fed this claim. */
  runs: string[];
}

export interface Report {
  experiment: string;
  title: string;
  section: string;
  preset: string;
  backend: string;
  dataset: string;
  seeds: number[];
  wallSeconds: number;
  shortened: string;
  claims: ClaimReport[];
  runs: { key: string; role: string; seed: number; status: string; resultPath: string | null; attempts: number; error: string | null; backend: string | null; computeSeconds: number | null }[];
  complete: boolean;
  failures: { key: string; role: string; seed: number; error: string }[];
  generatedAt: string;
}

const pp = (x: number) => `${(x * 100).toFixed(2)} pp`;

function metricStatus(paper: number | null, tolerance: number | undefined, mean: number, n: number): string {
  if (n === 0) return 'no data';
  if (paper === null) return 'ours only';
  const diff = mean - paper;
  if (tolerance !== undefined && Math.abs(diff) <= tolerance) return `within tolerance (±${pp(tolerance)})`;
  return `off by ${diff >= 0 ? '+' : '−'}${pp(Math.abs(diff))}${tolerance !== undefined ? ` (tolerance ±${pp(tolerance)})` : ''}`;
}

export function buildReport(plan: Plan, statuses: Map<string, UnitStatus>, wallSeconds: number, interrupted: boolean): Report {
  const { experiment, preset } = plan;
  const claims: ClaimReport[] = experiment.claims.map((claim) => {
    const runs = new Set<string>();
    const metrics = Object.fromEntries(
      Object.entries(claim.metrics).map(([name, metric]) => {
        const values: number[] = [];
        for (const key of plan.roles.get(metric.from.unit)?.values() ?? []) {
          const value = statuses.get(key)?.result?.metrics[metric.from.metric];
          if (typeof value === 'number') {
            values.push(value);
            runs.add(key);
          }
        }
        const summary = summarize(values);
        const report: MetricReport = {
          paper: metric.paper,
          tolerance: metric.tolerance ?? null,
          mean: summary.mean,
          std: summary.std,
          ci95: summary.ci95,
          n: summary.n,
          values,
          status: metricStatus(metric.paper, metric.tolerance, summary.mean, summary.n),
        };
        return [name, report];
      }),
    );
    const compared = Object.values(metrics).filter((m) => m.paper !== null && m.n > 0);
    const status =
      compared.length === 0 ? 'no data' : compared.every((m) => m.status.startsWith('within')) ? 'reproduced' : `differs: ${Object.entries(metrics).filter(([, m]) => m.status.startsWith('off')).map(([n]) => n).join(', ')}`;
    return { id: claim.id, description: claim.description, metrics, status, runs: [...runs] };
  });

  const all = [...statuses.values()];
  const backends = new Set(all.map((s) => s.result?.backend).filter((b): b is string => !!b));
  return {
    experiment: experiment.id,
    title: experiment.title,
    section: experiment.section,
    preset,
    backend: backends.size === 0 ? 'none' : [...backends].join('+'),
    dataset: experiment.dataset,
    seeds: plan.seeds,
    wallSeconds,
    shortened: experiment.scale[preset].shortened,
    claims,
    runs: all.map((s) => ({
      key: s.unit.key,
      role: s.unit.role,
      seed: s.unit.seed,
      status: s.state,
      resultPath: s.resultPath,
      attempts: s.attempts,
      error: s.error,
      backend: s.result?.backend ?? null,
      computeSeconds: s.result?.computeSeconds ?? null,
    })),
    complete: !interrupted && all.every((s) => s.state === 'done' || s.state === 'cached'),
    failures: all.filter((s) => s.state === 'failed' || (s.state === 'skipped' && s.error)).map((s) => ({ key: s.unit.key, role: s.unit.role, seed: s.unit.seed, error: s.error ?? '' })),
    generatedAt: new Date().toISOString(),
  };
}

const percent = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '–');

export function renderMarkdown(report: Report): string {
  const lines = [
    `# ${report.title}`,
    '',
    `Experiment \`${report.experiment}\` (paper ${report.section}), preset \`${report.preset}\`, backend \`${report.backend}\`, dataset ${report.dataset}, seeds ${report.seeds.join(', ')}, wall time ${report.wallSeconds.toFixed(1)} s.`,
    report.complete ? '' : '\n**Incomplete:** some units did not finish (see Failures).',
    `Preset scale: ${report.shortened}.`,
    '',
    '| claim | metric | paper | ours (mean ± std) | 95% CI | n | status |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const claim of report.claims) {
    for (const [name, m] of Object.entries(claim.metrics)) {
      const ours = m.n ? `${percent(m.mean)} ± ${percent(m.std)}` : '–';
      const ci = Number.isFinite(m.ci95) ? `±${percent(m.ci95)}` : '–';
      lines.push(`| ${claim.id} | ${name} | ${m.paper === null ? '–' : percent(m.paper)} | ${ours} | ${ci} | ${m.n} | ${m.status} |`);
    }
  }
  lines.push('', '| claim | description | status |', '|---|---|---|');
  for (const claim of report.claims) lines.push(`| ${claim.id} | ${claim.description} | ${claim.status} |`);
  if (report.failures.length) {
    lines.push('', '## Failures', '');
    for (const f of report.failures) lines.push(`- \`${f.key}\` (${f.role}, seed ${f.seed}): ${f.error}`);
  }
  lines.push('', `Runs: ${report.runs.length} units (${report.runs.filter((r) => r.status === 'cached').length} from cache); results under \`runs/<key>/result.json\`.`, '');
  return lines.join('\n');
}
