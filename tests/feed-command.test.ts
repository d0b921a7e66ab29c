import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedEntry } from '../src/commands/feed.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { type FixtureServer, startFixtureServer } from './helpers/fixture-server.js';

/** A wire outlet's Japan feed as such feeds come: a short-link guid, a "GMT9" date, and the dates feeds get wrong. */
const WIRE_FEED = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Pacific Wire: Japan</title>
    <link>https://www.pacificwire.example/japan</link>
    <description>Japan news from Pacific Wire</description>
    <language>en-us</language>
    <item>
      <title>Japan, U.S. defense chiefs agree to upgrade command ties</title>
      <link>https://www.pacificwire.example/japan/2024/06/02/defense-chiefs?utm_source=rss&amp;utm_medium=feed</link>
      <guid isPermaLink="true">https://pwire.example/d7k2</guid>
      <pubDate>02 Jun 2024 08:06:19 GMT9</pubDate>
      <category>Politics</category>
      <description>TOKYO (Pacific Wire) - Japanese Defense Minister Minoru Kihara and U.S. Defense Secretary Lloyd Austin agreed on Sunday to upgrade the command and control of their forces in Japan.</description>
    </item>
    <item>
      <title>Tokyo stocks open lower as yen firms against the dollar</title>
      <link>https://www.pacificwire.example/japan/markets/open-0603</link>
      <description>TOKYO (Pacific Wire) - The Nikkei average opened lower on Monday.</description>
    </item>
    <item>
      <title>Bank of Japan policy statement</title>
      <link>https://www.pacificwire.example/japan/boj-statement</link>
      <pubDate>Thu, 02 Jan 2031 03:00:00 GMT</pubDate>
      <description>The Bank of Japan releases its policy statement.</description>
    </item>
    <item>
      <title>Okinawa governor to visit Washington</title>
      <link>https://www.pacificwire.example/japan/okinawa-governor</link>
      <pubDate>soon</pubDate>
      <description>NAHA (Pacific Wire) - The governor of Okinawa will visit Washington to discuss U.S. military bases.</description>
    </item>
    <item>
      <title>Sponsored: discover Okinawa's beaches this summer</title>
      <link>https://www.pacificwire.example/partner/okinawa-beaches</link>
      <pubDate>Sat, 01 Jun 2024 00:00:00 GMT</pubDate>
      <description>Travel offers from our partners.</description>
    </item>
  </channel>
</rss>
`;

const TOPICS = `topics:
  - slug: japan-us-security
    title: Japan–US security
    query: 'japan AND ("united states" OR u.s. OR pentagon) AND (defense OR security OR military)'
  - slug: markets
    title: Markets
    query: 'stocks OR nikkei'
  - slug: okinawa
    title: Okinawa
    query: okinawa
`;

describe('wirefeed feed: a feed read as Wirefeed would store it, nothing stored', () => {
  let fixtures: FixtureServer;
  let dir: string;

  beforeAll(async () => {
    fixtures = await startFixtureServer({ '/japan.rss': { body: WIRE_FEED, contentType: 'application/rss+xml' } });
    fixtures.set('/not-a-feed', '<!doctype html><html><head><title>Sign in</title></head><body><form></form></body></html>', 'text/html');
    fixtures.set(
      '/jc/eng',
      `<!doctype html><html><head><title>Politics | Pacific Wire</title></head><body><ul class="news-list">
<li><a href="/jc/eng?k=2024060200123">Japan, U.S. defense chiefs meet in Singapore</a><span class="date">2024/06/02 08:06</span></li>
<li><a href="/jc/eng?k=2024060100087">Okinawa assembly election campaign opens</a><span class="date">2024/06/01 10:00</span></li>
</ul></body></html>`,
      'text/html; charset=utf-8',
    );
    dir = writeConfigDir({
      'sources.yml': `sources:
  - id: pacific-wire
    url: ${fixtures.url}/japan.rss
    allowPrivateNetwork: true
    shortUrlHosts: [pwire.example]
    exclude: 'title:sponsored'
    fullText: true
  - id: pacific-politics
    url: ${fixtures.url}/jc/eng
    allowPrivateNetwork: true
    scrape: { items: 'ul.news-list > li', date: .date, timeZone: Asia/Tokyo }
`,
      'topics.yml': TOPICS,
    });
  });
  afterAll(async () => {
    await fixtures?.close();
  });

  const feed = async (args: string[]) => {
    const cli = runCli(['feed', ...args, '--config', dir], { LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    const code = await cli.exited;
    return { code, ...cli.output() };
  };

  it("reads a source's feed as that source: its short-link hosts, filters, full text and the topics", async () => {
    const { code, stdout, stderr } = await feed(['--source', 'pacific-wire']);
    expect(code, stderr).toBe(0);
    const blocks = stdout.trimEnd().split(/\n(?=\S)/);
    expect(blocks[0]).toBe(
      [
        '2024-06-01T23:06:19.000Z  Japan, U.S. defense chiefs agree to upgrade command ties',
        '  https://www.pacificwire.example/japan/2024/06/02/defense-chiefs · short https://pwire.example/d7k2',
        '  date "02 Jun 2024 08:06:19 GMT9" · en · 180 characters · its article would be read · topics japan-us-security',
      ].join('\n'),
    );
    expect(blocks[1]).toMatch(
      /^\(no date\) {2}Tokyo stocks open lower .*\n.*\n {2}no date: filed under the time it is first seen · en · \d+ characters · its article would be read · topics markets$/,
    );
    expect(blocks[2]).toContain('date "Thu, 02 Jan 2031 03:00:00 GMT" is in the future: filed under the time it is first seen');
    expect(blocks[3]).toContain('date "soon" cannot be read: filed under the time it is first seen');
    expect(blocks[3]).toMatch(/topics okinawa$/);
    expect(blocks[4]).toMatch(/^2024-06-01T00:00:00\.000Z {2}Sponsored: .*\n.*\n.* · left out by the source's keep or exclude$/);
    expect(stderr).toBe(
      `read 5 items from ${fixtures.url}/japan.rss (1 left out by keep or exclude, 3 without a usable date); topics: japan-us-security 1, markets 1, okinawa 1\n`,
    );
  });

  it('gives each item with its identity and fate in --json', async () => {
    const { code, stdout } = await feed(['--source', 'pacific-wire', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { entries: FeedEntry[]; unreadable: unknown[]; cut: number };
    expect(report.entries[0]).toEqual({
      title: 'Japan, U.S. defense chiefs agree to upgrade command ties',
      url: 'https://www.pacificwire.example/japan/2024/06/02/defense-chiefs',
      shortUrl: 'https://pwire.example/d7k2',
      key: 'short:https://pwire.example/d7k2',
      publishedAt: '2024-06-01T23:06:19.000Z',
      dateGiven: '02 Jun 2024 08:06:19 GMT9',
      dateProblem: null,
      language: 'en',
      characters: 180,
      categories: ['Politics'],
      stored: true,
      topics: ['japan-us-security'],
      readsArticle: true,
    });
    expect(report.entries.map((entry) => [entry.dateGiven, entry.dateProblem, entry.stored])).toEqual([
      ['02 Jun 2024 08:06:19 GMT9', null, true],
      [null, null, true],
      ['Thu, 02 Jan 2031 03:00:00 GMT', 'future', true],
      ['soon', 'unreadable', true],
      ['Sat, 01 Jun 2024 00:00:00 GMT', null, false],
    ]);
    expect(report.unreadable).toEqual([]);
    expect(report.cut).toBe(0);
  });

  it('reads a URL alone as a new source would: public addresses only unless allowed, no filters of a source', async () => {
    const refused = await feed([`${fixtures.url}/japan.rss`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^wirefeed feed: cannot fetch http:\/\/127\.0\.0\.1:\d+\/japan\.rss: .*; add --allow-private-network to allow it\n$/);
    const allowed = await feed([`${fixtures.url}/japan.rss`, '--allow-private-network', '--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
    const entries = (JSON.parse(allowed.stdout) as { entries: FeedEntry[] }).entries;
    // No short-link hosts of its own: the guid is not its identity, the link is.
    expect(entries[0]).toMatchObject({ shortUrl: null, key: 'url:https://www.pacificwire.example/japan/2024/06/02/defense-chiefs', readsArticle: false });
    expect(entries[4]).toMatchObject({ stored: true, topics: ['okinawa'] });
  });

  it('reads a web page source by its scrape rules, its dates in its time zone', async () => {
    const { code, stdout, stderr } = await feed(['--source', 'pacific-politics', '--json']);
    expect(code, stderr).toBe(0);
    const entries = (JSON.parse(stdout) as { entries: FeedEntry[] }).entries;
    expect(entries.map((entry) => [entry.title, entry.url, entry.publishedAt, entry.topics])).toEqual([
      ['Japan, U.S. defense chiefs meet in Singapore', `${fixtures.url}/jc/eng?k=2024060200123`, '2024-06-01T23:06:00.000Z', ['japan-us-security']],
      ['Okinawa assembly election campaign opens', `${fixtures.url}/jc/eng?k=2024060100087`, '2024-06-01T01:00:00.000Z', ['okinawa']],
    ]);
  });

  it('names a document that is not a feed', async () => {
    const { code, stderr } = await feed([`${fixtures.url}/not-a-feed`, '--allow-private-network']);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^${fixtures.url}/not-a-feed: .*\\n$`));
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
