import { join, resolve } from 'node:path';
import { chartSvg } from './charts.js';
import { imageGridSvg } from './image-grid.js';
import { checkId, svgToPng, writeAtomic } from './output.js';
import type { Figure, RenderedFigure } from './types.js';

/** Charts are vector drawings: their PNG is rasterised at twice the SVG's size so text stays crisp. */
export const CHART_PNG_ZOOM = 2;

/** Renders one figure to `<directory>/<id>.svg` and `<directory>/<id>.png` (each written atomically). */
export async function renderFigure(figure: Figure, directory: string): Promise<RenderedFigure> {
  checkId(figure.id);
  let svg: string;
  let zoom = 1;
  if (figure.kind === 'image-grid') {
    svg = imageGridSvg(figure).svg;
  } else {
    svg = await chartSvg(figure);
    zoom = CHART_PNG_ZOOM;
  }
  const { png } = await svgToPng(svg, zoom);
  const svgPath = resolve(join(directory, `${figure.id}.svg`));
  const pngPath = resolve(join(directory, `${figure.id}.png`));
  await writeAtomic(svgPath, svg);
  await writeAtomic(pngPath, png);
  return { id: figure.id, title: figure.title, caption: figure.caption, svgPath, pngPath };
}
