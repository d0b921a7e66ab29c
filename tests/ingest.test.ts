import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { count, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { formatPreview, formatStories } from '../src/commands/report.js';
import { fetchLog, items, sources, stories, topicStories } from '../src/db/schema.js';
import { renderFeed, topicChannel } from '../src/publish/render.js';
import { CLUSTER_LOCK_KEY } from '../src/store/items.js';
import { previewTopic } from '../src/store/preview.js';
import { recentStories } from '../src/store/stories.js';
import { topicEntries } from '../src/store/topics.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { withTestApp } from './helpers/app.js';
import { writeConfigDir } from './helpers/config.js';
import { testEngine, useTestDatabase } from './helpers/database.js';
import { rss2 } from './helpers/feeds.js';

const DEMO = resolve(import.meta.dirname, '../feeds/demo');

const testDatabase = useTestDatabase();

const withApp = <T>(configDir: string, use: (app: App) => Promise<T>) => withTestApp(testDatabase().handle, configDir, use);

const ingestAll = (app: App) => ingestSources(ingestContext(app), app.config.sources);
const countOf = async (table: typeof items | typeof stories | typeof topicStories | typeof fetchLog) =>
  (await testDatabase().handle.db.select({ n: count() }).from(table))[0]!.n;

describe(`ingest (${testEngine()})`, () => {
  it('stores the demo seeds and files the seed story under japan-us-security', async () => {
    await withApp(DEMO, async (app) => {
      const summary = await ingestAll(app);
      expect(summary).toMatchObject({ ok: 4, failed: 0, notModified: 0, itemsNew: 10, itemsDuplicate: 0 });
      const entries = await topicEntries(app.database.db, 'japan-us-security', 50);
      // The seed story is one entry: JIJI's own version (the earliest) with the other outlets listed.
      expect(entries.map((entry) => entry.title)).toEqual([
        'U.S. Marines to Begin Okinawa-to-Guam Relocation in December',
        'Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination',
      ]);
      expect(entries[1]!.alsoReportedBy.map((outlet) => [outlet.sourceId, outlet.title])).toEqual([
        ['arabnews-japan', 'Japan, U.S. defense chiefs reaffirm command coordination'],
        ['japan-today', 'Japan, U.S. defense chiefs reaffirm command coordination'],
      ]);
      expect(await countOf(stories)).toBe(8);
      const listing = await recentStories(app.database.db, { topic: 'japan-us-security', limit: 10 });
      expect(listing.map((story) => story.versions.map((version) => version.sourceId))).toEqual([
        ['jiji-press'],
        ['jiji-press', 'arabnews-japan', 'japan-today'],
      ]);
      // Each version's guid beside its URL, so a story can be checked item by item (wirefeed stories --json).
      expect(listing[1]!.versions.find((version) => version.sourceId === 'arabnews-japan')).toMatchObject({
        guid: 'https://arab.news/p5m3x',
        url: expect.stringContaining('arabnews.com'),
      });
      expect(formatStories(listing).split('\n')[2]).toBe(
        `2024-06-01 22:40Z  Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination  [${listing[1]!.storyId}, 3 outlets]`,
      );
      // Newest first.
      const times = entries.map((entry) => entry.publishedAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => b - a));

      const [arab] = await app.database.db.select().from(items).where(eq(items.sourceId, 'arabnews-japan')).orderBy(sql`published_at desc`).limit(1);
      expect(arab).toMatchObject({
        shortUrl: 'https://arab.news/p5m3x',
        dedupKey: 'short:https://arab.news/p5m3x',
        url: 'https://www.arabnews.com/node/2521156/japan',
        author: 'JIJI Press',
        categories: ['Japan', 'Defense'],
        language: 'en',
        dateEstimated: false,
      });
      expect(arab!.publishedAt.toISOString()).toBe('2024-06-01T23:06:19.000Z'); // "02 Jun 2024 08:06:19 GMT9"
      expect(arab!.contentHtml).toContain('src="https://www.arabnews.com/sites/default/files/2024/06/kihara-austin.jpg"');
      expect(arab!.contentHtml).not.toMatch(/script|pixel\.example/);

      const japanese = await topicEntries(app.database.db, 'nichibei', 50);
      expect(japanese.map((entry) => entry.language)).toEqual(['ja']);
    });
  });

  it("stores a podcast's audio enclosure and republishes it in RSS, Atom and JSON Feed", async () => {
    const podcast = resolve(import.meta.dirname, 'fixtures/feeds/podcast-itunes.rss.xml');
    const dir = writeConfigDir({
      'sources.yml': `sources:\n  - id: briefing\n    url: file://${podcast}\n`,
      'topics.yml': "topics:\n  - { slug: briefing, title: Briefing, query: 'episode' }\n",
    });
    await withApp(dir, async (app) => {
      expect(await ingestSources(ingestContext(app), app.config.sources)).toMatchObject({ ok: 1, itemsNew: 2 });
      const entries = await topicEntries(app.database.db, 'briefing', 10);
      const audio = { url: 'https://podcast.example/audio/42.mp3', type: 'audio/mpeg', length: 24986239 };
      expect(entries.map((entry) => entry.enclosures)).toEqual([[audio], []]);
      const input = { channel: topicChannel('https://feeds.example', app.config.topics[0]!), entries };
      expect(renderFeed('rss', input)).toContain('<enclosure url="https://podcast.example/audio/42.mp3" length="24986239" type="audio/mpeg"/>');
      expect(renderFeed('atom', input)).toContain('<link rel="enclosure" type="audio/mpeg" length="24986239" href="https://podcast.example/audio/42.mp3"/>');
      expect(JSON.parse(renderFeed('json', input)).items[0].attachments).toEqual([{ url: audio.url, mime_type: 'audio/mpeg', size_in_bytes: 24986239 }]);
    });
  });

  it('re-ingesting the same documents adds nothing', async () => {
    await withApp(DEMO, async (app) => {
      await ingestAll(app);
      const before = { items: await countOf(items), stories: await countOf(stories), members: await countOf(topicStories) };
      const again = await ingestAll(app);
      expect(again).toMatchObject({ ok: 4, itemsNew: 0, itemsDuplicate: 10 });
      expect({ items: await countOf(items), stories: await countOf(stories), members: await countOf(topicStories) }).toEqual(before);
      expect(await countOf(fetchLog)).toBe(8);
    });
  });

  it('treats link variants (tracking parameters, fragment, host case) of the same version as duplicates', async () => {
    const story = { title: 'Japan, U.S. defense chiefs reaffirm command coordination', pubDate: 'Sun, 02 Jun 2024 08:06:19 +0900' };
    const dir = writeConfigDir({
      'sources.yml': 'sources:\n  - id: outlet-a\n    url: file:a.xml\n  - id: outlet-b\n    url: file:b.xml\n',
    });
    writeFileSync(join(dir, 'a.xml'), rss2('A', [{ ...story, link: 'https://news.example/2024/06/02/defense?utm_source=rss&id=9' }]));
    writeFileSync(join(dir, 'b.xml'), rss2('B', [{ ...story, link: 'HTTPS://NEWS.example/2024/06/02/defense?id=9&fbclid=abc#comments' }]));
    await withApp(dir, async (app) => {
      const summary = await ingestAll(app);
      expect(summary).toMatchObject({ itemsNew: 1, itemsDuplicate: 1 });
      expect(await countOf(items)).toBe(1);
    });
  });

  it('a newer timestamp or changed text under the same key revises the item in place; a dateless item is stored once', async () => {
    const dir = writeConfigDir({ 'sources.yml': 'sources:\n  - id: outlet\n    url: file:feed.xml\n' });
    const feed = (pubDate: string, title = 'Defense talks', description = 'Ministers met.') =>
      rss2('Outlet', [
        { title, link: 'https://outlet.example/a', pubDate, description },
        { title: 'Undated notice', link: 'https://outlet.example/undated' },
      ]);
    writeFileSync(join(dir, 'feed.xml'), feed('Sun, 02 Jun 2024 08:06:19 +0900'));
    await withApp(dir, async (app) => {
      expect(await ingestAll(app)).toMatchObject({ itemsNew: 2, itemsDuplicate: 0, itemsRevised: 0 });
      expect(await ingestAll(app)).toMatchObject({ itemsNew: 0, itemsDuplicate: 2, itemsRevised: 0 });
      writeFileSync(join(dir, 'feed.xml'), feed('Sun, 02 Jun 2024 10:30:00 +0900', 'Defense talks end with deal'));
      expect(await ingestAll(app)).toMatchObject({ itemsNew: 0, itemsDuplicate: 1, itemsRevised: 1 });
      writeFileSync(join(dir, 'feed.xml'), feed('Sun, 02 Jun 2024 10:30:00 +0900', 'Defense talks end with deal', 'Ministers met and agreed.'));
      expect(await ingestAll(app)).toMatchObject({ itemsNew: 0, itemsDuplicate: 1, itemsRevised: 1 });
      // An older version arriving late changes nothing.
      writeFileSync(join(dir, 'feed.xml'), feed('Sun, 02 Jun 2024 08:06:19 +0900'));
      expect(await ingestAll(app)).toMatchObject({ itemsNew: 0, itemsDuplicate: 2, itemsRevised: 0 });

      const [revised] = await app.database.db.select().from(items).where(eq(items.url, 'https://outlet.example/a'));
      expect(revised).toMatchObject({ title: 'Defense talks end with deal', summary: 'Ministers met and agreed.', revision: 2 });
      expect(revised!.publishedAt.toISOString()).toBe('2024-06-01T23:06:19.000Z');
      expect(revised!.updatedAt.getTime()).toBeGreaterThanOrEqual(new Date('2024-06-02T01:30:00Z').getTime());
      const [story] = await app.database.db.select().from(stories).where(eq(stories.id, revised!.storyId));
      expect(story!.updatedAt.getTime()).toBe(revised!.updatedAt.getTime()); // the entry's <updated>, same id
      expect(await countOf(items)).toBe(2);
      const undated = await app.database.db.select().from(items).where(eq(items.url, 'https://outlet.example/undated'));
      expect(undated).toHaveLength(1);
      expect(undated[0]!.dateEstimated).toBe(true);
    });
  });

  it('an unstable guid (new on every fetch, same link) creates no duplicate', async () => {
    const dir = writeConfigDir({ 'sources.yml': 'sources:\n  - id: outlet\n    url: file:feed.xml\n' });
    const feed = (guid: string) =>
      rss2('Outlet', [{ title: 'Japan security', guid, link: 'https://outlet.example/s?id=1&utm_source=x', pubDate: 'Sun, 02 Jun 2024 08:00:00 +0900' }]);
    writeFileSync(join(dir, 'feed.xml'), feed('urn:uuid:1111'));
    await withApp(dir, async (app) => {
      await ingestAll(app);
      writeFileSync(join(dir, 'feed.xml'), feed('urn:uuid:2222'));
      expect(await ingestAll(app)).toMatchObject({ itemsNew: 0, itemsDuplicate: 1 });
      expect(await countOf(items)).toBe(1);
    });
  });

  it('a broken source fails alone, named, and never touches what is stored', async () => {
    const dir = writeConfigDir({
      'sources.yml': 'sources:\n  - id: good\n    url: file:good.xml\n  - id: flaky\n    url: file:flaky.xml\n  - id: missing\n    url: file:nowhere.xml\n',
    });
    writeFileSync(
      join(dir, 'good.xml'),
      rss2('Good', [{ title: 'Japan security', link: 'https://good.example/1', pubDate: 'Sun, 02 Jun 2024 08:00:00 +0900' }]),
    );
    writeFileSync(
      join(dir, 'flaky.xml'),
      rss2('Flaky', [{ title: 'Flaky story', link: 'https://flaky.example/1', pubDate: 'Sun, 02 Jun 2024 08:00:00 +0900' }]),
    );
    await withApp(dir, async (app) => {
      const first = await ingestAll(app);
      expect(first).toMatchObject({ ok: 2, failed: 1, itemsNew: 2 });
      expect(first.outcomes.find((outcome) => outcome.sourceId === 'missing')?.error).toMatch(/cannot read .*nowhere\.xml: ENOENT/);

      writeFileSync(join(dir, 'flaky.xml'), '<html><body>Please log in</body></html>');
      const second = await ingestAll(app);
      expect(second.outcomes.find((outcome) => outcome.sourceId === 'flaky')).toMatchObject({ outcome: 'failed', error: 'not a feed: got an HTML page' });
      writeFileSync(join(dir, 'flaky.xml'), '{"version": "https://jsonfeed.org/version/1.1", "items": [{"title": "half');
      const third = await ingestAll(app);
      expect(third.outcomes.find((outcome) => outcome.sourceId === 'flaky')?.error).toMatch(/^not a feed: invalid JSON/);
      expect(third.outcomes.find((outcome) => outcome.sourceId === 'good')?.outcome).toBe('ok');

      expect(await countOf(items)).toBe(2);
      const [flaky] = await app.database.db.select().from(sources).where(eq(sources.id, 'flaky'));
      expect(flaky).toMatchObject({ errorCount: 2, lastStatus: 'failed' });
      expect(flaky!.lastError).toMatch(/^not a feed: invalid JSON/);
    });
  });

  it('stores a refetch of stored items without waiting for another writer; new items wait their turn', async () => {
    const dir = writeConfigDir({ 'sources.yml': 'sources:\n  - id: wire\n    url: file:wire.xml\n' });
    const story = (n: number) => ({ title: `Japan story ${n}`, link: `https://wire.example/${n}`, pubDate: 'Sun, 02 Jun 2024 08:00:00 +0900' });
    writeFileSync(join(dir, 'wire.xml'), rss2('Wire', [story(1), story(2)]));
    await withApp(dir, async (app) => {
      expect(await ingestAll(app)).toMatchObject({ itemsNew: 2 });
      // Another writer holds the cluster lock (a worker storing a big document) until released.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const holder = app.database.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${CLUSTER_LOCK_KEY})`);
        locked();
        await released;
      });
      await lockTaken;
      const within = <T>(work: Promise<T>, ms: number) =>
        Promise.race([work.then(() => 'done'), new Promise((resolve) => setTimeout(() => resolve('waiting'), ms))]);
      try {
        expect(await within(ingestAll(app), 5_000)).toBe('done'); // all duplicates: no lock taken
        writeFileSync(join(dir, 'wire.xml'), rss2('Wire', [story(1), story(2), story(3)]));
        const storing = ingestAll(app);
        expect(await within(storing, 500)).toBe('waiting');
        release();
        expect(await storing).toMatchObject({ itemsNew: 1, itemsDuplicate: 2 });
      } finally {
        release();
        await holder;
      }
    });
  });

  it("says how to allow a source on a private address: the source's allowPrivateNetwork", async () => {
    const dir = writeConfigDir({ 'sources.yml': 'sources:\n  - id: lan\n    url: http://127.0.0.1:9/feed.xml\n' });
    await withApp(dir, async (app) => {
      const summary = await ingestAll(app);
      expect(summary.outcomes[0]!.error).toMatch(
        /^refused to connect to 127\.0\.0\.1:9: address 127\.0\.0\.1 is not public .*; set allowPrivateNetwork on the source to allow it$/,
      );
    });
  });

  it('backfills a topic whose query changed and removes stories that no longer match', async () => {
    await withApp(DEMO, async (app) => {
      await ingestAll(app);
    });
    const topicsYml = (query: string) => `topics:\n  - slug: watch\n    title: Watch\n    query: '${query}'\n`;
    const sourcesYml = `sources:\n  - id: jiji-press\n    url: ${new URL('../../seeds/jiji-press.atom.xml', `file://${DEMO}/x`).href}\n`;
    const dir = writeConfigDir({ 'sources.yml': sourcesYml, 'topics.yml': topicsYml('okinawa') });
    const titles = (app: App) => topicEntries(app.database.db, 'watch', 50).then((entries) => entries.map((entry) => entry.title));
    await withApp(dir, async (app) => {
      expect(await titles(app)).toEqual(['U.S. Marines to Begin Okinawa-to-Guam Relocation in December']);
    });
    writeFileSync(join(dir, 'topics.yml'), topicsYml('"bank of japan" OR nikkei'));
    await withApp(dir, async (app) => {
      expect(await titles(app)).toEqual([
        'BOJ Keeps Policy Rate Unchanged, Eyes Bond Purchase Cuts',
        "Japan's Nikkei ends higher as exporters gain on weaker yen",
      ]);
    });
    // Changing only the exclude query (or sources, or language) is a new definition too.
    writeFileSync(join(dir, 'topics.yml'), `${topicsYml('"bank of japan" OR nikkei')}    exclude: yen\n`);
    await withApp(dir, async (app) => {
      expect(await titles(app)).toEqual(['BOJ Keeps Policy Rate Unchanged, Eyes Bond Purchase Cuts']);
      const preview = await previewTopic(app.database.db, app.config.sources, app.config.topics[0]!, { limit: 10 });
      expect(preview).toMatchObject({ total: 1, scanned: 10 });
      expect(formatPreview(preview, (text) => `<${text}>`).split('\n')).toEqual([
        '2024-06-14 03:31Z  jiji-press  BOJ Keeps Policy Rate Unchanged, Eyes Bond Purchase Cuts',
        '    Tokyo, June 14 (Jiji Press)--The <Bank of Japan> decided Friday to keep its short-term policy interest rate at 0 to 0.1 pct and to reduce its purchases of Japanes…',
        '1 of 10 items stored in the last 30 days match ""bank of japan" OR nikkei"',
      ]);
    });
  });
});
