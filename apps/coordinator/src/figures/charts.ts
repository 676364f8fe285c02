// Line, heatmap and bar charts: a Vega-Lite spec per kind, compiled by vega-lite and drawn to SVG by
// a headless vega View (renderer 'none': no canvas, no DOM).
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BarChartFigure, ChartFigure, HeatmapFigure, LearningCurvesFigure, LineChartFigure } from './types.js';
import { FONT_FAMILY } from './output.js';

const config = {
  font: FONT_FAMILY,
  background: 'white',
  padding: 12,
  title: { fontSize: 15, anchor: 'start' as const, offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 220 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  view: { stroke: null },
};

export function percent(x: number, digits = 2): string {
  return `${(x * 100).toFixed(digits)}%`;
}

function lineSpec(f: LineChartFigure): TopLevelSpec {
  const values = f.series.flatMap((s, order) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => ({ series: s.name, panel: s.panel ?? '', order, x, y })));
  const names = [...new Set(f.series.map((s) => s.name))];
  const panels = [...new Set(f.series.map((s) => s.panel ?? ''))];
  const layer = {
    mark: { type: 'line', point: { size: 36 }, strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: f.xLabel, scale: { zero: false, nice: false } },
      y: { field: 'y', type: 'quantitative', title: f.yLabel, ...(f.yDomain ? { scale: { domain: f.yDomain, clamp: true } } : {}) },
      color: { field: 'series', type: 'nominal', title: null, sort: names, scale: { domain: names, scheme: names.length > 10 ? 'tableau20' : 'tableau10' }, legend: names.length > 1 ? { orient: 'right' } : null },
      order: { field: 'x', type: 'quantitative' },
    },
  };
  const common = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: f.title, config, data: { values } };
  // Panels keep each chart to a few lines (a curve of 9 attacks on 4 models is 36 lines on one chart otherwise).
  if (panels.length > 1) {
    return { ...common, columns: 2, facet: { field: 'panel', type: 'nominal', title: null, sort: panels }, spec: { width: 300, height: 200, ...layer } } as TopLevelSpec;
  }
  return { ...common, width: 460, height: 280, ...layer } as TopLevelSpec;
}

function heatmapSpec(f: HeatmapFigure): TopLevelSpec {
  if (f.values.length !== f.rows.length || f.values.some((row) => row.length !== f.columns.length)) {
    throw new Error(`heatmap ${f.id}: values must be ${f.rows.length} rows × ${f.columns.length} columns`);
  }
  const values = f.rows.flatMap((row, i) =>
    f.columns.map((column, j) => {
      const v = f.values[i][j];
      const known = typeof v === 'number' && Number.isFinite(v);
      return { row, column, value: known ? v : null, label: known ? percent(v) : 'n/a', dark: known && v > 0.55 };
    }),
  );
  const cell = Math.max(46, Math.min(90, Math.ceil(520 / Math.max(f.columns.length, 1))));
  const x = { field: 'column', type: 'nominal', title: f.columnLabel, sort: f.columns, axis: { orient: 'top', labelAngle: f.columns.some((c) => c.length > 8) ? -30 : 0 } };
  const y = { field: 'row', type: 'nominal', title: f.rowLabel, sort: f.rows };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: f.title,
    width: cell * f.columns.length,
    height: Math.max(32, Math.min(60, cell * 0.7)) * f.rows.length,
    config,
    data: { values },
    encoding: { x, y },
    layer: [
      // Missing cells: vega-lite drops null values from a continuous colour scale, so they get their own layer.
      { transform: [{ filter: 'datum.value === null' }], mark: { type: 'rect', stroke: 'white', strokeWidth: 1, color: '#eeeeee' } },
      {
        transform: [{ filter: 'datum.value !== null' }],
        mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            title: null,
            scale: { domain: [0, 1], scheme: 'blues' },
            legend: { format: '.0%', orient: 'right', gradientLength: 160 },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'label', type: 'nominal' },
          color: { condition: { test: 'datum.dark', value: 'white' }, value: 'black' },
        },
      },
    ],
  } as TopLevelSpec;
}

function barSpec(f: BarChartFigure): TopLevelSpec {
  if (f.values.length !== f.categories.length) throw new Error(`bar chart ${f.id}: ${f.categories.length} categories but ${f.values.length} values`);
  const integral = f.values.every((v) => Number.isInteger(v));
  const values = f.categories.map((category, i) => ({ category, value: f.values[i] }));
  const x = { field: 'category', type: 'nominal', title: f.xLabel, sort: f.categories, axis: { labelAngle: f.categories.some((c) => c.length > 6) ? -35 : 0 } };
  const y = { field: 'value', type: 'quantitative', title: f.yLabel };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: f.title,
    width: Math.max(240, Math.min(640, 44 * f.categories.length)),
    height: 260,
    config,
    data: { values },
    encoding: { x, y },
    layer: [
      { mark: { type: 'bar', color: '#4c78a8' } },
      { mark: { type: 'text', dy: -7, fontSize: 10 }, encoding: { text: { field: 'value', type: 'quantitative', format: integral ? 'd' : '.3~g' } } },
    ],
  } as TopLevelSpec;
}

const STAGE_LABELS = { 1: 'stage 1', 2: 'stage 2 (train + validation)' } as const;
const METRICS = [
  { id: 'loss', title: 'training loss' },
  { id: 'error', title: 'validation error' },
  // Short: a y-axis title longer than the chart is tall pushes its row apart. The caption says which batch.
  { id: 'pgd', title: 'PGD accuracy' },
] as const;
type Metric = (typeof METRICS)[number];

function metricValue(e: LearningCurvesFigure['curves'][number]['epochs'][number], id: Metric['id']): number | null {
  switch (id) {
    case 'loss':
      return e.trainLoss;
    case 'error':
      return e.validationError;
    case 'pgd':
      return e.pgdAccuracy;
  }
}

/**
 * The data rows of a learning-curves figure: one per run, metric and epoch (`junction` rows repeat
 * a run's last stage-1 point at the start of its stage-2 line, so the dashed line joins the solid
 * one; they are not epochs and draw no point).
 */
export function learningCurveRows(f: LearningCurvesFigure) {
  return f.curves.flatMap((c) =>
    METRICS.flatMap(({ id }) => {
      const points = c.epochs
        .map((e) => ({ ...e, value: metricValue(e, id) }))
        .filter((e): e is typeof e & { value: number } => e.value !== null && Number.isFinite(e.value));
      const row = (e: (typeof points)[number], stage: 1 | 2, junction: boolean) => ({
        panel: c.panel, seed: String(c.seed), run: c.run, metric: id, step: e.step, value: e.value,
        stage: STAGE_LABELS[stage], line: `${c.seed}|${c.run}|${stage}`, junction,
      });
      const rows = points.map((e) => row(e, e.stage, false));
      const lastOfStage1 = points.filter((e) => e.stage === 1).pop();
      if (lastOfStage1 && points.some((e) => e.stage === 2)) rows.push(row(lastOfStage1, 2, true));
      return rows;
    }),
  );
}

/**
 * A row per panel (model role), each a training-loss and a validation-error chart, and a PGD-accuracy
 * chart where the role's runs have a catastrophic-overfitting monitor. The rows are a
 * hand-made facet (vconcat of hconcats) rather than a Vega-Lite facet because the columns need
 * different axes (error in percent) and each row its own scales: a
 * softmax regression's loss and a maxout net's differ by an order of magnitude, and an
 * early-stopping run can be far longer than a fixed-schedule one. Colour is the seed, shared by
 * every panel; stage 2 is dashed.
 */
function learningCurvesSpec(f: LearningCurvesFigure): TopLevelSpec {
  const values = learningCurveRows(f);
  const seeds = [...new Set(f.curves.map((c) => c.seed))].sort((a, b) => a - b).map(String);
  const stages = [...new Set(values.map((v) => v.stage))].sort();
  const longest = Math.max(0, ...f.curves.map((c) => c.epochs.length));
  // Log scales show the end of a long run (where the paper's differences are) beside its first
  // epochs; a metric with a zero in it (a validation error on examples trained on) stays linear.
  const positive = (metric: string) => values.every((v) => v.metric !== metric || v.value > 0);
  const xTitle = stages.length > 1 ? 'epoch (stage 1, then stage 2)' : 'epoch';
  const chart = (panel: string, metric: Metric) => {
    const filter = { filter: { and: [{ field: 'panel', equal: panel }, { field: 'metric', equal: metric.id }] } };
    if (!values.some((v) => v.panel === panel && v.metric === metric.id)) {
      return { width: 280, height: 140, data: { values: [{ text: 'no validation set monitored' }] }, mark: { type: 'text', color: '#6a737d', fontSize: 12 }, encoding: { text: { field: 'text', type: 'nominal' } } };
    }
    // An accuracy's whole range, so a collapse to 0 looks like one.
    const scale = metric.id === 'pgd' ? { domain: [0, 1] } : positive(metric.id) ? { type: 'log' } : { zero: false };
    const y = {
      field: 'value',
      type: 'quantitative',
      title: metric.title,
      scale,
      ...(metric.id !== 'loss' ? { axis: { format: '.1~%' } } : {}),
    };
    return {
      width: 280,
      height: 140,
      transform: [filter],
      encoding: {
        x: { field: 'step', type: 'quantitative', title: xTitle, scale: { zero: false, nice: false }, axis: { format: 'd', tickMinStep: 1 } },
        y,
        color: { field: 'seed', type: 'nominal', title: 'seed', sort: seeds, scale: { domain: seeds, scheme: seeds.length > 10 ? 'tableau20' : 'tableau10' } },
      },
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.5, opacity: 0.85 },
          encoding: {
            detail: { field: 'line', type: 'nominal' },
            strokeDash: { field: 'stage', type: 'nominal', title: null, sort: stages, scale: { domain: stages, range: [[1, 0], [5, 3]].slice(0, stages.length) }, legend: stages.length > 1 ? {} : null },
            order: { field: 'step', type: 'quantitative' },
          },
        },
        ...(longest <= 60 ? [{ transform: [{ filter: '!datum.junction' }], mark: { type: 'point', filled: true, size: 18 } }] : []),
      ],
    };
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: f.title,
    config,
    data: { values },
    vconcat: f.panels.map((panel) => ({
      title: { text: panel, fontSize: 13, anchor: 'start' },
      // Loss and error always (the error says when there is no validation set); PGD accuracy only where a run monitored it.
      hconcat: METRICS.filter((m) => m.id !== 'pgd' || values.some((v) => v.panel === panel && v.metric === 'pgd')).map((metric) => chart(panel, metric)),
      resolve: { scale: { x: 'independent', y: 'independent' } },
    })),
    resolve: { scale: { color: 'shared', strokeDash: 'shared' } },
  } as TopLevelSpec;
}

/** The Vega-Lite spec for a chart figure (exported so a spec can be saved beside the figure or inspected in tests). */
export function chartSpec(figure: ChartFigure): TopLevelSpec {
  switch (figure.kind) {
    case 'line-chart':
      return lineSpec(figure);
    case 'heatmap':
      return heatmapSpec(figure);
    case 'bar-chart':
      return barSpec(figure);
    case 'learning-curves':
      return learningCurvesSpec(figure);
  }
}

export async function chartSvg(figure: ChartFigure): Promise<string> {
  const { spec } = compile(chartSpec(figure));
  const view = new View(parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
