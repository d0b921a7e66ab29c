import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSource } from '../src/worker/ingest.js';
import { OUTLETS, type Outlet, outletFeed, WIRE_ITEMS } from './fixtures/wire-stories.js';
import { type ServedApp, serveApp } from './helpers/app.js';
import { writeConfigDir } from './helpers/config.js';
import { openTestDatabase, type TestDatabase, testEngine } from './helpers/database.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const OUTLET_IDS = Object.keys(OUTLETS) as Outlet[];
const STORY_COUNT = new Set(WIRE_ITEMS.map((item) => item.story)).size;

let database: TestDatabase;
let app: App;
let served: ServedApp;
let base: string;
let hub: TestServer;
const hubPings: string[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  hub = await startTestServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      hubPings.push(body);
      response.writeHead(204).end();
    });
  });
  const sources = OUTLET_IDS.map((outlet) => `  - id: ${outlet}\n    title: ${OUTLETS[outlet].title}\n    url: file:${outlet}.xml\n`).join('');
  const dir = writeConfigDir({
    'sources.yml': `sources:\n${sources}`,
    'topics.yml': `topics:
  - slug: everything
    title: Everything <&> "quoted"
    description: Every story, for paging tests.
    query: '/./'
    limit: 8
  - slug: japan-us-security
    title: Japan–US security
    query: 'japan AND ("united states" OR u.s. OR us OR pentagon) AND (defense OR security OR military)'
`,
    'publish.yml': `publish:\n  publicUrl: http://feeds.example.test\n  maxAge: 2m\n  maxLimit: 10\n  hub: ${hub.url}/hub\n`,
  });
  for (const outlet of OUTLET_IDS) writeFileSync(join(dir, `${outlet}.xml`), outletFeed(outlet));
  app = await openApp({ configDir: dir, database: database.handle });
  // All outlets but NHK now; NHK later, to see feeds change.
  for (const outlet of OUTLET_IDS.filter((id) => id !== 'nhk'))
    await ingestSource(ingestContext(app), app.config.sources.find((source) => source.id === outlet)!);
  // Versions are read from the database on every request: what a separate feed server process sees.
  served = await serveApp(app, { versionTtlMs: 0 });
  base = served.base;
});

afterAll(async () => {
  await served?.stop();
  await app?.close();
  await hub?.close();
  await database?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
const atomLinks = (xml: string, rel: string) =>
  [...xml.matchAll(new RegExp(`<link rel="${rel}" href="([^"]+)"/>`, 'g'))].map((match) => match[1]!.replace(/&amp;/g, '&'));
const local = (url: string) => url.replace('http://feeds.example.test', base);

describe(`publishing (${testEngine()})`, () => {
  it('negotiates the format of /topics/<slug> from Accept', async () => {
    for (const [accept, type] of [
      ['application/atom+xml', 'application/atom+xml; charset=utf-8'],
      ['application/feed+json', 'application/feed+json; charset=utf-8'],
      ['text/html,application/xhtml+xml;q=0.9,*/*;q=0.8', 'text/html; charset=utf-8'],
      ['application/rss+xml;q=0.5, application/atom+xml;q=0.9', 'application/atom+xml; charset=utf-8'],
      ['*/*', 'application/rss+xml; charset=utf-8'],
    ]) {
      const response = await get('/topics/japan-us-security', { accept: accept! });
      expect(response.headers.get('content-type'), accept).toBe(type);
      expect(response.headers.get('vary')).toBe('Accept, Accept-Encoding');
    }
  });

  it('pages through every story with RFC 5005 links (Atom, RSS) and next_url (JSON), capping ?limit', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/topics/everything.atom';
    while (next) {
      const xml: string = await (await get(next)).text();
      const feed = await new Parser().parseString(xml);
      seen.push(...feed.items.map((item) => (item as { id?: string }).id ?? ''));
      expect(atomLinks(xml, 'first')).toEqual(['http://feeds.example.test/topics/everything.atom']);
      const nextLink: string | undefined = atomLinks(xml, 'next')[0];
      next = nextLink ? local(nextLink).slice(base.length) : undefined;
    }
    expect(seen.length).toBe(STORY_COUNT - 1); // NHK's singleton is not ingested yet
    expect(new Set(seen).size).toBe(seen.length);

    const rss = await (await get('/topics/everything.rss?limit=3')).text();
    expect(rss).toMatch(/<atom:link href="http:\/\/feeds\.example\.test\/topics\/everything\.rss\?limit=3&amp;before=[\w-]+" rel="next"\/>/);
    const json = (await (await get('/topics/everything.json?limit=50')).json()) as { items: unknown[]; next_url?: string };
    expect(json.items).toHaveLength(10); // maxLimit
    expect(json.next_url).toMatch(/^http:\/\/feeds\.example\.test\/topics\/everything\.json\?limit=10&before=/);
    const last = (await (await get(`${local(json.next_url!).slice(base.length)}`)).json()) as { items: unknown[]; next_url?: string };
    expect(last.items).toHaveLength(STORY_COUNT - 1 - 10);
    expect(last.next_url).toBeUndefined();
  });

  it.each([
    ['/topics/everything.rss?limit=0', 'invalid limit "0": use a whole number from 1 to 10\n'],
    ['/topics/everything.rss?limit=ten', 'invalid limit "ten": use a whole number from 1 to 10\n'],
    ['/topics/everything.atom?before=bogus', 'invalid "before" cursor: use the next link of a feed page\n'],
  ])('answers %s with 400 and a short message', async (path, message) => {
    const response = await get(path);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe(message);
  });

  it('answers an unknown topic with a plain 404', async () => {
    const response = await get('/topics/nothing-here.rss');
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('No topic "nothing-here"\n');
  });

  it('caches renders, validates with ETag and Last-Modified, and changes both when the topic gains a story', async () => {
    const rendersBefore = served.server.feedCache.renders;
    const first = await get('/topics/japan-us-security.atom?limit=7'); // a page nobody asked for yet
    const second = await get('/topics/japan-us-security.atom?limit=7');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{27}(-br|-gz)?"$/);
    expect(second.headers.get('etag')).toBe(etag);
    expect(await second.text()).toBe(await first.text());
    expect(served.server.feedCache.renders - rendersBefore).toBe(1);
    expect(first.headers.get('cache-control')).toBe('public, max-age=120');
    expect(first.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox; frame-ancestors 'none'");
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');

    const byEtag = await get('/topics/japan-us-security.atom?limit=7', { 'if-none-match': etag });
    expect(byEtag.status).toBe(304);
    expect(await byEtag.text()).toBe('');
    const lastModified = first.headers.get('last-modified')!;
    expect((await get('/topics/japan-us-security.atom?limit=7', { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await get('/topics/japan-us-security.atom?limit=7', { 'if-none-match': '"other"' })).status).toBe(200);

    // NHK's versions join stories in the topic: entries change, so must the validators.
    hubPings.length = 0;
    await ingestSource(ingestContext(app), app.config.sources.find((source) => source.id === 'nhk')!);
    const after = await get('/topics/japan-us-security.atom?limit=7', { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(Date.parse(after.headers.get('last-modified')!)).toBeGreaterThanOrEqual(Date.parse(lastModified));
  });

  it('within the version delay, a server sees its own process change topics at once through invalidateTopics', async () => {
    const cached = await serveApp(app, { versionTtlMs: 60_000 });
    const url = `${cached.base}/topics/everything.json?limit=2`;
    try {
      const before = await fetch(url);
      await app.database.db.execute(sql`update topics set changed_at = now() + interval '1 second' where slug = 'everything'`);
      expect((await fetch(url)).headers.get('last-modified')).toBe(before.headers.get('last-modified'));
      cached.server.invalidateTopics(['everything']);
      expect((await fetch(url)).headers.get('last-modified')).not.toBe(before.headers.get('last-modified'));
    } finally {
      await cached.stop();
    }
  });

  it('compresses with br or gzip, each encoding with its own ETag', async () => {
    const plain = await (await get('/topics/everything.rss', { 'accept-encoding': 'identity' })).text();
    for (const [encoding, decode] of [
      ['br', brotliDecompressSync],
      ['gzip', gunzipSync],
    ] as const) {
      const response = await fetch(`${base}/topics/everything.rss`, { headers: { 'accept-encoding': encoding } });
      // fetch decodes transparently: check the headers, then fetch raw bytes with node:http to decode ourselves.
      expect(response.headers.get('content-encoding')).toBe(encoding);
      expect(response.headers.get('etag')).toMatch(encoding === 'br' ? /-br"$/ : /-gz"$/);
      const raw = await new Promise<Buffer>((resolve, reject) => {
        import('node:http').then(({ get: httpGet }) =>
          httpGet(`${base}/topics/everything.rss`, { headers: { 'accept-encoding': encoding } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk) => chunks.push(chunk));
            res.on('end', () => resolve(Buffer.concat(chunks)));
          }).on('error', reject),
        );
      });
      expect(decode(raw).toString()).toBe(plain);
    }
  });

  it('announces the hub in every format and pings it when a topic changes', async () => {
    const atom = await (await get('/topics/japan-us-security.atom')).text();
    expect(atom).toContain(`<link rel="hub" href="${hub.url}/hub"/>`);
    const rss = await (await get('/topics/japan-us-security.rss')).text();
    expect(rss).toContain(`<atom:link href="${hub.url}/hub" rel="hub"/>`);
    const json = (await (await get('/topics/japan-us-security.json')).json()) as { hubs: unknown };
    expect(json.hubs).toEqual([{ type: 'WebSub', url: `${hub.url}/hub` }]);
    // The ping is sent after the ingest commits, without waiting for it: poll for it.
    for (let waited = 0; hubPings.length === 0 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    const ping = new URLSearchParams(hubPings.join('&'));
    expect(ping.get('hub.mode')).toBe('publish');
    expect(ping.getAll('hub.url')).toContain('http://feeds.example.test/topics/japan-us-security.atom');
  });

  it('serves OPML 2.0 listing every topic feed', async () => {
    const response = await get('/opml');
    expect(response.headers.get('content-type')).toBe('text/x-opml; charset=utf-8');
    const opml = await response.text();
    expect(opml).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<opml version="2.0">/);
    expect([...opml.matchAll(/xmlUrl="([^"]+)"/g)].map((match) => match[1])).toEqual([
      'http://feeds.example.test/topics/everything.atom',
      'http://feeds.example.test/topics/japan-us-security.atom',
    ]);
    expect(opml).toContain('text="Everything &lt;&amp;&gt; &quot;quoted&quot;"');
    // Every topic's daily digest in one list too, and both linked from the index.
    const digests = await get('/opml/digests');
    expect(digests.headers.get('content-disposition')).toBe('inline; filename="wirefeed-digests.opml"');
    const digestOpml = await digests.text();
    expect([...digestOpml.matchAll(/xmlUrl="([^"]+)"/g)].map((match) => match[1])).toEqual([
      'http://feeds.example.test/topics/everything/digest.atom',
      'http://feeds.example.test/topics/japan-us-security/digest.atom',
    ]);
    expect(digestOpml).toContain('text="Everything &lt;&amp;&gt; &quot;quoted&quot; (daily digest)"');
    const index = await (await get('/')).text();
    expect(index).toContain('<a href="http://feeds.example.test/opml" type="text/x-opml">every topic</a>');
    expect(index).toContain('<a href="http://feeds.example.test/opml/digests" type="text/x-opml">their daily digests</a>');
  });
});
