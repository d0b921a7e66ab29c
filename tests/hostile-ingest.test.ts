/**
 * Hostile and broken sources through the whole pipeline over real HTTP, the real store and the real feed server:
 * one bad item never costs the others, a failure can always be recorded, big documents are cut and stored in
 * chunks, a pathological document does not stop the server from answering, and no item breaks a published feed.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { sources as sourcesTable } from '../src/db/schema.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { type ServedApp, serveApp } from './helpers/app.js';
import { writeConfigDir } from './helpers/config.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';
import { assertSafeFeed } from './helpers/feed-safety.js';
import { type FixtureServer, startFixtureServer } from './helpers/fixture-server.js';

const rssItems = (count: number, prefix: string, description = (index: number) => `Japan defense item ${index}`) =>
  Array.from(
    { length: count },
    (_, index) =>
      `<item><title>${prefix} ${index}</title><link>https://outlet.example/${prefix}/${index}</link><pubDate>Sun, 02 Jun 2024 08:06:19 GMT9</pubDate><description>${description(index)}</description></item>`,
  ).join('');
const rss = (items: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title><link>https://outlet.example/</link><description>x</description>${items}</channel></rss>`;

const DOCUMENTS: Record<string, string> = {
  '/nul.json': JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: 'NUL wire',
    items: [
      { id: 'nul-1', url: 'https://nul.example/1', title: 'x \u0000 Japan defense', content_text: 'a\u0000b', date_published: '2024-06-02T00:00:00Z' },
      { id: 'nul-2', url: 'https://nul.example/2', title: 'Japan defense talks \u202Egnp.exe', date_published: '2024-06-02T00:01:00Z', tags: ['a\u0000b'] },
    ],
  }),
  '/nul-root.xml': '<wire\u0000>broken</wire\u0000>',
  '/five-thousand.rss': rss(rssItems(5_000, 'five')),
  '/long-articles.rss': rss(rssItems(40, 'long', (index) => `Japan defense article ${index}: ${`paragraph ${index} `.repeat(12_000)}`)),
  '/hundred-thousand.rss': rss(rssItems(100_000, 'many')),
  '/huge-description.rss': rss(rssItems(2, 'huge', (index) => (index === 0 ? `Japan defense ${'word '.repeat(2_000_000)}` : 'Japan defense small'))),
  '/pathological.xml': `<rss version="2.0"><channel>${'<a '.repeat(350_000)}`,
  '/payloads.rss': rss(`
<item><title>Japan defense ]]&gt; one ]]&gt; two</title><link>https://outlet.example/p1</link><pubDate>Sun, 02 Jun 2024 08:06:19 GMT9</pubDate></item>
<item><title>Japan ]]&amp;gt;&amp;lt;/title&amp;gt;&amp;lt;description&amp;gt;&amp;lt;img src=x onerror=alert(1)&amp;gt;</title>
  <link>https://outlet.example/p2</link><pubDate>Sun, 02 Jun 2024 09:00:00 +0900</pubDate><category>a&amp;lt;b</category></item>`),
  '/long-guid.rss': rss(
    `<item><title>Japan defense long guid</title><guid isPermaLink="false">${'g'.repeat(5_000)}</guid><link>https://outlet.example/${'p'.repeat(3_000)}</link></item>`,
  ),
};

describe('hostile sources through ingest, store and publish', () => {
  let database: TestDatabase;
  let fixtures: FixtureServer;
  let app: App;
  let served: ServedApp;
  let base: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    fixtures = await startFixtureServer(Object.fromEntries(Object.entries(DOCUMENTS).map(([path, body]) => [path, { body, contentType: 'application/xml' }])));
    const source = (id: string, path: string) => `  - { id: ${id}, url: "${fixtures.url}${path}", allowPrivateNetwork: true }\n`;
    const configDir = writeConfigDir({
      'sources.yml': `sources:\n${Object.keys(DOCUMENTS)
        .map((path) => source(path.slice(1).replace(/\..*$/, ''), path))
        .join('')}`,
      'topics.yml': `topics:\n  - { slug: japan-defense, title: Japan defense, query: 'japan defense', limit: 500 }\n`,
      'fetch.yml': 'fetch:\n  maxItems: 6000\n  maxSize: 40MiB\n  timeout: 60s\n',
    });
    app = await openApp({ configDir, database: database.handle });
    served = await serveApp(app);
    base = served.base;
  });

  afterAll(async () => {
    await served?.stop();
    await app?.close();
    await fixtures?.close();
    await database?.close();
  });

  const ingest = (...ids: string[]) =>
    ingestSources(
      ingestContext(app),
      app.config.sources.filter((source) => ids.includes(source.id)),
    );
  const itemCount = async (prefix: string) =>
    Number(
      (await database.handle.rows<{ count: string }>(sql`select count(*) as count from items where url like ${`https://outlet.example/${prefix}/%`}`))[0]!
        .count,
    );

  it('a NUL in one JSON Feed item costs nothing: both items stored, cleaned; bidi overrides leave titles', async () => {
    const summary = await ingest('nul');
    expect(summary).toMatchObject({ ok: 1, failed: 0, itemsNew: 2 });
    const titles = await database.handle.rows<{ title: string; content_text: string | null; categories: string[] }>(
      sql`select title, content_text, categories from items where source_id = 'nul' order by title`,
    );
    expect(titles).toEqual([
      { title: 'Japan defense talks gnp.exe', content_text: null, categories: ['ab'] },
      { title: 'x Japan defense', content_text: 'ab', categories: [] },
    ]);
  });

  it('a failure whose message quotes a NUL is recorded and charged, with backoff', async () => {
    const summary = await ingest('nul-root');
    expect(summary.failed).toBe(1);
    const [row] = await database.handle.db.select().from(sourcesTable).where(eq(sourcesTable.id, 'nul-root'));
    expect(row!.errorCount).toBe(1);
    expect(row!.lastError).toMatch(/^not a feed: unexpected root element/);
    expect(row!.lastError).not.toContain('\u0000');
    expect(row!.nextCheckAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('stores 5,000 new items of one document (chunked writes stay under the bind-parameter limit)', async () => {
    expect(await ingest('five-thousand')).toMatchObject({ ok: 1, itemsNew: 5_000 });
    expect(await itemCount('five')).toBe(5_000);
    expect(await ingest('five-thousand')).toMatchObject({ notModified: 1 });
  });

  it('stores 40 articles of 150 KB each from one document, in rounds of statements bounded by their text', async () => {
    expect(await ingest('long-articles')).toMatchObject({ ok: 1, failed: 0, itemsNew: 40 });
    expect(await itemCount('long')).toBe(40);
  });

  it('cuts a 100,000-item document to fetch.maxItems, and a 10 MB description to fetch.maxItemSize', async () => {
    expect(await ingest('hundred-thousand', 'huge-description')).toMatchObject({ ok: 2, failed: 0, itemsNew: 6_002 });
    expect(await itemCount('many')).toBe(6_000);
    const [huge] = await database.handle.rows<{ length: number }>(
      sql`select length(content_html) as length from items where url = 'https://outlet.example/huge/0'`,
    );
    expect(Number(huge!.length)).toBeLessThanOrEqual(256 * 1024);
    expect(Number(huge!.length)).toBeGreaterThan(200_000);
  });

  it('keeps an item whose guid and link are longer than an index entry can hold', async () => {
    expect(await ingest('long-guid')).toMatchObject({ ok: 1, itemsNew: 1 });
    expect(await ingest('long-guid')).toMatchObject({ notModified: 1 });
  });

  it('answers /healthz while a pathological document is read (to no items), and other sources still store', async () => {
    let answered = 0;
    let ingesting = true;
    const poll = (async () => {
      while (ingesting) {
        const response = await fetch(`${base}/healthz`);
        if (response.status === 200) answered++;
        await response.text();
      }
    })();
    const summary = await ingest('pathological', 'payloads');
    ingesting = false;
    await poll;
    expect(summary.outcomes.find((outcome) => outcome.sourceId === 'pathological')).toMatchObject({ itemsNew: 0 });
    expect(summary.outcomes.find((outcome) => outcome.sourceId === 'payloads')).toMatchObject({ outcome: 'ok', itemsNew: 2 });
    expect(answered).toBeGreaterThan(0);
  });

  it('publishes every stored item in well-formed, script-free feeds', async () => {
    for (const format of ['rss', 'atom', 'json'] as const) {
      const response = await fetch(`${base}/topics/japan-defense.${format}?limit=500`);
      expect(response.status).toBe(200);
      assertSafeFeed(format, await response.text());
    }
  });
});
