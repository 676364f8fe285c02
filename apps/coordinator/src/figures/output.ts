// Rasterisation shared by every figure kind: SVG → PNG through resvg
// with a font that is known to be on the machine (resvg draws no text at all without one).
import { existsSync } from 'node:fs';
import { renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';

/** Font stack written into every SVG; DejaVu Sans comes from Debian's fonts-dejavu-core. */
export const FONT_FAMILY = 'DejaVu Sans, Verdana, Arial, Helvetica, sans-serif';

const FONT_DIRS = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/dejavu', '/usr/local/share/fonts'];
const DEJAVU_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'];

let fontOptions: ResvgRenderOptions['font'] | undefined;
let warned = false;

function fonts(): ResvgRenderOptions['font'] {
  if (fontOptions) return fontOptions;
  const fontFiles = FONT_DIRS.flatMap((dir) => DEJAVU_FILES.map((f) => `${dir}/${f}`)).filter((p) => existsSync(p));
  if (fontFiles.length === 0 && !warned) {
    warned = true;
    console.warn('figures: DejaVu Sans not found (Debian package fonts-dejavu-core); PNG text falls back to system fonts and may be missing');
  }
  fontOptions = {
    fontFiles,
    // System fonts cover glyphs DejaVu lacks; resvg renders no text at all when it has no font.
    loadSystemFonts: true,
    defaultFontFamily: 'DejaVu Sans',
    sansSerifFamily: 'DejaVu Sans',
  };
  return fontOptions;
}

/** Rasterises an SVG document to PNG bytes; `zoom` multiplies its intrinsic width and height. */
export async function svgToPng(svg: string, zoom = 1): Promise<{ png: Buffer; width: number; height: number }> {
  // renderAsync runs on libuv's thread pool, so the coordinator's event loop keeps ticking.
  const image = await renderAsync(svg, {
    background: 'white',
    fitTo: zoom === 1 ? { mode: 'original' } : { mode: 'zoom', value: zoom },
    font: fonts(),
    imageRendering: 1, // OptimizeSpeed: nearest neighbour for embedded raster tiles
    shapeRendering: 2,
    textRendering: 1,
  });
  return { png: image.asPng(), width: image.width, height: image.height };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Figure ids become file names and HTML ids. */
export function checkId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new Error(`figure id "${id}" must match [A-Za-z0-9][A-Za-z0-9._-]* (it names files)`);
}
