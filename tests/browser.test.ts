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
});
