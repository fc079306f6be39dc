import chromium from '@sparticuz/chromium';
import { type Browser, chromium as playwright } from 'playwright-core';

/**
 * A real Chromium from npm alone: @sparticuz/chromium ships the browser (brotli-packed) inside
 * the package and unpacks it to a temp folder; playwright-core drives it. No system browser and
 * no download at run time.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await chromium.executablePath();
  // --single-process suits Lambda; here it makes closing a second browser context kill the browser.
  const args = chromium.args.filter((arg) => arg !== '--single-process');
  return playwright.launch({ executablePath, args, headless: true });
}
