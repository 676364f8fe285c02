// Image grids (Fig. 1, 2, 3, 5 of the paper): tiles are composed into one PNG with pngjs (nearest-neighbour
// upscaled), then wrapped in an SVG that embeds that PNG as a data URI and draws the title and the labels.
import { PNG } from 'pngjs';
import type { GridImage, ImageGridFigure } from './types.js';
import { FONT_FAMILY, escapeXml } from './output.js';

/** Tiles smaller than this (longest side, px) are upscaled by an integer factor. */
const MIN_TILE = 84;
const GAP = 10;
const MARGIN = 12;
const TITLE_SIZE = 15;
const LABEL_SIZE = 11;
const LINE_HEIGHT = 14;

/** Maps one image's values to 8-bit RGB, row-major. */
export function toRgb(image: GridImage): Uint8Array {
  const { pixels, width, height, channels } = image;
  if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height))) throw new Error(`image size ${width}×${height} is invalid`);
  if (pixels.length !== width * height * channels) throw new Error(`image has ${pixels.length} values, expected ${width}×${height}×${channels}`);
  let map: (v: number) => number;
  if (image.scale === 'diverging') {
    let max = 0;
    for (let i = 0; i < pixels.length; i++) {
      const a = Math.abs(pixels[i]);
      if (Number.isFinite(a) && a > max) max = a;
    }
    map = (v) => (Number.isFinite(v) && max > 0 ? 0.5 + v / (2 * max) : 0.5);
  } else {
    map = (v) => (Number.isFinite(v) ? v : 0);
  }
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const v = map(pixels[p * channels + (channels === 3 ? c : 0)]);
      out[p * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return out;
}

function wrap(label: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const paragraph of label.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > maxChars) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
  }
  return lines.map((l) => (l.length > maxChars + 2 ? `${l.slice(0, maxChars + 1)}…` : l));
}

export interface GridLayout {
  svg: string;
  width: number;
  height: number;
}

export function imageGridSvg(figure: ImageGridFigure): GridLayout {
  const { images } = figure;
  if (images.length === 0) throw new Error(`image grid ${figure.id} has no images`);
  const columns = Math.max(1, Math.min(Math.floor(figure.columns) || 1, images.length));
  const rows = Math.ceil(images.length / columns);
  const factor = (im: GridImage) => Math.max(1, Math.ceil(MIN_TILE / Math.max(im.width, im.height)));
  const cellW = Math.max(...images.map((im) => im.width * factor(im)));
  const cellH = Math.max(...images.map((im) => im.height * factor(im)));
  const maxChars = Math.max(8, Math.floor(cellW / (LABEL_SIZE * 0.6)));
  const labels = images.map((im) => (im.label ? wrap(im.label, maxChars) : []));
  const labelLines = Math.max(0, ...labels.map((l) => l.length));
  const rowH = cellH + (labelLines ? 4 + labelLines * LINE_HEIGHT : 0);

  const titleH = figure.title ? TITLE_SIZE + 12 : 0;
  const gridW = columns * cellW + (columns - 1) * GAP;
  const gridH = rows * rowH + (rows - 1) * GAP;
  const titleChars = figure.title.length * TITLE_SIZE * 0.62;
  const width = Math.ceil(Math.max(gridW, titleChars) + 2 * MARGIN);
  const height = Math.ceil(titleH + gridH + 2 * MARGIN);
  const gridX = Math.round((width - gridW) / 2);
  const gridY = MARGIN + titleH;

  // One composite PNG holding every tile at its place in the grid (white elsewhere).
  const png = new PNG({ width: gridW, height: gridH, colorType: 2, inputHasAlpha: false });
  png.data.fill(255);
  const texts: string[] = [];
  images.forEach((im, index) => {
    const col = index % columns;
    const row = Math.floor(index / columns);
    const k = factor(im);
    const tw = im.width * k;
    const th = im.height * k;
    const ox = col * (cellW + GAP) + Math.floor((cellW - tw) / 2);
    const oy = row * (rowH + GAP) + Math.floor((cellH - th) / 2);
    const rgb = toRgb(im);
    for (let y = 0; y < th; y++) {
      const sy = Math.floor(y / k);
      for (let x = 0; x < tw; x++) {
        const s = (sy * im.width + Math.floor(x / k)) * 3;
        const d = ((oy + y) * gridW + ox + x) * 4;
        png.data[d] = rgb[s];
        png.data[d + 1] = rgb[s + 1];
        png.data[d + 2] = rgb[s + 2];
        png.data[d + 3] = 255;
      }
    }
    const cx = gridX + col * (cellW + GAP) + cellW / 2;
    labels[index].forEach((line, i) => {
      const y = gridY + row * (rowH + GAP) + cellH + 4 + (i + 1) * LINE_HEIGHT - 3;
      texts.push(`<text x="${cx.toFixed(1)}" y="${y}" text-anchor="middle" font-size="${LABEL_SIZE}">${escapeXml(line)}</text>`);
    });
  });
  const dataUri = `data:image/png;base64,${PNG.sync.write(png, { colorType: 2 }).toString('base64')}`;

  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT_FAMILY)}">`,
    `<title>${escapeXml(figure.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    figure.title ? `<text x="${MARGIN}" y="${MARGIN + TITLE_SIZE}" font-size="${TITLE_SIZE}" font-weight="bold">${escapeXml(figure.title)}</text>` : '',
    `<image x="${gridX}" y="${gridY}" width="${gridW}" height="${gridH}" image-rendering="pixelated" style="image-rendering:pixelated" preserveAspectRatio="none" href="${dataUri}"/>`,
    `<g fill="#222">${texts.join('')}</g>`,
    '</svg>',
  ].join('\n');
  return { svg, width, height };
}
