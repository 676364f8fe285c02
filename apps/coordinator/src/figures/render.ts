import { join, resolve } from 'node:path';
import { chartSvg } from './charts.js';
import { imageGridSvg } from './image-grid.js';
import { checkId, svgToPng, writeAtomic } from './output.js';
import type { Figure, RenderedFigure } from './types.js';

/** Every PNG is rasterised at twice its SVG's size so text stays crisp (image tiles stay nearest-neighbour). */
export const PNG_ZOOM = 2;

/** Renders one figure to `<directory>/<id>.svg` and `<directory>/<id>.png` (each written atomically). */
export async function renderFigure(figure: Figure, directory: string): Promise<RenderedFigure> {
  checkId(figure.id);
  const svg = figure.kind === 'image-grid' ? imageGridSvg(figure).svg : await chartSvg(figure);
  const { png } = await svgToPng(svg, PNG_ZOOM);
  const svgPath = resolve(join(directory, `${figure.id}.svg`));
  const pngPath = resolve(join(directory, `${figure.id}.png`));
  await writeAtomic(svgPath, svg);
  await writeAtomic(pngPath, png);
  return { id: figure.id, title: figure.title, caption: figure.caption, svgPath, pngPath };
}
