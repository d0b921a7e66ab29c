/**
 * Search feeds served by a real server over the demo's stored stories: the same stories a topic with the query
 * holds, in every format, hostile queries escaped, bad ones answered with their column, bounded by depth.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { DEFAULT_RETENTION_SETTINGS } from '../src/model/settings.js';
import { pruneStore } from '../src/store/retention.js';
import { searchStories } from '../src/store/search.js';
import type { RecentItem } from '../src/store/topics.js';
import { openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';
import { assertSafeFeed, childrenNamed, strictXml, textOf } from './helpers/feed-safety.js';

let database: TestDatabase;
let app: App;
let served: ServedApp;
let base: string;

const publishWith = (settings: Partial<App['config']['publish']>) => {
  app.config = { ...app.config, publish: { ...app.config.publish, ...settings } };
};
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
const storyIds = async (path: string): Promise<string[]> => {
  const response = await get(path);
  expect(response.status, path).toBe(200);
  return ((await response.json()) as { items: Array<{ id: string }> }).items.map((entry) => entry.id);
};

beforeAll(async () => {
  database = await openTestDatabase();
  app = await openTestApp(database.handle, { ingest: true });
  publishWith({ search: true });
  // Versions read on every request: a test sees a change as soon as it makes it.
  served = await serveApp(app, { versionTtlMs: 0 });
  base = served.base;
});

afterAll(async () => {
  await served.stop();
  await app.close();
  await database.close();
});

describe('search feeds', () => {
  it('finds the stories a topic with the query holds, in the same order', async () => {
    for (const topic of app.config.topics) {
      const expected = await storyIds(`/topics/${topic.slug}.json`);
      expect(expected.length, topic.slug).toBeGreaterThan(0);
      expect(await storyIds(`/search.json?q=${encodeURIComponent(topic.query)}`), topic.slug).toEqual(expected);
    }
  });

  it('serves every format, each naming the query and linking to itself', async () => {
    const q = 'japan AND defense';
    const rss = await get(`/search.rss?q=${encodeURIComponent(q)}`);
    expect(rss.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const channel = childrenNamed(strictXml(await rss.text()), 'channel')[0]!;
    expect(textOf(childrenNamed(channel, 'title')[0]!)).toBe(`Search: ${q}`);
    expect(childrenNamed(channel, 'item').length).toBeGreaterThan(0);
    const atom = await (await get(`/search.atom?q=${encodeURIComponent(q)}`)).text();
    expect(atom).toContain(`<id>${base}/search.atom?q=japan%20AND%20defense</id>`);
    const json = (await (await get(`/search.json?q=${encodeURIComponent(q)}`)).json()) as { title: string; feed_url: string };
    expect(json).toMatchObject({ title: `Search: ${q}`, feed_url: `${base}/search.json?q=japan%20AND%20defense` });
    const page = await (await get(`/search.html?q=${encodeURIComponent(q)}`)).text();
    expect(page).toContain('value="japan AND defense"');
    expect(page).toMatch(/<p class="meta">\d+ stor(y|ies)\.<\/p>/);
    expect(page).toContain(`href="${base}/search.rss?q=japan%20AND%20defense"`);
  });

  it('keeps a hostile query text wherever it is written', async () => {
    const q = '"</title><script>alert(1)</script>]]>&amp;" OR japan';
    for (const format of ['rss', 'atom', 'json'] as const) {
      const response = await get(`/search.${format}?q=${encodeURIComponent(q)}`);
      expect(response.status).toBe(200);
      const body = await response.text();
      assertSafeFeed(format, body);
      // RSS titles are written so that a reader taking them as HTML and one taking them as text read the same words.
      const asHtml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      if (format === 'rss') expect(asHtml(textOf(childrenNamed(childrenNamed(strictXml(body), 'channel')[0]!, 'title')[0]!))).toBe(`Search: ${q}`);
      if (format === 'json') expect((JSON.parse(body) as { title: string }).title).toBe(`Search: ${q}`);
    }
    const page = await (await get(`/search.html?q=${encodeURIComponent(q)}`)).text();
    // The page's one script is its own (local times); the query's is text.
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('value="&quot;&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;]]&gt;&amp;amp;&quot; OR japan"');
  });

  it('answers a query that does not parse with its column: as text for a feed, on the page for a person', async () => {
    const q = encodeURIComponent('japan AND (defense');
    const feed = await get(`/search.rss?q=${q}`);
    expect(feed.status).toBe(400);
    expect(await feed.text()).toBe('q: missing ")" for "(" opened at column 11\n');
    const page = await get(`/search.html?q=${q}`);
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain('<p class="error" role="alert">q: missing &quot;)&quot; for &quot;(&quot; opened at column 11</p>');
    expect(html).toContain('value="japan AND (defense"');
  });

  it('asks for a query: a feed without one is a 400, the page shows the form', async () => {
    const feed = await get('/search.atom');
    expect(feed.status).toBe(400);
    expect(await feed.text()).toBe(`q: give a query, as in ${base}/search.atom?q=japan+AND+defense\n`);
    const page = await get('/search', { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form class="search" role="search"');
    expect((await get(`/search.json?q=${'x'.repeat(501)}`)).status).toBe(400);
  });

  it('gives as many entries as asked, and answers a repeat from its cache with 304 to a validator', async () => {
    expect(await storyIds('/search.json?q=japan&limit=1')).toHaveLength(1);
    const first = await get('/search.rss?q=japan');
    const etag = first.headers.get('etag')!;
    expect((await get('/search.rss?q=japan', { 'if-none-match': etag })).status).toBe(304);
  });

  it('reads no further than its depth, and says so', async () => {
    const all = await searchStories(database.handle.db, () => true, { limit: 100, depth: 10_000 });
    expect(all.truncated).toBe(false);
    expect(all.entries.length).toBe(all.scanned);
    const none = (item: RecentItem) => item.title === 'no such headline';
    expect(await searchStories(database.handle.db, none, { limit: 5, depth: 3 })).toEqual({ entries: [], scanned: 3, truncated: true });
    const newest = await searchStories(database.handle.db, () => true, { limit: 2, depth: 3 });
    expect(newest.entries.map((entry) => entry.storyId)).toEqual(all.entries.slice(0, 2).map((entry) => entry.storyId));
    expect(newest.truncated).toBe(false);
  });

  it('is counted as its own kind of route', async () => {
    await get('/search.rss?q=japan');
    await get('/search.rss?q=%28japan');
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^wirefeed_feed_requests_total\{route="search",status="200"\} [1-9]/m);
    expect(metrics).toMatch(/^wirefeed_feed_requests_total\{route="search",status="400"\} [1-9]/m);
  });

  it('is offered on the index while on, and answers 404 when publish.search is off', async () => {
    expect(await (await get('/')).text()).toContain(`action="${base}/search.html"`);
    publishWith({ search: false });
    try {
      const off = await get('/search.rss?q=japan');
      expect(off.status).toBe(404);
      expect(await off.text()).toBe('Not found: search feeds are off (publish.search)\n');
      expect(await (await get('/')).text()).not.toContain('role="search"');
    } finally {
      publishWith({ search: true });
    }
  });
  // Last: it archives the store's stories.
  it('drops archived stories, even those under no topic, instead of serving a cached render of them', async () => {
    const { db } = database.handle;
    const found = await storyIds('/search.json?q=japan');
    expect(found.length).toBeGreaterThan(0);
    const etag = (await get('/search.json?q=japan')).headers.get('etag')!;
    // Under no topic: archiving them marks no topic changed.
    await db.execute(sql`delete from topic_stories`);
    await db.execute(sql`update items set first_seen_at = now() - interval '200 days'`);
    expect((await pruneStore(db, { ...DEFAULT_RETENTION_SETTINGS, keepPerSource: 0 })).storyRows).toBeGreaterThanOrEqual(found.length);
    const again = await get('/search.json?q=japan', { 'if-none-match': etag });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { items: unknown[] }).items).toEqual([]);
  });
});
