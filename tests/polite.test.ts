import { count, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { fetchLog, items, sources } from '../src/db/schema.js';
import { claimDueSources, renewLease } from '../src/store/sources.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSource, ingestSources } from '../src/worker/ingest.js';
import { writeConfigDir } from './helpers/config.js';
import { openTestDatabase, type TestDatabase, testEngine } from './helpers/database.js';
import { rss2 } from './helpers/feeds.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const FEED = rss2('Wire', [
  { title: 'Japan, U.S. defense chiefs reaffirm command coordination', link: 'https://wire.example/1', pubDate: 'Sun, 02 Jun 2024 08:06:19 +0900' },
]);

let database: TestDatabase;
let server: TestServer;
/** What the fixture server answers next, per path; the default serves FEED with an ETag. */
let script: Record<string, Array<{ status: number; headers?: Record<string, string>; body?: string }>>;

beforeAll(async () => {
  database = await openTestDatabase();
  server = await startTestServer((request, response) => {
    const path = new URL(request.url!, 'http://x').pathname;
    const next = script[path]?.shift();
    if (next) return response.writeHead(next.status, next.headers).end(next.body ?? '');
    if (request.headers['if-none-match'] === '"v1"') return response.writeHead(304, { etag: '"v1"' }).end();
    response.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"v1"' }).end(FEED);
  });
});
afterAll(async () => {
  await server?.close();
  await database?.close();
});
beforeEach(async () => {
  await database.reset();
  script = {};
  server.requests.length = 0;
});
/** Apps opened by a test, closed after it (their HTTP clients' pooled connections with them). */
const opened: App[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((app) => app.close()));
});

async function appFor(path: string, every = '1m'): Promise<App> {
  const dir = writeConfigDir({ 'sources.yml': `sources:\n  - id: wire\n    url: ${server.url}${path}\n    every: ${every}\n    allowPrivateNetwork: true\n` });
  const app = await openApp({ configDir: dir, database: database.handle });
  opened.push(app);
  return app;
}
const ingest = (app: App) => ingestSource(ingestContext(app), app.config.sources[0]!);
const source = async () => (await database.handle.db.select().from(sources).where(eq(sources.id, 'wire')))[0]!;
const countOf = async (table: typeof items | typeof fetchLog) => (await database.handle.db.select({ n: count() }).from(table))[0]!.n;
const secondsUntil = (date: Date) => (date.getTime() - Date.now()) / 1000;

describe(`polite fetching (${testEngine()})`, () => {
  it('a 304 writes nothing but the fetch log and the next check', async () => {
    const app = await appFor('/feed');
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 1 });
    const before = await source();
    expect(before.etag).toBe('"v1"');
    expect(await ingest(app)).toMatchObject({ outcome: 'not-modified', itemsNew: 0 });
    const after = await source();
    expect(server.requests[1]!.headers['if-none-match']).toBe('"v1"');
    expect(await countOf(items)).toBe(1);
    expect(await countOf(fetchLog)).toBe(2);
    expect(after).toMatchObject({ etag: '"v1"', lastStatus: 'not-modified', errorCount: 0 });
    expect(after.nextCheckAt.getTime()).toBeGreaterThanOrEqual(before.nextCheckAt.getTime());
  });

  it('keeps no validators from a response whose items were not stored', async () => {
    script['/feed'] = [
      { status: 200, headers: { etag: '"broken"', 'last-modified': 'Sun, 02 Jun 2024 00:00:00 GMT' }, body: '<html><body>Please log in</body></html>' },
    ];
    const app = await appFor('/feed');
    expect(await ingest(app)).toMatchObject({ outcome: 'failed', error: 'not a feed: got an HTML page' });
    expect(await source()).toMatchObject({ etag: null, lastModified: null, errorCount: 1 });
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 1 });
    expect(server.requests[1]!.headers['if-none-match']).toBeUndefined();
  });

  it('stores the complete items of a cut-off response, but keeps no validators, so the next fetch gets it all', async () => {
    const two = rss2('Wire', [
      { title: 'Japan, Philippines defense ministers hold talks', link: 'https://wire.example/0', pubDate: 'Sun, 02 Jun 2024 07:00:00 +0900' },
      { title: 'Japan, U.S. defense chiefs reaffirm command coordination', link: 'https://wire.example/1', pubDate: 'Sun, 02 Jun 2024 08:06:19 +0900' },
    ]);
    const cut = two.slice(0, two.indexOf('https://wire.example/1'));
    script['/feed'] = [{ status: 200, headers: { etag: '"cut"', 'last-modified': 'Sun, 02 Jun 2024 00:00:00 GMT' }, body: cut }];
    const app = await appFor('/feed');
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 1 });
    expect(await source()).toMatchObject({ etag: null, lastModified: null, errorCount: 0 });
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 1 });
    expect(server.requests[1]!.headers['if-none-match']).toBeUndefined();
  });

  it('does not parse the same bytes again when a server sends no validators; new bytes or a new reading are parsed', async () => {
    const plain = (body: string) => ({ status: 200, headers: { 'content-type': 'application/rss+xml' }, body });
    const asked = FEED.replace('<channel>', '<channel>\n    <ttl>120</ttl>');
    const longer = rss2('Wire', [
      { title: 'Japan, Philippines defense ministers hold talks', link: 'https://wire.example/0', pubDate: 'Sun, 02 Jun 2024 07:00:00 +0900' },
      { title: 'Japan, U.S. defense chiefs reaffirm command coordination', link: 'https://wire.example/1', pubDate: 'Sun, 02 Jun 2024 08:06:19 +0900' },
    ]);
    script['/feed'] = [plain(asked), plain(asked), plain(asked), plain(longer)];
    const app = await appFor('/feed');
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 1 });
    expect(await source()).toMatchObject({ etag: null, documentItems: 1, documentSchedule: { ttlMinutes: 120 } });
    // Proof that it is not parsed: an item removed meanwhile is not stored again, as a parse would store it.
    await database.handle.db.delete(items);
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 0, itemsDuplicate: 1 });
    expect(await countOf(items)).toBe(0);
    const skipped = await source();
    expect(skipped).toMatchObject({ lastStatus: 'ok', errorCount: 0 });
    // The feed's <ttl> still spaces the fetches, from the stored schedule.
    expect(secondsUntil(skipped.nextCheckAt)).toBeGreaterThan(7_100);
    expect((await database.handle.db.select().from(fetchLog).orderBy(fetchLog.id)).map((row) => row.itemsDuplicate)).toEqual([0, 1]);
    // The same bytes read another way (the source's short-link hosts changed) are parsed again.
    const dir = writeConfigDir({
      'sources.yml': `sources:\n  - id: wire\n    url: ${server.url}/feed\n    every: 1m\n    allowPrivateNetwork: true\n    shortUrlHosts: [wire.example]\n`,
    });
    const rereading = await openApp({ configDir: dir, database: database.handle });
    opened.push(rereading);
    expect(await ingest(rereading)).toMatchObject({ outcome: 'ok', itemsNew: 1 });
    // Changed bytes are parsed.
    expect(await ingest(rereading)).toMatchObject({ outcome: 'ok', itemsNew: 1, itemsDuplicate: 1 });
    expect(await source()).toMatchObject({ documentItems: 2 });
  });

  it('reads only the items a changed document changed: the rest are known from their XML without being parsed', async () => {
    const plain = (body: string) => ({ status: 200, headers: { 'content-type': 'application/rss+xml' }, body });
    // As most publishers do: a new <lastBuildDate> on every request, so the document's bytes always differ.
    const built = (minute: number, entries: Parameters<typeof rss2>[1], channel = '') =>
      rss2('Wire', entries).replace('<channel>', `<channel>${channel}\n    <lastBuildDate>Sun, 02 Jun 2024 10:${minute}:00 +0900</lastBuildDate>`);
    const chiefs = {
      title: 'Japan, U.S. defense chiefs reaffirm command coordination',
      link: 'https://wire.example/1',
      pubDate: 'Sun, 02 Jun 2024 08:06:19 +0900',
    };
    const talks = { title: 'Japan, Philippines defense ministers hold talks', link: 'https://wire.example/2', pubDate: 'Sun, 02 Jun 2024 07:00:00 +0900' };
    const updated = { ...chiefs, pubDate: 'Sun, 02 Jun 2024 09:30:00 +0900', description: 'The ministers agreed to set up a joint headquarters by 2025.' };
    const typhoon = { title: 'Typhoon nears Okinawa', link: 'https://wire.example/3', pubDate: 'Sun, 02 Jun 2024 09:45:00 +0900' };
    script['/feed'] = [
      plain(built(10, [chiefs, talks])),
      plain(built(11, [chiefs, talks])),
      plain(built(12, [updated, talks, typhoon])),
      plain(built(13, [updated, talks, typhoon], '\n    <language>ja</language>')),
    ];
    const app = await appFor('/feed');
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 2 });
    expect((await source()).documentItemHashes?.hashes).toHaveLength(2);
    // Proof that unchanged items are not parsed: one removed meanwhile is not stored again, as a parse would store it.
    await database.handle.db.delete(items).where(eq(items.url, talks.link));
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 0, itemsDuplicate: 2, itemsRevised: 0 });
    expect(await countOf(items)).toBe(1);
    // A changed item is read (and revised), a new one stored; the unchanged one still is not read.
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 1, itemsRevised: 1, itemsDuplicate: 1 });
    expect(await source()).toMatchObject({ documentItems: 3 });
    // What items take from their feed changed (its language): every item is read again, the removed one with them.
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 1, itemsDuplicate: 2 });
    expect((await database.handle.db.select({ url: items.url }).from(items).where(eq(items.url, talks.link))).length).toBe(1);
  });

  it('keeps fetch.maxItems counting from the top of the document when it leaves known items out', async () => {
    const plain = (body: string) => ({ status: 200, headers: { 'content-type': 'application/rss+xml' }, body });
    const entry = (n: number) => ({ title: `Wire report number ${n}`, link: `https://wire.example/${n}`, pubDate: `Sun, 02 Jun 2024 0${n}:00:00 +0900` });
    script['/feed'] = [plain(rss2('Wire', [entry(3), entry(2), entry(1)])), plain(rss2('Wire', [entry(4), entry(3), entry(1)]))];
    const dir = writeConfigDir({
      'sources.yml': `fetch:\n  maxItems: 2\nsources:\n  - id: wire\n    url: ${server.url}/feed\n    every: 1m\n    allowPrivateNetwork: true\n`,
    });
    const app = await openApp({ configDir: dir, database: database.handle });
    opened.push(app);
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 2 });
    // Report 3 is known and left out; report 1, third in the document, stays past the cut as it was the first time.
    expect(await ingest(app)).toMatchObject({ outcome: 'ok', itemsNew: 1, itemsDuplicate: 1 });
    const stored = await database.handle.db.select({ url: items.url }).from(items);
    expect(stored.map((row) => row.url).sort()).toEqual(['https://wire.example/2', 'https://wire.example/3', 'https://wire.example/4']);
  });

  it.each([
    ['seconds on a 429', 429, () => '1800', 1800],
    ['an HTTP date on a 503', 503, () => new Date(Date.now() + 3 * 3600_000).toUTCString(), 3 * 3600],
  ])('honours Retry-After as %s', async (_name, status, retryAfter, wait) => {
    script['/feed'] = [{ status, headers: { 'retry-after': retryAfter() } }];
    const app = await appFor('/feed');
    expect(await ingest(app)).toMatchObject({ outcome: 'failed', error: `HTTP ${status}` });
    const row = await source();
    expect(row.errorCount).toBe(1);
    expect(secondsUntil(row.nextCheckAt)).toBeGreaterThan(wait - 10);
    expect(secondsUntil(row.nextCheckAt)).toBeLessThan(wait + 10);
  });

  it('backs off while a source fails and resets on success', async () => {
    script['/feed'] = [{ status: 500 }, { status: 502 }, { status: 500 }, { status: 500 }];
    const app = await appFor('/feed', '10m');
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      await ingest(app);
      const row = await source();
      expect(row.errorCount).toBe(attempt);
      waits.push(secondsUntil(row.nextCheckAt));
    }
    // 10 min doubling with ±20 % jitter: every wait is longer than the last.
    for (let index = 1; index < waits.length; index++) expect(waits[index]!).toBeGreaterThan(waits[index - 1]!);
    expect(waits[3]!).toBeGreaterThan(600 * 8 * 0.8 - 5);
    expect(await ingest(app)).toMatchObject({ outcome: 'ok' });
    const healed = await source();
    expect(healed).toMatchObject({ errorCount: 0, lastError: null, lastStatus: 'ok' });
    expect(secondsUntil(healed.nextCheckAt)).toBeLessThan(601);
  });

  it('marks a 410 source gone, stops polling it, and starts again when its URL changes', async () => {
    script['/old'] = [{ status: 410 }];
    const app = await appFor('/old');
    expect(await ingest(app)).toMatchObject({ outcome: 'gone', error: 'HTTP 410 Gone' });
    expect((await source()).goneAt).toBeInstanceOf(Date);
    expect(await ingest(app)).toMatchObject({ outcome: 'gone', error: expect.stringMatching(/^gone \(HTTP 410\) since/) });
    expect(server.requests).toHaveLength(1);
    const moved = await appFor('/feed');
    expect((await source()).goneAt).toBeNull();
    expect(await ingest(moved)).toMatchObject({ outcome: 'ok', itemsNew: 1 });
  });

  it('adopts a URL after repeated 301s, never after 302s', async () => {
    const redirectTo = (status: number) => Array.from({ length: 5 }, () => ({ status, headers: { location: '/feed' } }));
    script['/moved'] = redirectTo(301);
    script['/temporary'] = redirectTo(302);
    const permanent = await appFor('/moved');
    for (let fetch = 0; fetch < 3; fetch++) await ingest(permanent);
    expect((await source()).fetchUrl).toBe(`${server.url}/feed`);
    server.requests.length = 0;
    await ingest(permanent);
    expect(server.requests.map((request) => request.url)).toEqual(['/feed']);

    await database.reset();
    const temporary = await appFor('/temporary');
    for (let fetch = 0; fetch < 4; fetch++) await ingest(temporary);
    expect(await source()).toMatchObject({ fetchUrl: null, redirectCount: 0 });
  });
});

describe(`every: auto (${testEngine()})`, () => {
  /** A feed of `count` items, one every `gapMinutes`, the newest `newestMinutesAgo` before now. */
  const paced = (outlet: string, count: number, gapMinutes: number, newestMinutesAgo: number) =>
    rss2(
      outlet,
      Array.from({ length: count }, (_, index) => ({
        title: `${outlet} report ${index + 1} on Japan-U.S. defense talks`,
        link: `https://${outlet}.example/news/${index + 1}`,
        pubDate: new Date(Date.now() - (newestMinutesAgo + index * gapMinutes) * 60_000).toUTCString(),
      })),
    );

  it('fetches a busy wire about as often as its items come, a quiet feed every 6 hours, and a new one by the default until it is read', async () => {
    const documents: Record<string, string> = {
      '/busy': paced('busy', 30, 20, 10), // every 20 minutes, the oldest 590 minutes ago
      '/quiet': paced('quiet', 5, 60 * 24 * 9, 60 * 24 * 30), // monthly news, none this week
    };
    for (const [path, body] of Object.entries(documents)) {
      script[path] = [0, 1].map(() => ({ status: 200, headers: { 'content-type': 'application/rss+xml' }, body }));
    }
    const dir = writeConfigDir({
      'sources.yml': ['busy', 'quiet']
        .map((id) => `  - id: ${id}\n    url: ${server.url}/${id}\n    allowPrivateNetwork: true\n`)
        .join('')
        .replace(/^/, 'fetch:\n  every: auto\nsources:\n')
        .concat(`  - id: steady\n    url: ${server.url}/feed\n    every: 10m\n    allowPrivateNetwork: true\n`),
    });
    const app = await openApp({ configDir: dir, database: database.handle });
    opened.push(app);
    const waits = async () =>
      Object.fromEntries((await database.handle.db.select().from(sources)).map((row) => [row.id, Math.round(secondsUntil(row.nextCheckAt))]));

    expect(await ingestSources(ingestContext(app), app.config.sources)).toMatchObject({ ok: 3, failed: 0 });
    const first = await waits();
    // Nothing was known of the two new sources' pace: the default 15 minutes.
    for (const id of ['busy', 'quiet']) expect(Math.abs(first[id]! - 900), id).toBeLessThan(10);
    expect(Math.abs(first.steady! - 600)).toBeLessThan(10);

    expect(await ingestSources(ingestContext(app), app.config.sources)).toMatchObject({ ok: 2, notModified: 1, failed: 0 });
    const second = await waits();
    expect(Math.abs(second.busy! - (590 * 60) / 30), `busy: ${second.busy}`).toBeLessThan(10); // about 20 minutes
    expect(Math.abs(second.quiet! - 6 * 3600), `quiet: ${second.quiet}`).toBeLessThan(10);
    expect(Math.abs(second.steady! - 600)).toBeLessThan(10);
  });
});

describe(`leases (${testEngine()})`, () => {
  it('a source whose lease ran out while it waited is not fetched by its first worker once another has claimed it', async () => {
    const app = await appFor('/feed');
    const { db } = app.database;
    const claim = (owner: string) => claimDueSources(db, { owner, sourceIds: ['wire'], limit: 10, leaseSeconds: 60 });
    expect(await claim('first')).toEqual(['wire']);
    expect(await claim('second')).toEqual([]); // leased
    await db.update(sources).set({ leaseUntil: sql`now() - interval '1 second'` }); // the first worker was too slow
    expect(await claim('second')).toEqual(['wire']);

    const renew = (owner: string) => (source: { id: string }) => renewLease(db, { sourceId: source.id, owner, leaseSeconds: 60 });
    const late = await ingestSources(ingestContext(app), app.config.sources, { shouldStart: renew('first') });
    expect(late).toMatchObject({ ok: 0, skipped: 1 });
    expect(server.requests).toHaveLength(0);
    const owner = await ingestSources(ingestContext(app), app.config.sources, { shouldStart: renew('second') });
    expect(owner).toMatchObject({ ok: 1, skipped: 0 });
    expect(server.requests).toHaveLength(1);
    const [row] = await db.select({ leaseOwner: sources.leaseOwner }).from(sources);
    expect(row!.leaseOwner).toBeNull(); // released with the fetch's record
  });
});
