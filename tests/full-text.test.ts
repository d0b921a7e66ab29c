/**
 * Full text of short wire items: a source with `fullText: true` whose feed carries a headline and a line per item,
 * served with its article pages by a real HTTP server on loopback. The article replaces the short text (sanitized),
 * topics match words only the article has, and a page that fails, holds no article or is not allowed leaves the
 * feed's text. Stored items are not fetched again unless a newer version arrives.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { rowsOf } from '../src/db/client.js';
import { DEFAULT_RETENTION_SETTINGS } from '../src/model/settings.js';
import { pruneStore } from '../src/store/retention.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { writeConfigDir } from './helpers/config.js';
import { useTestDatabase } from './helpers/database.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const testDatabase = useTestDatabase();

/** The article pages, as a news site prints them: navigation, the story, a related list, a footer. */
const articlePage = (headline: string, paragraphs: string[], extra = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${headline} | JIJI Press</title></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav></header>
<main><article><h1>${headline}</h1><p class="byline">JIJI Press</p>
${paragraphs.map((paragraph) => `<p>${paragraph}</p>`).join('\n')}${extra}</article>
<aside><h2>Related</h2><ul><li><a href="/news/1">Yen slips</a></li><li><a href="/news/2">Nikkei closes higher</a></li></ul></aside></main>
<footer>Copyright JIJI Press. All rights reserved.</footer></body></html>`;

const MARINES = [
  'Tokyo, June 8 (Jiji Press)--The U.S. military will begin relocating Marines stationed in Okinawa Prefecture, southern Japan, to the U.S. territory of Guam in December, the Japanese government said Saturday.',
  'About 100 members of a logistics battalion will move first, Defense Minister Kihara Minoru told reporters, calling the start a concrete step toward reducing the burden on Okinawa.',
  'Under a 2012 bilateral agreement, some 4,000 of the roughly 19,000 Marines in Okinawa are to be moved to Guam. The full transfer is expected to take several years.',
];
const BOJ = [
  'Tokyo, June 14 (Jiji Press)--The Bank of Japan kept its short-term policy rate unchanged on Friday and said it would present a detailed plan to cut its purchases of Japanese government bonds in July.',
  'Governor Ueda Kazuo told a press conference that the central bank would reduce its bond buying by a sizable amount, leaving markets to guess the pace of the cuts for another month.',
  '<a href="javascript:alert(1)">Read the statement</a> <img src="/img/boj.jpg" onerror="alert(2)" alt="The Bank of Japan">',
];

interface FeedItem {
  slug: string;
  title: string;
  description: string;
  pubDate: string;
  link?: string;
}

let server: TestServer;
const held: Array<import('node:http').ServerResponse> = [];
let items: FeedItem[] = [];
const pages = new Map<string, string>();

const feed = () => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>JIJI Press English News</title><link>${server.url}/</link><description>Wire</description>
${items
  .map(
    (item) => `<item><title>${item.title}</title><link>${item.link ?? `${server.url}/news/${item.slug}`}</link>
<guid isPermaLink="false">jiji:${item.slug}</guid><pubDate>${item.pubDate}</pubDate><description>${item.description}</description></item>`,
  )
  .join('\n')}
</channel></rss>`;

const pageHits = (slug: string) => server.requests.filter((request) => request.url === `/news/${slug}`).length;

beforeAll(async () => {
  server = await startTestServer((request, response) => {
    if (request.url === '/feed.xml') return response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feed());
    if (request.url === '/news/slow') return void held.push(response); // answered when the test ends
    const page = pages.get(request.url ?? '');
    if (page === undefined) return response.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  });
  pages.set('/news/marines', articlePage('U.S. Marines to Begin Okinawa-to-Guam Relocation in December', MARINES));
  pages.set('/news/boj', articlePage('BOJ Keeps Policy Rate Unchanged, Eyes Bond Purchase Cuts', BOJ.slice(0, 2), `<p>${BOJ[2]}</p><script>alert(3)</script>`));
  pages.set('/news/paywall', '<!doctype html><html><body><p>Subscribe to read this story.</p></body></html>');
});

afterAll(async () => {
  for (const response of held) response.end();
  await server.close();
});

let app: App;

beforeEach(async () => {
  items = [
    {
      slug: 'marines',
      title: 'U.S. Marines to Begin Okinawa-to-Guam Relocation in December',
      description: 'Tokyo, June 8 (Jiji Press)--The U.S. military will begin relocating Marines.',
      pubDate: 'Sat, 08 Jun 2024 09:05:00 GMT',
    },
    {
      slug: 'boj',
      title: 'BOJ Keeps Policy Rate Unchanged, Eyes Bond Purchase Cuts',
      description: 'Tokyo, June 14 (Jiji Press)--The Bank of Japan kept its policy rate unchanged.',
      pubDate: 'Fri, 14 Jun 2024 03:31:00 GMT',
    },
    {
      slug: 'gone',
      title: 'Typhoon Nears Okinawa',
      description: 'Tokyo, June 20 (Jiji Press)--A typhoon approached Okinawa.',
      pubDate: 'Thu, 20 Jun 2024 01:00:00 GMT',
    },
    {
      slug: 'paywall',
      title: 'Toyota Recalls 100,000 Cars',
      description: 'Tokyo, June 21 (Jiji Press)--Toyota said it would recall cars.',
      pubDate: 'Fri, 21 Jun 2024 02:00:00 GMT',
    },
    {
      slug: 'private',
      title: 'Nikkei Ends Higher',
      description: 'Tokyo, June 22 (Jiji Press)--Stocks rose.',
      pubDate: 'Sat, 22 Jun 2024 06:00:00 GMT',
      link: 'http://10.255.255.1/news/private',
    },
    {
      slug: 'long',
      title: 'Diet Passes Budget',
      description: `Tokyo, June 23 (Jiji Press)--${'The Diet passed the budget after weeks of debate. '.repeat(20)}`,
      pubDate: 'Sun, 23 Jun 2024 04:00:00 GMT',
    },
  ];
  const config = writeConfigDir({
    'sources.yml': `sources:\n  - id: jiji\n    url: ${server.url}/feed.xml\n    title: JIJI Press\n    allowPrivateNetwork: [127.0.0.1]\n    fullText: true\n`,
    'topics.yml': `topics:\n  - slug: logistics\n    title: Logistics\n    query: 'battalion'\n`,
  });
  app = await openApp({ configDir: config, database: testDatabase().handle });
  return () => app.close();
});

const ingest = () => ingestSources(ingestContext(app), app.config.sources);
const stored = async () =>
  Object.fromEntries(
    (
      await rowsOf<{ guid: string; content_html: string | null; content_text: string | null; summary: string | null; revision: number }>(
        testDatabase().handle.db,
        sql`select guid, content_html, content_text, summary, revision from items`,
      )
    ).map((row) => [row.guid.replace('jiji:', ''), row]),
  );

describe('full text of short items', () => {
  it('reads the article of each short new item into its text, sanitized, and leaves the rest as the feed gave it', async () => {
    const summary = await ingest();
    expect(summary.itemsNew).toBe(6);
    const rows = await stored();
    // The article, without the page's navigation, related list or footer; the feed's line stays the summary.
    expect(rows.marines!.content_html).toContain('About 100 members of a logistics battalion will move first');
    expect(rows.marines!.content_html).not.toMatch(/Home|Related|Copyright/);
    expect(rows.marines!.summary).toBe('Tokyo, June 8 (Jiji Press)--The U.S. military will begin relocating Marines.');
    // Through the same sanitizer as feed HTML: no script, handler or javascript: link; relative URLs made absolute.
    expect(rows.boj!.content_html).toContain('leaving markets to guess the pace of the cuts');
    expect(rows.boj!.content_html).not.toMatch(/script|onerror|javascript:/i);
    expect(rows.boj!.content_html).toContain(`src="${server.url}/img/boj.jpg"`);
    // A 404, a page with no article and an address the source may not reach: the feed's text, as before.
    expect(rows.gone!.content_html).toBe('Tokyo, June 20 (Jiji Press)--A typhoon approached Okinawa.');
    expect(rows.paywall!.content_html).toBe('Tokyo, June 21 (Jiji Press)--Toyota said it would recall cars.');
    expect(rows.private!.content_html).toBe('Tokyo, June 22 (Jiji Press)--Stocks rose.');
    // Long enough already: its page is never asked for.
    expect(pageHits('long')).toBe(0);
    expect(['marines', 'boj', 'gone', 'paywall'].map(pageHits)).toEqual([1, 1, 1, 1]);
    const counted = Object.fromEntries((await app.metrics.articlePages.get()).values.map(({ labels, value }) => [labels.result, value]));
    expect(counted).toEqual({ article: 2, none: 1, failed: 2 });
  });

  it("reads the article where the source's rules say it is, and without what they take out", async () => {
    const config = writeConfigDir({
      'sources.yml': `sources:\n  - id: jiji\n    url: ${server.url}/feed.xml\n    allowPrivateNetwork: [127.0.0.1]\n    fullText:\n      select: 'article p'\n      remove: '.byline, p:has(img)'\n`,
    });
    const ruled = await openApp({ configDir: config, database: testDatabase().handle });
    try {
      await ingestSources(ingestContext(ruled), ruled.config.sources);
    } finally {
      await ruled.close();
    }
    const rows = await stored();
    // The paragraphs, not the headline, nor the byline the rules remove; the image paragraph Readability keeps is gone.
    expect(rows.marines!.content_html).toMatch(/^<p>Tokyo, June 8 \(Jiji Press\)--The U\.S\. military/);
    expect(rows.marines!.content_html).toContain('The full transfer is expected to take several years.');
    expect(rows.marines!.content_html).not.toMatch(/<h1|>JIJI Press</);
    expect(rows.boj!.content_html).toContain('leaving markets to guess the pace of the cuts');
    expect(rows.boj!.content_html).not.toContain('boj.jpg');
    // A page where the rules find nothing keeps the feed's text.
    expect(rows.paywall!.content_html).toBe('Tokyo, June 21 (Jiji Press)--Toyota said it would recall cars.');
  });

  it('files a story under a topic that only its article matches', async () => {
    await ingest();
    const [row] = await rowsOf<{ guid: string }>(
      testDatabase().handle.db,
      sql`select i.guid from topic_stories t join items i on i.story_id = t.story_id where t.topic_slug = 'logistics'`,
    );
    expect(row?.guid).toBe('jiji:marines');
  });

  it('does not fetch a stored item again, nor let its short feed text replace the article; a newer version is read again', async () => {
    await ingest();
    const hits = pageHits('marines');
    // The feed edits its line (the item is parsed again) without a newer date: a duplicate, the article stays.
    items[0] = { ...items[0]!, description: 'Tokyo, June 8 (Jiji Press)--The U.S. military will begin relocating Marines to Guam.' };
    const again = await ingest();
    expect(again.itemsNew).toBe(0);
    expect(pageHits('marines')).toBe(hits);
    expect((await stored()).marines!.content_html).toContain('logistics battalion');
    // A newer version: its page is read again and the item revised with it.
    pages.set(
      '/news/marines',
      articlePage('U.S. Marines to Begin Okinawa-to-Guam Relocation in December', [
        ...MARINES,
        'The first group arrived in Guam on Dec. 15, officials said later.',
      ]),
    );
    items[0] = { ...items[0]!, pubDate: 'Sun, 15 Dec 2024 10:00:00 GMT' };
    await ingest();
    expect(pageHits('marines')).toBe(hits + 1);
    const revised = (await stored()).marines!;
    expect(revised.revision).toBe(1);
    expect(revised.content_html).toContain('The first group arrived in Guam on Dec. 15');
  });

  it('does not fetch the page of an archived item its feed still carries, even in a newer version', async () => {
    await ingest();
    const { db } = testDatabase().handle;
    await db.execute(sql`update items set first_seen_at = now() - interval '200 days'`);
    expect((await pruneStore(db, { ...DEFAULT_RETENTION_SETTINGS, keepPerSource: 0 })).itemRows).toBe(6);
    const hits = pageHits('marines');
    items[0] = { ...items[0]!, pubDate: 'Sun, 15 Dec 2024 10:00:00 GMT' };
    const again = await ingest();
    expect(again.itemsNew).toBe(0);
    expect(pageHits('marines')).toBe(hits);
    expect(await stored()).toEqual({});
  });

  it('abandons the whole document at shutdown rather than store it without the articles being fetched', async () => {
    items = [
      {
        slug: 'slow',
        title: 'Cabinet Approves Defense White Paper',
        description: 'Tokyo, July 12 (Jiji Press)--The cabinet approved the paper.',
        pubDate: 'Fri, 12 Jul 2024 01:00:00 GMT',
      },
    ];
    const stopping = new AbortController();
    const pass = ingestSources({ ...ingestContext(app), signal: stopping.signal }, app.config.sources);
    while (held.length === 0) await new Promise((done) => setTimeout(done, 10));
    stopping.abort();
    const summary = await pass;
    expect(summary.outcomes.map((outcome) => outcome.outcome)).toEqual(['deferred']);
    expect(await stored()).toEqual({});
  });
});
