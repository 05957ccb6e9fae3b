// Debian's Chromium driven by playwright-core (never a downloaded browser), and the checks every page
// must pass: no console errors, no horizontal overflow at phone width, screenshots for people to look at.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test/artifacts');
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A browser context whose pages record console errors and uncaught exceptions (a CSP violation is a
 * console error too). `errors` is what they recorded; tests expect it empty.
 */
export async function watchedContext(browser: Browser, viewport = DESKTOP): Promise<{ context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const errors: string[] = [];
  context.on('page', (page) => watch(page, errors));
  // Destructive forms ask first (data-confirm); the person in these tests says yes.
  context.on('page', (page) => page.on('dialog', (dialog) => void dialog.accept()));
  return { context, errors };
}

function watch(page: Page, errors: string[]): void {
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`${page.url()}: ${err.message}`));
}

export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/login')), page.click('main button[type=submit]')]);
}

/** How far the page is wider than the window (0 when nothing overflows sideways). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Screenshots `page` at desktop and phone width under test/artifacts/<name>-{desktop,phone}.png; returns each width's overflow. */
export async function screenshotBoth(page: Page, name: string): Promise<{ desktop: number; phone: number }> {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(ARTIFACTS, `${name}-desktop.png`), fullPage: true });
  const desktop = await horizontalOverflow(page);
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(ARTIFACTS, `${name}-phone.png`), fullPage: true });
  const phone = await horizontalOverflow(page);
  await page.setViewportSize(DESKTOP);
  return { desktop, phone };
}
