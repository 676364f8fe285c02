import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../catalogue/plan.js';
import { SMOKE_NOTE } from '../catalogue/experiments/types.js';
import { renderFigure, renderHtmlReport, type HtmlCheckTable, type HtmlReportInput, type RenderedFigure } from '../figures/index.js';
import type { UnitStatus } from '../schedule/status.js';
import { FIGURES_DIRECTORY, reportFigures, type ExperimentFigure } from './figures.js';
import type { Report } from './model.js';
import { provenanceLine } from './provenance.js';
import { checkTable, checkValueWords } from './checks.js';
import { checkTone, claimTone, metricTone, runTone } from './verdict.js';

function htmlChecks(report: Report, experiment: string): HtmlCheckTable | undefined {
  const checks = report.checks.filter((c) => c.experiment === experiment);
  if (checks.length === 0) return undefined;
  const { columns, rows } = checkTable(checks);
  return { columns, rows: rows.map((r) => ({ ...r, cells: r.cells.map((c) => (c ? { status: c.status, tone: checkTone(c.status), text: checkValueWords(c), detail: c.detail } : null)) })) };
}

/** The page's view of a report: its words, and the badge tones of its verdicts and unit states. */
function htmlInput(report: Report, figures: ExperimentFigure[], command: string): HtmlReportInput {
  return {
    title: `advx report: ${report.experiment}`,
    preset: report.preset,
    backend: report.backend,
    seeds: report.seeds,
    wallSeconds: report.wallSeconds,
    generatedAt: report.generatedAt,
    command,
    provenance: provenanceLine(report.provenance),
    notice: report.preset === 'smoke' ? SMOKE_NOTE : undefined,
    experiments: report.experiments.map((e) => ({
      id: e.id,
      title: e.title,
      section: e.section,
      shortened: e.shortened,
      skipped: e.skipped ?? undefined,
      claims: report.claims
        .filter((c) => c.experiment === e.id)
        .map((c) => ({ ...c, tone: claimTone(c.verdict), metrics: Object.fromEntries(Object.entries(c.metrics).map(([name, m]) => [name, { ...m, tone: metricTone(m.verdict) }])) })),
      checks: htmlChecks(report, e.id),
      figures: figures.filter((f) => f.experiment === e.id).map((f) => f.figure.id),
    })),
    runs: report.runs.map((r) => ({ ...r, tone: runTone(r.status) })),
  };
}

/** Renders every figure of the report to `<out>/figures/` and writes `<out>/report.html`. */
export async function writeFiguresAndHtml(out: string, report: Report, plans: Plan[], statuses: Map<string, UnitStatus>, command: string): Promise<RenderedFigure[]> {
  const directory = join(out, FIGURES_DIRECTORY);
  await mkdir(directory, { recursive: true });
  const figures = reportFigures(plans, statuses);
  const rendered: RenderedFigure[] = [];
  for (const { figure } of figures) rendered.push(await renderFigure(figure, directory));
  await renderHtmlReport(htmlInput(report, figures, command), rendered, join(out, 'report.html'));
  return rendered;
}
