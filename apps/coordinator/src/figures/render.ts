import { join, resolve } from 'node:path';
import { chartSvg } from './charts.js';
import { imageGridSvg } from './image-grid.js';
import { writeFileAtomic } from '../support/atomic-write.js';
import { checkId, svgToPng } from './output.js';
import type { Figure, RenderedFigure } from './types.js';

/** Every PNG is rasterised at twice its SVG's size so text stays crisp (image tiles stay nearest-neighbour). */
export const PNG_ZOOM = 2;

/** Where renderFigure writes a figure: `<directory>/<id>.svg` and `.png`. */
export function figureFiles(directory: string, id: string): { svg: string; png: string } {
  return { svg: join(directory, `${id}.svg`), png: join(directory, `${id}.png`) };
}

/** Renders one figure to `<directory>/<id>.svg` and `<directory>/<id>.png` (each written atomically). */
export async function renderFigure(figure: Figure, directory: string): Promise<RenderedFigure> {
  checkId(figure.id);
  const svg = figure.kind === 'image-grid' ? imageGridSvg(figure).svg : await chartSvg(figure);
  const { png } = await svgToPng(svg, PNG_ZOOM);
  const files = figureFiles(directory, figure.id);
  const svgPath = resolve(files.svg);
  const pngPath = resolve(files.png);
  await writeFileAtomic(svgPath, svg);
  await writeFileAtomic(pngPath, png);
  return { id: figure.id, title: figure.title, caption: figure.caption, svgPath, pngPath };
}
