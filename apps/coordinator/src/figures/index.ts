// Figures and the HTML report of a sweep. One door: everything the coordinator needs is exported here.
export type {
  Figure,
  ImageGridFigure,
  LineChartFigure,
  HeatmapFigure,
  BarChartFigure,
  LearningCurvesFigure,
  LearningCurve,
  GridImage,
  RenderedFigure,
  HtmlReportInput,
  HtmlExperiment,
  HtmlClaim,
  HtmlCheckTable,
  HtmlCheckCell,
  HtmlMetric,
  HtmlRun,
  StatusTone,
} from './types.js';
export { figureFiles, renderFigure } from './render.js';
export { renderHtmlReport } from './html.js';
export { chartSpec } from './charts.js';
