// Line, heatmap and bar charts: a Vega-Lite spec per kind, compiled by vega-lite and drawn to SVG by
// a headless vega View (renderer 'none': no canvas, no DOM).
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BarChartFigure, ChartFigure, HeatmapFigure, LineChartFigure } from './types.js';
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
  const values = f.series.flatMap((s, order) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => ({ series: s.name, order, x, y })));
  const names = f.series.map((s) => s.name);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: f.title,
    width: 460,
    height: 280,
    config,
    data: { values },
    mark: { type: 'line', point: { size: 36 }, strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: f.xLabel, scale: { zero: false, nice: false } },
      y: { field: 'y', type: 'quantitative', title: f.yLabel, ...(f.yDomain ? { scale: { domain: f.yDomain, clamp: true } } : {}) },
      color: { field: 'series', type: 'nominal', title: null, sort: names, scale: { domain: names, scheme: names.length > 10 ? 'tableau20' : 'tableau10' }, legend: names.length > 1 ? { orient: 'right' } : null },
      order: { field: 'x', type: 'quantitative' },
    },
  } as TopLevelSpec;
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

/** The Vega-Lite spec for a chart figure (exported so a spec can be saved beside the figure or inspected in tests). */
export function chartSpec(figure: ChartFigure): TopLevelSpec {
  switch (figure.kind) {
    case 'line-chart':
      return lineSpec(figure);
    case 'heatmap':
      return heatmapSpec(figure);
    case 'bar-chart':
      return barSpec(figure);
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
