import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';

/**
 * The web page in a real headless Chromium (Debian's, driven by playwright-core), with JavaScript disabled.
 * `.ci/run` installs chromium and sets WIREFEED_REQUIRE_BROWSER=1; elsewhere the test is skipped when it is missing.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.WIREFEED_REQUIRE_BROWSER) throw new Error(`WIREFEED_REQUIRE_BROWSER is set but ${CHROMIUM} does not exist`);
const OUTPUT = resolve(import.meta.dirname, '../test-results');

describe.skipIf(!available)('the web page in Chromium', () => {
  let database: TestDatabase;
  let app: App;
  let served: ServedApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    database = await openTestDatabase();
    app = await openTestApp(database.handle, { ingest: true });
    // The sources page and search are on by default only on the embedded store; the suite's database is reached by URL.
    app.config.publish = { ...app.config.publish, showSources: true, search: true };
    served = await serveApp(app);
    base = served.base;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    await app?.close();
    await database?.close();
  });

  it('lists topics with subscribe links, and leads to a topic page, without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    expect(await page.title()).toBe('Wirefeed topics');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('h1').innerText()).toBe('Wirefeed');

    const topics = page.locator('section.topic');
    expect(await topics.count()).toBe(app.config.topics.length);
    const security = page.locator('#topic-japan-us-security');
    expect(await security.locator('h2').innerText()).toBe('Japan–US security');
    const subscribe = security.getByRole('list', { name: 'Subscribe' }).getByRole('link');
    expect(await subscribe.allInnerTexts()).toEqual(['RSS', 'Atom', 'JSON Feed']);
    expect(await subscribe.evaluateAll((links) => links.map((link) => link.getAttribute('href')))).toEqual(
      ['rss', 'atom', 'json'].map((format) => `${base}/topics/japan-us-security.${format}`),
    );
    expect(await security.locator('ol.headlines li').first().innerText()).toContain('U.S. Marines to Begin Okinawa-to-Guam Relocation in December');
    const alternates = await page.locator('head link[rel="alternate"]').evaluateAll((links) => links.map((link) => link.getAttribute('type')));
    expect(alternates).toHaveLength(app.config.topics.length * 3);

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: resolve(OUTPUT, 'index.png'), fullPage: true });

    await security.getByRole('heading').getByRole('link').click();
    await page.waitForURL(`${base}/topics/japan-us-security.html`);
    expect(await page.locator('h1').innerText()).toBe('Japan–US security');
    const stories = page.locator('article.story');
    expect(await stories.count()).toBe(2);
    const seed = stories.nth(1);
    expect(await seed.locator('h2').innerText()).toBe('Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination');
    expect(await seed.locator('.also-reported').innerText()).toBe('Also reported by: Arab News Japan, Japan Today');
    await page.screenshot({ path: resolve(OUTPUT, 'topic.png'), fullPage: true });
    await context.close();
  });

  it('searches from the form on the index, without JavaScript, and keeps a query that does not parse in the form', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('search').getByLabel('Search stories').fill('okinawa OR guam');
    await page.getByRole('search').getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(`${base}/search.html?q=okinawa+OR+guam`);
    expect(await page.locator('h1').innerText()).toBe('Search: okinawa OR guam');
    expect(await page.locator('article.story h2').allInnerTexts()).toContain('U.S. Marines to Begin Okinawa-to-Guam Relocation in December');
    expect(await page.getByLabel('Search stories').inputValue()).toBe('okinawa OR guam');
    const subscribe = page.getByRole('list', { name: 'Subscribe' }).getByRole('link');
    expect(await subscribe.evaluateAll((links) => links.map((link) => link.getAttribute('href')))).toEqual(
      ['rss', 'atom', 'json'].map((format) => `${base}/search.${format}?q=okinawa%20OR%20guam`),
    );
    await page.getByLabel('Search stories').fill('okinawa AND (guam');
    await page.getByRole('button', { name: 'Search' }).click();
    expect(await page.getByRole('alert').innerText()).toBe('q: missing ")" for "(" opened at column 13');
    expect(await page.getByLabel('Search stories').inputValue()).toBe('okinawa AND (guam');
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: resolve(OUTPUT, 'search.png'), fullPage: true });
    await context.close();
  });

  /** The lowest text contrast on the page (WCAG relative luminance), with the element that has it; run in the page. */
  const LOWEST_CONTRAST = `(() => {
    const channel = (value) => {
      const c = value / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    const rgb = (color) => (color.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r = 0, g = 0, b = 0]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const background = (element) => {
      for (let at = element; at; at = at.parentElement) {
        const [r, g, b, a = 1] = rgb(getComputedStyle(at).backgroundColor);
        if (a > 0) return [r, g, b];
      }
      return [255, 255, 255];
    };
    let lowest = { ratio: 21, element: '' };
    for (const element of document.querySelectorAll('body *')) {
      const own = [...element.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
      if (!own || element.getClientRects().length === 0) continue;
      const [l1, l2] = [luminance(rgb(getComputedStyle(element).color)), luminance(background(element))].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      if (ratio < lowest.ratio) lowest = { ratio, element: element.tagName.toLowerCase() + '.' + element.className + ': ' + element.textContent.trim().slice(0, 40) };
    }
    return lowest;
  })()`;
  const lowestContrast = (page: import('playwright-core').Page) => page.evaluate<{ ratio: number; element: string }>(LOWEST_CONTRAST);

  it('keeps every text at WCAG AA contrast (4.5:1) in light and dark mode, on every page', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme, javaScriptEnabled: false });
      const page = await context.newPage();
      for (const path of ['/', '/topics/japan-us-security.html', '/sources', '/sources/jiji-press', '/search.html?q=japan', '/search.html?q=%28japan']) {
        await page.goto(`${base}${path}`);
        const lowest = await lowestContrast(page);
        expect(lowest.ratio, `${colorScheme} ${path}: ${lowest.element}`).toBeGreaterThanOrEqual(4.5);
      }
      await context.close();
    }
  });

  it('fits a 390 px wide phone screen without sideways scrolling, dates unbroken', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false });
    const page = await context.newPage();
    mkdirSync(OUTPUT, { recursive: true });
    for (const [path, name] of [
      ['/', 'index-390'],
      ['/topics/japan-us-security.html', 'topic-390'],
      ['/sources', 'sources-390'],
      ['/sources/jiji-press', 'source-390'],
      ['/search.html?q=japan+AND+(defense+OR+security)', 'search-390'],
    ] as const) {
      await page.goto(`${base}${path}`);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth'), path).toBeLessThanOrEqual(390);
      await page.screenshot({ path: resolve(OUTPUT, `${name}.png`), fullPage: true });
    }
    await page.goto(`${base}/`);
    expect(await page.evaluate<string>("getComputedStyle(document.querySelector('time')).whiteSpace")).toBe('nowrap');
    await context.close();
  });

  it("shows times in the reader's zone with how long ago, and UTC when scripts are off", async () => {
    const withScripts = await browser.newContext({ timezoneId: 'Asia/Tokyo', locale: 'en-US' });
    const page = await withScripts.newPage();
    const blocked: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
    });
    await page.goto(`${base}/topics/japan-us-security.html`);
    const time = page.locator('article.story time').nth(1);
    expect(await time.getAttribute('datetime')).toBe('2024-06-01T22:40:00.000Z');
    expect(await time.innerText()).toMatch(/^Jun 2, 2024, 7:40\s?AM \(\d+ d ago\)$/);
    expect(await time.getAttribute('title')).toBe('2024-06-01 22:40 UTC');
    expect(blocked).toEqual([]);
    await withScripts.close();

    const without = await browser.newContext({ javaScriptEnabled: false });
    const plain = await without.newPage();
    await plain.goto(`${base}/topics/japan-us-security.html`);
    expect(await plain.locator('article.story time').nth(1).innerText()).toBe('2024-06-01 22:40 UTC');
    await without.close();
  });

  it('names an outlet once when it is its own author, and pages back to older stories', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/topics/japan-us-security.html`);
    for (const meta of await page.locator('article.story .meta').allInnerTexts()) expect(meta).not.toMatch(/^(.+) · \1 ·/);
    await page.goto(`${base}/topics/japan-us-security.html?limit=1`);
    expect(await page.locator('article.story').count()).toBe(1);
    const first = await page.locator('article.story h2').innerText();
    await page.getByRole('link', { name: 'Older stories' }).click();
    expect(await page.locator('article.story').count()).toBe(1);
    expect(await page.locator('article.story h2').innerText()).not.toBe(first);
    expect(await page.getByRole('link', { name: 'Older stories' }).count()).toBe(0);
    await context.close();
  });

  it('says on the index how the sources are doing, and lists them on /sources with a sparkline', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    expect(await page.locator('header .status').innerText()).toBe(`${app.config.sources.length} sources, all fetched — see sources.`);
    await page.locator('header .status').getByRole('link', { name: 'sources' }).click();
    await page.waitForURL(`${base}/sources`);
    const rows = page.locator('table.sources tbody tr');
    expect(await rows.count()).toBe(app.config.sources.length);
    const jiji = page.locator('#source-jiji-press');
    expect(await jiji.locator('.state').innerText()).toBe('ok');
    expect(await jiji.locator('svg.spark').getAttribute('aria-label')).toMatch(/^items per day over 14 days: (\d+, ){13}\d+$/);
    // Its status leads to its own page, with its fetch attempts.
    await jiji.locator('.state').click();
    await page.waitForURL(`${base}/sources/jiji-press`);
    expect(await page.locator('h1').innerText()).toContain('jiji-press');
    expect(await page.locator('table.sources tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('table.sources tbody tr').first().locator('td').nth(1).innerText()).toBe('ok');
    await context.close();
  });
});
