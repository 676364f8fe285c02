// The sweep's report.html: one self-contained file (inline CSS, figures as PNG data URIs, no network).
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../support/atomic-write.js';
import { formatMetric } from '../support/metric-format.js';
import { escapeXml as esc } from './output.js';
import type { HtmlCheckTable, HtmlClaim, HtmlMetric, HtmlReportInput, HtmlRun, RenderedFigure, StatusTone } from './types.js';

const htmlId = (prefix: string, id: string) => `${prefix}-${id.replace(/\s+/g, '-')}`;

/** A relative URL from the report's folder to a file, each path segment URI-encoded. */
function link(from: string, target: string): string {
  return relative(from, resolve(target)).split(sep).map(encodeURIComponent).join('/');
}

const badge = (status: string, tone: StatusTone) => `<span class="status ${tone}">${esc(status)}</span>`;

function metricCells(name: string, m: HtmlMetric): string {
  const show = (x: number | null) => formatMetric(x, m.unit);
  const ours = m.n > 0 ? `${show(m.mean)} <span class="pm">± ${show(m.std)}</span>` : '–';
  const ci = m.n > 0 && Number.isFinite(m.ci95) ? `±${show(m.ci95)}` : '–';
  const tolerance = m.tolerance === null ? '' : ` title="tolerance ±${m.unit === 'number' ? show(m.tolerance) : `${(m.tolerance * 100).toFixed(2)} pp`}"`;
  return `<td class="metric">${esc(name)}</td><td class="num"${tolerance}>${m.paper === null ? '–' : show(m.paper)}</td><td class="num">${ours}</td><td class="num">${ci}</td><td class="num">${m.n}</td><td>${badge(m.status, m.tone)}</td>`;
}

function runLinks(claim: HtmlClaim, runs: Map<string, HtmlRun>): string {
  if (claim.runs.length === 0) return '';
  const items = claim.runs.map((key) => {
    const run = runs.get(key);
    const text = run ? `${run.role} · seed ${run.seed}` : key;
    return `<a href="#${esc(htmlId('run', key))}" title="${esc(key)}">${esc(text)}</a>`;
  });
  const list = `<span class="runs">${items.join(', ')}</span>`;
  return items.length > 6 ? `<details class="runs"><summary>${items.length} runs</summary>${list}</details>` : `<div class="runs">runs: ${list}</div>`;
}

function claimRows(claim: HtmlClaim, runs: Map<string, HtmlRun>): string {
  const metrics = Object.entries(claim.metrics);
  const span = Math.max(1, metrics.length);
  const head = `<td rowspan="${span}" class="claim"><a class="cid" href="#${esc(htmlId('claim', claim.id))}">${esc(claim.id)}</a><div class="desc">${esc(claim.description)}</div><div>${badge(claim.status, claim.tone)}</div>${claim.qualification ? `<div class="qualified"><strong>qualified:</strong> ${esc(claim.qualification)}</div>` : ''}${runLinks(claim, runs)}</td>`;
  if (metrics.length === 0) return `<tr id="${esc(htmlId('claim', claim.id))}">${head}<td colspan="6" class="muted">no metrics</td></tr>`;
  return metrics
    .map(([name, m], i) => (i === 0 ? `<tr id="${esc(htmlId('claim', claim.id))}" class="first">${head}${metricCells(name, m)}</tr>` : `<tr>${metricCells(name, m)}</tr>`))
    .join('\n');
}

/** The gradient-masking checks: a badge per model × seed × check, failures' details listed below. */
function checkTableHtml(table: HtmlCheckTable, experiment: string): string {
  const head = `<tr><th>model</th><th>seed</th>${table.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const rows = table.rows.map(
    (r) =>
      `<tr><td>${esc(r.model)}</td><td class="num">${r.seed}</td>${r.cells.map((c) => (c ? `<td title="${esc(c.detail)}">${badge(c.status, c.tone)} <span class="pm">${esc(c.text)}</span></td>` : '<td class="muted">–</td>')).join('')}</tr>`,
  );
  const failures = table.rows.flatMap((r) => r.cells.flatMap((c, i) => (c && c.status === 'fail' ? [`<li>${esc(r.model)}, seed ${r.seed}, <code>${esc(table.columns[i])}</code>: ${esc(c.detail)}</li>`] : [])));
  return [
    `<h3 id="${esc(htmlId('checks', experiment))}">Gradient-masking checks</h3>`,
    '<div class="scroll"><table class="checks"><thead>' + head + '</thead><tbody>',
    ...rows,
    '</tbody></table></div>',
    failures.length ? `<ul class="check-failures">${failures.join('')}</ul>` : '<p class="note">Every checked model passes every check.</p>',
  ].join('\n');
}

/** Reads a PNG's width and height from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  if (png.length < 24 || png.readUInt32BE(12) !== 0x49484452) throw new Error('not a PNG file');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** The SVG's intrinsic width (the size the figure is meant to be shown at; its PNG may be a 2× raster). */
function svgWidth(svg: string): number | null {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0] ?? '';
  const viewBox = /\bviewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)/.exec(root);
  const width = /\bwidth="([\d.]+)(px)?"/.exec(root);
  const w = Number(viewBox?.[1] ?? width?.[1]);
  return Number.isFinite(w) && w > 0 ? w : null;
}

async function figureHtml(figure: RenderedFigure, reportDir: string): Promise<string> {
  const png = await readFile(figure.pngPath);
  const size = pngSize(png);
  let display = size.width;
  try {
    display = Math.round(svgWidth(await readFile(figure.svgPath, 'utf8')) ?? size.width);
  } catch {
    // SVG missing: show the PNG at its own size.
  }
  const displayHeight = Math.round((size.height * display) / size.width);
  return [
    `<figure id="${esc(htmlId('fig', figure.id))}">`,
    `<img src="data:image/png;base64,${png.toString('base64')}" width="${display}" height="${displayHeight}" alt="${esc(figure.title)}">`,
    `<figcaption><a class="fid" href="#${esc(htmlId('fig', figure.id))}">${esc(figure.title)}</a> ${esc(figure.caption)} <span class="files">(<a href="${esc(link(reportDir, figure.svgPath))}">SVG</a> · <a href="${esc(link(reportDir, figure.pngPath))}">PNG</a>)</span></figcaption>`,
    '</figure>',
  ].join('\n');
}

const CSS = `
:root { --fg: #1d232a; --muted: #6a737d; --line: #d8dee4; --bg: #ffffff; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 21px; margin: 40px 0 6px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
a { color: #0b5cad; text-decoration: none; } a:hover { text-decoration: underline; }
code { font: 13px/1.4 "DejaVu Sans Mono", ui-monospace, monospace; background: var(--soft); padding: 1px 4px; border-radius: 3px; word-break: break-all; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0 8px; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
.summary { margin: 8px 0 0; } .summary .status { margin-right: 6px; }
nav.toc ol { margin: 6px 0; padding-left: 22px; }
.note { color: var(--muted); margin: 4px 0; }
.skipped { background: #fff8e1; border: 1px solid #f0d48a; padding: 8px 12px; border-radius: 4px; margin: 10px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
tr.first td { border-top: 2px solid var(--line); }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.claim { width: 36%; } td.metric { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 13px; }
.cid { font-weight: 700; } .desc { margin: 2px 0 4px; }
.pm { color: var(--muted); }
.runs { font-size: 12.5px; color: var(--muted); margin-top: 4px; } details.runs summary { cursor: pointer; }
.status { display: inline-block; font-size: 12.5px; padding: 1px 7px; border-radius: 10px; white-space: nowrap; }
.status.ok { background: #dcf5e3; color: #14532d; } .status.warn { background: #fff1d6; color: #7a4b00; }
.status.bad { background: #fde2e1; color: #8a1c17; } .status.muted { background: #eef0f2; color: #57606a; }
.figures { display: flex; flex-wrap: wrap; gap: 20px; }
figure { margin: 0; padding: 10px; border: 1px solid var(--line); border-radius: 6px; max-width: 100%; background: #fff; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13.5px; margin-top: 6px; max-width: 640px; } .fid { font-weight: 700; color: var(--fg); }
.files { color: var(--muted); white-space: nowrap; }
table.runs-table td:first-child { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 12.5px; word-break: break-all; }
.muted { color: var(--muted); }
.qualified { font-size: 13px; color: #8a1c17; margin: 2px 0; }
table.checks td { white-space: nowrap; padding: 4px 6px; } table.checks { font-size: 12.5px; width: auto; }
.scroll { overflow-x: auto; max-width: 100%; }
:target { outline: 3px solid #f5c542; outline-offset: 2px; }
`;

/** Writes the sweep's self-contained report.html (atomically). Figures are read from their rendered files. */
export async function renderHtmlReport(report: HtmlReportInput, figures: RenderedFigure[], path: string): Promise<void> {
  const reportDir = dirname(resolve(path));
  const figureById = new Map(figures.map((f) => [f.id, f]));
  const runs = new Map(report.runs.map((r) => [r.key, r]));
  const shown = new Set<string>();

  const sections: string[] = [];
  for (const experiment of report.experiments) {
    const parts = [
      `<section id="${esc(htmlId('exp', experiment.id))}">`,
      `<h2>${esc(experiment.title)} <span class="note">(${esc(experiment.section)})</span></h2>`,
      `<p class="note">Experiment <code>${esc(experiment.id)}</code>; preset scale: ${esc(experiment.shortened)}</p>`,
    ];
    if (experiment.skipped) parts.push(`<p class="skipped"><strong>Skipped:</strong> ${esc(experiment.skipped)}</p>`);
    if (experiment.claims.length) {
      parts.push(
        '<table class="claims"><thead><tr><th>claim</th><th>metric</th><th>paper</th><th>ours (mean ± std)</th><th>95% CI</th><th>n</th><th>status</th></tr></thead><tbody>',
        ...experiment.claims.map((c) => claimRows(c, runs)),
        '</tbody></table>',
      );
    }
    if (experiment.checks) parts.push(checkTableHtml(experiment.checks, experiment.id));
    const figs: string[] = [];
    for (const id of experiment.figures) {
      const figure = figureById.get(id);
      if (!figure) figs.push(`<p class="note">Figure <code>${esc(id)}</code> was not rendered.</p>`);
      else if (shown.has(id)) figs.push(`<p class="note">See <a href="#${esc(htmlId('fig', id))}">${esc(figure.title)}</a> above.</p>`);
      else {
        shown.add(id);
        figs.push(await figureHtml(figure, reportDir));
      }
    }
    if (figs.length) parts.push('<h3>Figures</h3>', `<div class="figures">${figs.join('\n')}</div>`);
    parts.push('</section>');
    sections.push(parts.join('\n'));
  }
  const rest = figures.filter((f) => !shown.has(f.id));
  if (rest.length) {
    const figs = await Promise.all(rest.map((f) => figureHtml(f, reportDir)));
    sections.push(`<section id="other-figures"><h2>Other figures</h2><div class="figures">${figs.join('\n')}</div></section>`);
  }

  const claims = report.experiments.flatMap((e) => e.claims);
  // Claims that hold are tallied as reproduced and those that do not as differs, whatever metrics they name.
  const tally = new Map<string, { tone: StatusTone; n: number }>();
  for (const c of claims) {
    const label = c.tone === 'ok' ? 'reproduced' : c.tone === 'warn' ? 'differs' : c.status;
    tally.set(label, { tone: c.tone, n: (tally.get(label)?.n ?? 0) + 1 });
  }

  const runRows = report.runs.map((r) => {
    const result = r.resultPath ? `<a href="${esc(link(reportDir, r.resultPath))}">result.json</a>` : '<span class="muted">–</span>';
    return `<tr id="${esc(htmlId('run', r.key))}"><td>${esc(r.key)}</td><td>${esc(r.role)}</td><td class="num">${r.seed}</td><td>${badge(r.status, r.tone)}</td><td>${result}</td></tr>`;
  });

  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(report.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${esc(report.title)}</h1>
<dl class="meta">
<dt>preset</dt><dd><code>${esc(report.preset)}</code></dd>
<dt>backend</dt><dd><code>${esc(report.backend)}</code></dd>
<dt>seeds</dt><dd>${esc(report.seeds.join(', '))}</dd>
<dt>wall time</dt><dd>${esc(report.wallSeconds.toFixed(1))} s</dd>
${report.provenance ? `<dt>provenance</dt><dd>${esc(report.provenance.replace(/^Provenance: /, ''))}</dd>\n` : ''}<dt>generated</dt><dd>${esc(report.generatedAt)}</dd>
<dt>command</dt><dd><code>${esc(report.command)}</code></dd>
</dl>
${report.notice ? `<p class="summary"><strong>${esc(report.notice)}</strong></p>\n` : ''}<p class="summary">${claims.length} claims: ${[...tally].map(([label, { tone, n }]) => `${badge(label, tone)}×${n}`).join(' ') || '–'}</p>
<nav class="toc"><ol>${report.experiments.map((e) => `<li><a href="#${esc(htmlId('exp', e.id))}">${esc(e.title)}</a> <span class="note">(${esc(e.section)})</span>${e.skipped ? ' <span class="status muted">skipped</span>' : ''}</li>`).join('')}${rest.length ? '<li><a href="#other-figures">Other figures</a></li>' : ''}<li><a href="#runs">Runs</a></li></ol></nav>
</header>
${sections.join('\n')}
<section id="runs">
<h2>Runs</h2>
<p class="note">${report.runs.length} units; each unit's result is <code>runs/&lt;key&gt;/result.json</code> beside this report.</p>
<table class="runs-table"><thead><tr><th>key</th><th>role</th><th>seed</th><th>status</th><th>result</th></tr></thead><tbody>
${runRows.join('\n')}
</tbody></table>
</section>
</main>
</body>
</html>
`;
  await writeFileAtomic(path, html);
}
