import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noBrowser, warnIfNoBrowser, withPage } from './browser.js';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { Resvg } from '@resvg/resvg-js';
import { renderFigure, renderHtmlReport, type Figure, type HtmlReportInput, type RenderedFigure } from '../src/figures/index.js';

// ADVX_FIGURES_OUT=<dir> keeps the rendered files (and the browser screenshot) for a person to look at.
const keep = process.env.ADVX_FIGURES_OUT;
const out = keep ?? mkdtempSync(join(tmpdir(), 'advx-figures-'));
mkdirSync(out, { recursive: true });
afterAll(() => {
  if (!keep) rmSync(out, { recursive: true, force: true });
});

/** A 28×28 "digit": a bright ring on black, values in [0,1]. */
function digit(shift = 0): Float32Array {
  const px = new Float32Array(28 * 28);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
    const r = Math.hypot(x - 14 - shift, y - 14);
    px[y * 28 + x] = Math.max(0, 1 - Math.abs(r - 8) / 3);
  }
  return px;
}
const sign = (a: Float32Array) => Float32Array.from(a, (v, i) => (((i * 7919) % 13) - 6 + v * 4 > 0 ? 1 : -1));
const rgb = (w: number, h: number) => Float32Array.from({ length: w * h * 3 }, (_, i) => ((i % 3) + Math.floor(i / 3 / w) / h) / 3);

const x = digit();
const g = sign(x);
const figures: Figure[] = [
  {
    kind: 'image-grid',
    id: 'fig1-panda',
    title: 'Fast gradient sign method',
    caption: 'x, sign(∇x J), and x + ε·sign(∇x J).',
    columns: 4,
    images: [
      { pixels: x, width: 28, height: 28, channels: 1, label: 'x: "7" 57.7% confidence', scale: 'unit' },
      { pixels: g, width: 28, height: 28, channels: 1, label: 'sign(∇x J)', scale: 'diverging' },
      { pixels: Array.from(x, (v, i) => Math.min(1, Math.max(0, v + 0.25 * g[i]))), width: 28, height: 28, channels: 1, label: 'x + .25 sign: "3" 99.3%' },
      { pixels: rgb(32, 32), width: 32, height: 32, channels: 3, label: 'cifar tile' },
    ],
  },
  {
    kind: 'line-chart',
    id: 'fig4-logits',
    title: 'Logits vs epsilon',
    caption: 'Argument to the softmax as ε varies along the sign of the gradient.',
    xLabel: 'epsilon',
    yLabel: 'logit',
    series: Array.from({ length: 3 }, (_, c) => ({ name: `class ${c}`, points: Array.from({ length: 21 }, (_, i): [number, number] => [-1 + i / 10, (c - 1) * (-1 + i / 10) * 5 + c]) })),
  },
  {
    kind: 'heatmap',
    id: 'transfer-matrix',
    title: 'Transfer error rates',
    caption: 'Rows: source model; columns: target model.',
    rowLabel: 'source',
    columnLabel: 'target',
    rows: ['maxout', 'softmax', 'rbf'],
    columns: ['maxout', 'softmax', 'rbf'],
    values: [[0.894, 0.774, null], [0.623, 0.996, 0.12], [0.0452, 0.31, 0.5501]],
    format: 'percent',
  },
  {
    kind: 'bar-chart',
    id: 'rubbish-histogram',
    title: 'Rubbish class false positives',
    caption: 'Which class Gaussian noise is confidently assigned to.',
    xLabel: 'class',
    yLabel: 'count',
    categories: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    values: [3, 0, 12, 40, 7, 9, 1, 0, 88, 5],
  },
];

function readPng(path: string): PNG {
  const bytes = readFileSync(path);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return PNG.sync.read(bytes);
}

function distinctColours(png: PNG): number {
  const seen = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4) seen.add(png.data.readUInt32BE(i));
  return seen.size;
}

const svgWidth = (svg: string) => Number(/<svg\b[^>]*\bwidth="([\d.]+)"/.exec(svg)?.[1]);
const svgHeight = (svg: string) => Number(/<svg\b[^>]*\bheight="([\d.]+)"/.exec(svg)?.[1]);

const rendered = new Map<string, RenderedFigure>();

describe('renderFigure', () => {
  it.each(figures.map((f) => [f.kind, f] as const))('renders a %s to SVG and PNG', async (_kind, figure) => {
    const result = await renderFigure(figure, join(out, 'figures'));
    rendered.set(figure.id, result);
    expect(result).toMatchObject({ id: figure.id, title: figure.title, caption: figure.caption });
    expect(result.svgPath).toBe(join(out, 'figures', `${figure.id}.svg`));
    expect(result.pngPath).toBe(join(out, 'figures', `${figure.id}.png`));

    const svg = readFileSync(result.svgPath, 'utf8');
    expect(svg.trimStart().startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(() => new Resvg(svg)).not.toThrow(); // well-formed enough for a real SVG parser
    expect(svg).toContain(figure.title);
    const w = svgWidth(svg);
    const h = svgHeight(svg);
    expect(w).toBeGreaterThan(100);
    expect(h).toBeGreaterThan(80);

    const png = readPng(result.pngPath);
    const zoom = 2; // PNGs are rasterised at twice the SVG's size
    expect(png.width).toBeCloseTo(w * zoom, -1);
    expect(png.height).toBeCloseTo(h * zoom, -1);
    expect(distinctColours(png)).toBeGreaterThan(figure.kind === 'image-grid' ? 20 : 8);

    switch (figure.kind) {
      case 'image-grid':
        {
          // Long labels wrap onto several <text> lines under their tile.
          const lines = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&quot;/g, '"')).join(' ');
          for (const im of figure.images) expect(lines).toContain(im.label!);
        }
        expect(svg).toMatch(/href="data:image\/png;base64,/);
        // 4 tiles of 28×28 (CIFAR 32×32) upscaled 3× to 84 (96) px, then the 2× raster.
        expect(png.width).toBeGreaterThanOrEqual(2 * 4 * 84);
        expect(png.width).toBeLessThan(1400);
        expect(png.height).toBeGreaterThanOrEqual(2 * (96 + 14));
        expect(png.height).toBeLessThan(500);
        break;
      case 'line-chart':
        for (const s of [figure.xLabel, figure.yLabel, ...figure.series.map((s) => s.name)]) expect(svg).toContain(s);
        expect(png.width).toBeGreaterThan(900);
        expect(png.width).toBeLessThan(1600);
        break;
      case 'heatmap':
        for (const s of [figure.rowLabel, figure.columnLabel, ...figure.rows, '89.40%', '4.52%', '55.01%', 'n/a']) expect(svg).toContain(s);
        expect(svg).toContain('fill="#eeeeee"'); // the null cell is drawn, greyed
        break;
      case 'bar-chart':
        for (const s of [figure.xLabel, figure.yLabel, '88', '40']) expect(svg).toContain(s);
        break;
    }
  });

  it('draws text into the PNG (fonts found), not only shapes', async () => {
    // The same chart with and without its title: the title's glyphs must change the top rows of the PNG.
    const base = figures[3] as Extract<Figure, { kind: 'bar-chart' }>;
    const a = readPng((await renderFigure({ ...base, id: 'text-a', title: 'WWWWWWWWWWWW' }, out)).pngPath);
    const b = readPng((await renderFigure({ ...base, id: 'text-b', title: 'IIIIIIIIIIII' }, out)).pngPath);
    expect(a.width).toBe(b.width);
    let dark = 0;
    for (let i = 0; i < a.data.length; i += 4) if (a.data[i] < 100) dark++;
    expect(a.data.equals(b.data)).toBe(false);
    expect(dark).toBeGreaterThan(500);
  });

  it('maps diverging images around mid grey and rejects bad input', async () => {
    const r = await renderFigure(
      { kind: 'image-grid', id: 'diverging', title: '', caption: '', columns: 1, images: [{ pixels: [-2, 0, 2, 0], width: 2, height: 2, channels: 1, scale: 'diverging' }] },
      out,
    );
    const png = readPng(r.pngPath);
    const centre = (x: number, y: number) => png.data[(y * png.width + x) * 4];
    // 2×2 image upscaled 42× and centred; top-left tile pixel black, top-right mid grey, bottom-left white.
    const ox = (png.width - 168) / 2; // 84 px tile, 2× raster
    const oy = (png.height - 168) / 2;
    expect(centre(Math.round(ox + 20), Math.round(oy + 20))).toBeLessThan(5);
    expect(Math.abs(centre(Math.round(ox + 120), Math.round(oy + 20)) - 128)).toBeLessThan(3);
    expect(centre(Math.round(ox + 20), Math.round(oy + 120))).toBeGreaterThan(250);
    await expect(renderFigure({ ...(figures[0] as Extract<Figure, { kind: 'image-grid' }>), id: '../evil' }, out)).rejects.toThrow(/figure id/);
    await expect(
      renderFigure({ kind: 'image-grid', id: 'short', title: 't', caption: '', columns: 1, images: [{ pixels: [1, 2], width: 2, height: 2, channels: 1 }] }, out),
    ).rejects.toThrow(/expected 2×2×1/);
    await expect(renderFigure({ ...(figures[2] as Extract<Figure, { kind: 'heatmap' }>), id: 'ragged', values: [[0.1]] }, out)).rejects.toThrow(/rows/);
  });
});

const report: HtmlReportInput = {
  title: 'advx: Explaining and Harnessing Adversarial Examples',
  preset: 'cpu',
  backend: 'tensorflow',
  seeds: [1, 2, 3],
  wallSeconds: 1234.5,
  generatedAt: '2025-01-01T00:00:00.000Z',
  command: 'node dist/apps/coordinator/main.mjs --experiment all --preset cpu',
  experiments: [
    {
      id: 'fgsm-baseline',
      title: 'Fast gradient sign method on shallow models',
      section: '§4',
      shortened: '5 epochs instead of 300',
      claims: [
        {
          id: 'FGSM-SOFTMAX',
          description: 'A shallow softmax classifier has 99.9% error on FGSM examples at ε = 0.25.',
          status: 'reproduced',
          tone: 'ok',
          runs: ['k-train-1', 'k-eval-1', 'k-eval-2'],
          metrics: {
            advError: { paper: 0.999, mean: 0.994, std: 0.0031, ci95: 0.0077, n: 3, status: 'within tolerance (±2.00 pp)', tone: 'ok', tolerance: 0.02 },
            advConfidence: { paper: 0.796, mean: 0.712, std: 0.02, ci95: 0.05, n: 3, status: 'off by −8.40 pp (tolerance ±5.00 pp)', tone: 'warn', tolerance: 0.05 },
          },
        },
        { id: 'FGSM-MAXOUT', description: 'Maxout network: 89.4% error.', status: 'no data', tone: 'muted', runs: [], metrics: { advError: { paper: 0.894, mean: Number.NaN, std: Number.NaN, ci95: Number.NaN, n: 0, status: 'no data', tone: 'muted', tolerance: 0.03 } } },
      ],
      figures: ['fig1-panda', 'fig4-logits', 'transfer-matrix'],
    },
    { id: 'cifar', title: 'CIFAR-10 maxout', section: '§4', shortened: 'n/a', skipped: 'CIFAR-10 absent', claims: [], figures: [] },
    { id: 'rubbish', title: 'Rubbish class examples', section: '§11', shortened: '1000 samples', claims: [{ id: 'RUBBISH', description: 'Noise fools the model.', status: 'differs: fpRate', tone: 'warn', runs: ['k-eval-2'], metrics: {} }], figures: ['rubbish-histogram', 'missing-figure'] },
  ],
  runs: [
    { key: 'k-train-1', role: 'softmax', seed: 1, status: 'done', tone: 'ok', resultPath: join(out, 'runs', 'k-train-1', 'result.json') },
    { key: 'k-eval-1', role: 'softmax-fgsm', seed: 1, status: 'cached', tone: 'ok', resultPath: join(out, 'runs', 'k-eval-1', 'result.json') },
    { key: 'k-eval-2', role: 'softmax-fgsm', seed: 2, status: 'failed', tone: 'bad', resultPath: null },
  ],
};
const claimIds = report.experiments.flatMap((e) => e.claims.map((c) => c.id));

describe('renderHtmlReport', () => {
  const htmlPath = join(out, 'report.html');
  let html = '';
  beforeAll(async () => {
    for (const f of figures) if (!rendered.has(f.id)) rendered.set(f.id, await renderFigure(f, join(out, 'figures')));
    await renderHtmlReport(report, [...rendered.values()], htmlPath);
    html = readFileSync(htmlPath, 'utf8');
  });

  it('writes one self-contained file with claims, runs and figures', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    for (const id of claimIds) expect(html).toContain(`id="claim-${id}"`);
    for (const f of figures) expect(html).toContain(`<figure id="fig-${f.id}">`);
    for (const r of report.runs) expect(html).toContain(`id="run-${r.key}"`);
    expect(html).toContain('href="runs/k-train-1/result.json"');
    expect(html).toContain('href="#run-k-eval-2"');
    expect(html).toContain('89.40%');
    expect(html).toContain('99.40%');
    expect(html).toContain('CIFAR-10 absent');
    expect(html).toContain('missing-figure');
    // No network: nothing but data: URIs as sources, no external stylesheets or scripts.
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script|<link /);
  });

    warnIfNoBrowser('figures.test');

  it.skipIf(noBrowser)('loads in headless Chromium with every claim row and figure visible', async () => {
    await withPage(htmlPath, async (page, external) => {
      const state = (await page.evaluate(`(() => {
        const claims = ${JSON.stringify(claimIds)}.map((id) => !!document.getElementById('claim-' + id));
        const figures = [...document.querySelectorAll('figure')].map((f) => {
          const img = f.querySelector('img'); const svg = f.querySelector('svg');
          const box = (img || svg)?.getBoundingClientRect();
          return { id: f.id, natural: img ? img.naturalWidth : -1, complete: img ? img.complete : true, w: box ? box.width : 0, h: box ? box.height : 0, caption: f.querySelector('figcaption')?.textContent ?? '' };
        });
        const runs = [...document.querySelectorAll('tr[id^="run-"]')].map((r) => r.id);
        return { claims, figures, runs, title: document.title };
      })()`)) as { claims: boolean[]; figures: { id: string; natural: number; complete: boolean; w: number; h: number; caption: string }[]; runs: string[]; title: string };
      expect(state.title).toBe(report.title);
      expect(state.claims.every(Boolean)).toBe(true);
      expect(state.figures.map((f) => f.id).sort()).toEqual(figures.map((f) => `fig-${f.id}`).sort());
      for (const f of state.figures) {
        expect(f.complete, f.id).toBe(true);
        expect(f.natural, f.id).toBeGreaterThan(0);
        expect(f.w, f.id).toBeGreaterThan(50);
        expect(f.h, f.id).toBeGreaterThan(50);
        expect(f.caption.length, f.id).toBeGreaterThan(10);
      }
      expect(state.runs).toEqual(report.runs.map((r) => `run-${r.key}`));
      expect(external).toEqual([]);
      const shot = await page.screenshot({ path: join(out, 'report-screenshot.png'), fullPage: true });
      expect(PNG.sync.read(shot).height).toBeGreaterThan(900);
    });
  });
});
