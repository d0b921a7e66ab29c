/**
 * A topic's daily digest served over HTTP: stories stored from a real feed (dated relative to now), the digest read
 * in every format through the real server, safe and well-formed; today's stories wait for tomorrow's entry.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { writeConfigDir } from './helpers/config.js';
import { useTestDatabase } from './helpers/database.js';
import { assertSafeFeed, childrenNamed, strictXml, textOf } from './helpers/feed-safety.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const testDatabase = useTestDatabase();
const DAY_MS = 86_400_000;
const startOfToday = Math.floor(Date.now() / DAY_MS) * DAY_MS;
/** Noon of the UTC day `days` before today (0: today, but never later than now). */
const noon = (days: number) => new Date(Math.min(startOfToday - days * DAY_MS + DAY_MS / 2, Date.now() - 1000));
const dateOf = (days: number) => new Date(startOfToday - days * DAY_MS).toISOString().slice(0, 10);

const ITEMS = [
  { slug: 'today', title: 'Japan, U.S. Defense Chiefs Meet Again', at: noon(0) },
  { slug: 'forum', title: 'Japan, U.S. to Set Up Forum on Joint Arms Production', at: noon(1) },
  { slug: 'drills', title: 'Japan, U.S. Hold Joint Missile Defense Drills & More', at: noon(1) },
  { slug: 'talks', title: 'Japan, U.S. Defense Talks in Tokyo', at: noon(3) },
  { slug: 'tea', title: 'Kenya Tea Exports Rise', at: noon(1) },
];

let feedServer: TestServer;
let configDir: string;
beforeAll(async () => {
  feedServer = await startTestServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>JIJI Press</title><link>${feedServer.url}/</link><description>Wire</description>
${ITEMS.map(
  (item) => `<item><title>${item.title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</title><link>${feedServer.url}/news/${item.slug}</link>
<pubDate>${item.at.toUTCString()}</pubDate><description>The wire reported it.</description></item>`,
).join('\n')}
</channel></rss>`),
  );
  configDir = writeConfigDir({
    'sources.yml': `sources:\n  - id: jiji\n    url: ${feedServer.url}/feed.xml\n    title: JIJI Press\n    allowPrivateNetwork: [127.0.0.1]\n`,
    'topics.yml': `topics:
  - slug: security
    title: Japan-US security
    query: 'japan AND (defense OR arms)'
  - slug: security-tokyo
    title: Japan-US security (Tokyo desk)
    query: 'japan AND (defense OR arms)'
    timeZone: asia/tokyo
  - slug: security-afternoon
    title: Japan-US security (read at 13:00 UTC)
    query: 'japan AND (defense OR arms)'
    digestAt: '13:00'
`,
  });
});
afterAll(() => feedServer.close());

/** The app with the feed stored, served (the test database is emptied before each test). */
let app: App;
let served: ServedApp;
beforeEach(async () => {
  app = await openTestApp(testDatabase().handle, { configDir, ingest: true });
  served = await serveApp(app);
  return async () => {
    await served.stop();
    await app.close();
  };
});

describe("a topic's daily digest", () => {
  it('lists each finished day with its stories in RSS, Atom and JSON Feed, leaving today for tomorrow', async () => {
    const rss = await fetch(`${served.base}/topics/security/digest.rss`);
    expect(rss.status).toBe(200);
    expect(rss.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const body = await rss.text();
    assertSafeFeed('rss', body);
    const items = childrenNamed(childrenNamed(strictXml(body), 'channel')[0]!, 'item');
    expect(items.map((item) => textOf(childrenNamed(item, 'title')[0]!))).toEqual([`2 stories on ${dateOf(1)}`, `1 story on ${dateOf(3)}`]);
    const listed = textOf(childrenNamed(items[0]!, 'content:encoded')[0]!);
    expect(listed).toContain(`<a href="${feedServer.url}/news/drills">Japan, U.S. Hold Joint Missile Defense Drills &amp; More</a>`);
    expect(listed).not.toContain('Meet Again');

    const atom = await (await fetch(`${served.base}/topics/security/digest.atom`)).text();
    assertSafeFeed('atom', atom);
    expect(childrenNamed(strictXml(atom), 'entry')).toHaveLength(2);
    const json = (await (await fetch(`${served.base}/topics/security/digest.json`)).json()) as { items: Array<{ id: string }> };
    expect(json).toMatchObject({ title: 'Japan-US security (daily digest)', feed_url: `${served.base}/topics/security/digest.json` });
    expect(json.items.map((item) => item.id)).toEqual([`urn:wirefeed:story:digest-security-${dateOf(1)}`, `urn:wirefeed:story:digest-security-${dateOf(3)}`]);
  });

  it("lists the days of the topic's time zone: Tokyo's, nine hours ahead of UTC all year", async () => {
    const tokyoDate = (instant: number) => new Date(instant + 9 * 3_600_000).toISOString().slice(0, 10);
    const today = tokyoDate(Date.now());
    const weekAgo = tokyoDate(Date.now() - 7 * DAY_MS);
    const counted = new Map<string, number>();
    for (const { title, at } of ITEMS.filter((item) => /defense|arms/i.test(item.title))) {
      const date = tokyoDate(at.getTime());
      if (date < today && date >= weekAgo) counted.set(date, (counted.get(date) ?? 0) + 1);
      expect(title).toMatch(/^Japan/);
    }
    const expected = [...counted].sort(([a], [b]) => b.localeCompare(a)).map(([date, count]) => `${count} ${count === 1 ? 'story' : 'stories'} on ${date}`);
    const json = (await (await fetch(`${served.base}/topics/security-tokyo/digest.json`)).json()) as {
      description: string;
      items: Array<{ title: string; date_published: string }>;
    };
    expect(json.description).toContain('(days in Asia/Tokyo)');
    expect(json.items.map((item) => item.title)).toEqual(expected);
    // Each entry is dated at the end of its Tokyo day: 15:00 UTC.
    expect(json.items.every((item) => item.date_published.endsWith('T15:00:00.000Z') || item.date_published.endsWith('T15:00:00Z'))).toBe(true);
  });

  it('lists days that end at the hour the digest is read: 13:00 to 13:00, each entry appearing at 13:00', async () => {
    const HOUR_MS = 3_600_000;
    // The latest 13:00 UTC that has passed ends the newest finished day; the window holds seven.
    const lastEnd = Math.floor((Date.now() - 13 * HOUR_MS) / DAY_MS) * DAY_MS + 13 * HOUR_MS;
    const counted = new Map<number, number>();
    for (const { title, at } of ITEMS.filter((item) => /defense|arms/i.test(item.title))) {
      const end = Math.floor((at.getTime() - 13 * HOUR_MS) / DAY_MS) * DAY_MS + 13 * HOUR_MS + DAY_MS;
      if (end <= lastEnd && end > lastEnd - 7 * DAY_MS) counted.set(end, (counted.get(end) ?? 0) + 1);
      expect(title).toMatch(/^Japan/);
    }
    const expected = [...counted]
      .sort(([a], [b]) => b - a)
      .map(([end, count]) => [
        `${count} ${count === 1 ? 'story' : 'stories'} to 13:00 on ${new Date(end).toISOString().slice(0, 10)}`,
        new Date(end).toISOString(),
      ]);
    const json = (await (await fetch(`${served.base}/topics/security-afternoon/digest.json`)).json()) as {
      description: string;
      items: Array<{ title: string; date_published: string }>;
    };
    expect(json.description).toContain('(UTC days from 13:00)');
    expect(json.items.map((item) => [item.title, new Date(item.date_published).toISOString()])).toEqual(expected);
  });

  it("is linked from the topic's page; answers a conditional request with 304, an unknown topic or format with 404", async () => {
    const first = await fetch(`${served.base}/topics/security/digest.atom`);
    const again = await fetch(`${served.base}/topics/security/digest.atom`, { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect(await (await fetch(`${served.base}/topics/security.html`)).text()).toContain(`href="${served.base}/topics/security/digest.rss"`);
    expect((await fetch(`${served.base}/topics/nope/digest.rss`)).status).toBe(404);
    expect((await fetch(`${served.base}/topics/security/digest.html`)).status).toBe(404);
  });
});
