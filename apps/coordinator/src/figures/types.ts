import type { MetricUnit } from '../support/metric-format.js';
/** One image of an image grid: row-major, channel-last (HWC) pixel values. */
export interface GridImage {
  pixels: Float32Array | number[];
  width: number;
  height: number;
  channels: 1 | 3;
  /** Text under the tile; '\n' forces a line break, long labels wrap to the tile width. */
  label?: string;
  /** 'unit': values in [0,1] shown as grey/RGB; 'diverging': signed values, 0 = mid grey, symmetric scale per image */
  scale?: 'unit' | 'diverging';
}

export interface ImageGridFigure {
  kind: 'image-grid';
  id: string;
  title: string;
  caption: string;
  columns: number;
  images: GridImage[];
}

export interface LineChartFigure {
  kind: 'line-chart';
  id: string;
  title: string;
  caption: string;
  xLabel: string;
  yLabel: string;
  /** With `panel`, one small chart per panel (e.g. per model), the series' names coloured alike in each. */
  series: { name: string; panel?: string; points: [number, number][] }[];
  yDomain?: [number, number];
}

export interface HeatmapFigure {
  kind: 'heatmap';
  id: string;
  title: string;
  caption: string;
  rowLabel: string;
  columnLabel: string;
  rows: string[];
  columns: string[];
  /** values[row][column], fractions in [0,1]; null = not measured. */
  values: (number | null)[][];
  format: 'percent';
}

export interface BarChartFigure {
  kind: 'bar-chart';
  id: string;
  title: string;
  caption: string;
  xLabel: string;
  yLabel: string;
  categories: string[];
  values: number[];
}

/** One training run's curve: its epochs over both stages, in order. */
export interface LearningCurve {
  /** Facet (a model role; ensemble members share their model's). */
  panel: string;
  seed: number;
  /** Distinguishes runs of one panel and seed (ensemble members); '' when there is one. */
  run: string;
  /** `pgdAccuracy`: the catastrophic-overfitting monitor's, null for a run without one. */
  epochs: { step: number; stage: 1 | 2; trainLoss: number; validationError: number | null; pgdAccuracy: number | null }[];
}

/**
 * Training loss and validation error per epoch: a row of two panels per `panels` entry, a line per
 * run; a third panel, PGD accuracy, in rows whose runs have a monitor.
 */
export interface LearningCurvesFigure {
  kind: 'learning-curves';
  id: string;
  title: string;
  caption: string;
  /** Row order. */
  panels: string[];
  curves: LearningCurve[];
}

export type Figure = ImageGridFigure | LineChartFigure | HeatmapFigure | BarChartFigure | LearningCurvesFigure;
export type ChartFigure = LineChartFigure | HeatmapFigure | BarChartFigure | LearningCurvesFigure;

export interface RenderedFigure {
  id: string;
  title: string;
  caption: string;
  svgPath: string;
  pngPath: string;
}

/** How a status badge is coloured; the page shows `status` words and never reads them. */
export type StatusTone = 'ok' | 'warn' | 'bad' | 'muted';

export interface HtmlMetric {
  paper: number | null;
  mean: number;
  std: number;
  ci95: number;
  n: number;
  status: string;
  tone: StatusTone;
  tolerance: number | null;
  unit?: MetricUnit;
}

export interface HtmlClaim {
  id: string;
  description: string;
  status: string;
  tone: StatusTone;
  /** Unit keys whose results fed this claim. */
  runs: string[];
  metrics: Record<string, HtmlMetric>;
  /** Why a reader should doubt the status (a model of the claim fails a gradient-masking check); empty when nothing does. */
  qualification?: string;
}

/** One cell of a check table: a badge and its numbers, the detail as its tooltip and below failures. */
export interface HtmlCheckCell {
  status: string;
  tone: StatusTone;
  text: string;
  detail: string;
}

/** Checks of an experiment: a row per model × seed, a column per check. */
export interface HtmlCheckTable {
  columns: string[];
  rows: { model: string; seed: number; cells: (HtmlCheckCell | null)[] }[];
}

export interface HtmlExperiment {
  id: string;
  title: string;
  section: string;
  shortened: string;
  /** Why the experiment did not run, e.g. 'CIFAR-10 absent'. */
  skipped?: string;
  claims: HtmlClaim[];
  /** The gradient-masking battery's checks (absent: the experiment has none). */
  checks?: HtmlCheckTable;
  /** Ids of figures (RenderedFigure.id) shown with this experiment. */
  figures: string[];
}

export interface HtmlRun {
  key: string;
  role: string;
  seed: number;
  status: string;
  tone: StatusTone;
  resultPath: string | null;
}

export interface HtmlReportInput {
  title: string;
  preset: string;
  backend: string;
  seeds: number[];
  wallSeconds: number;
  generatedAt: string;
  command: string;
  /** Backends, threads per unit and CPUs of the units, one line. */
  provenance?: string;
  /** Shown in bold above the claims (a smoke report's warning that its statuses say nothing about the paper). */
  notice?: string;
  experiments: HtmlExperiment[];
  runs: HtmlRun[];
}
