import { SMOKE_NOTE } from '../catalogue/experiments/types.js';
import { CLIPPED_ALTERNATIVE, CLIPPING_NOTE } from '../catalogue/experiments/clipping.js';
import type { FarmProfile } from '../schedule/farm-profile.js';
import type { Report } from './model.js';
import { checkTable, checkValueWords } from './checks.js';
import { provenanceLine } from './provenance.js';
import { formatMetric } from '../support/metric-format.js';

const percent = (x: number | null) => formatMetric(x);

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
          const show = (x: number | null) => formatMetric(x, m.unit);
          const paper = m.paper === null ? '–' : `${m.bound === 'atLeast' ? '≥ ' : m.bound === 'atMost' ? '≤ ' : ''}${show(m.paper)}`;
          const ours = m.n ? `${show(m.mean)} ± ${show(m.std)}` : '–';
          const inCi = m.paperInCi === null ? '–' : m.paperInCi ? 'yes' : 'no';
          lines.push(`| ${claim.id} | ${name} | ${paper} | ${ours} | ${Number.isFinite(m.ci95) ? `±${show(m.ci95)}` : '–'} | ${m.n} | ${m.status} | ${inCi} | ${m.alternative ? `alternative: ${m.alternative}` : 'decides the status'} |`);
        }
      }
      if (claims.some((c) => Object.values(c.metrics).some((m) => m.alternative?.includes(CLIPPED_ALTERNATIVE)))) lines.push('', CLIPPING_NOTE);
      const battery = report.checks.some((c) => c.experiment === experiment.id);
      lines.push('', `| claim | description | status |${battery ? ' gradient-masking checks |' : ''}`, `|---|---|---|${battery ? '---|' : ''}`);
      for (const claim of claims) lines.push(`| ${claim.id} | ${claim.description} | ${claim.status} |${battery ? ` ${claim.qualification ? `**qualified:** ${claim.qualification}` : 'its models pass'} |` : ''}`);
      lines.push('');
    }
    lines.push(...checkLines(report, experiment.id));
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

/** The experiment's gradient-masking checks: a pass/fail table per model × seed, then what each failure measured. */
function checkLines(report: Report, experiment: string): string[] {
  const checks = report.checks.filter((c) => c.experiment === experiment);
  if (checks.length === 0) return [];
  const { columns, rows } = checkTable(checks);
  const cell = (c: (typeof checks)[number] | null) => (c === null ? '–' : c.status === 'fail' ? `**fail** ${checkValueWords(c)}` : c.status === 'n/a' ? 'n/a' : `pass ${checkValueWords(c)}`);
  const lines = ['**Gradient-masking checks** (value vs threshold; README, "The gradient-masking battery")', '', `| model | seed | ${columns.join(' | ')} |`, `|---|---|${columns.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.model} | ${row.seed} | ${row.cells.map(cell).join(' | ')} |`);
  const failures = checks.filter((c) => c.status === 'fail');
  if (failures.length) lines.push('', ...failures.map((c) => `- ${c.model}, seed ${c.seed}, \`${c.id}\`: ${c.detail}`));
  lines.push('');
  return lines;
}

/** One line on where the sweep's time went (see schedule/farm-profile.ts). */
export function farmLine(f: FarmProfile): string {
  const b = f.breakdown;
  const s = (x: number) => `${x.toFixed(1)} s`;
  return (
    `Farm: ${f.units} units computed on ${f.workers} worker(s) in ${s(f.wallSeconds)} (Σ compute ${s(f.computeSeconds)}); ` +
    `overhead ${s(f.overheadSeconds)} per worker = ${(f.overheadFraction * 100).toFixed(1)}% of wall ` +
    `(data load ${s(b.dataLoad)}, worker start ${s(b.workerStart)}, hand-offs ${s(b.handoff)}, coordinator ${s(b.coordinator)}, tail ${s(b.tail)}).`
  );
}
