import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';

/** Debian's Chromium (or CHROMIUM_PATH); tests that need it skip with a message when it is absent. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const noBrowser = !existsSync(chromiumPath);

export function warnIfNoBrowser(test: string): void {
  if (noBrowser) console.warn(`${test}: ${chromiumPath} is missing, so the browser check is skipped (apt-get install -y chromium fonts-dejavu-core)`);
}

/**
 * Opens a local HTML file in headless Chromium with every non-file, non-data request refused (the
 * machine has no network, and a self-contained report must not need one), runs `check`, closes.
 * `external` lists the refused requests.
 */
export async function withPage<T>(htmlPath: string, check: (page: Page, external: string[]) => Promise<T>): Promise<T> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const external: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      external.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    return await check(page, external);
  } finally {
    await browser.close();
  }
}
