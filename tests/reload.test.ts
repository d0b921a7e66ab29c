/**
 * `wirefeed sources reload ID` through the real CLI, against a real HTTP server on loopback serving a wire feed of
 * one-line items and their article pages: after full text is turned on, the short items stored before take their
 * articles (sanitized), topics match words only the articles have, stories and timestamps stay, and a later fetch of
 * the feed does not put the short text back. Mended rules read every item's page again with --all. A dry run stores
 * nothing; a page that fails is reported and its item kept; nothing is recorded as a fetch.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../src/app.js';
import { rowsOf } from '../src/db/client.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { useTestDatabase } from './helpers/database.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const testDatabase = useTestDatabase();

const MARINES = [
  'Tokyo, June 8 (Jiji Press)--The U.S. military will begin relocating Marines stationed in Okinawa Prefecture, southern Japan, to the U.S. territory of Guam in December, the Japanese government said Saturday.',
  'About 100 members of a logistics battalion will move first, Defense Minister Kihara Minoru told reporters, calling the start a concrete step toward reducing the burden on Okinawa.',
  'Under a 2012 bilateral agreement, some 4,000 of the roughly 19,000 Marines in Okinawa are to be moved to Guam. The full transfer is expected to take several years and cost the two governments billions of dollars.',
  'Okinawa Governor Tamaki Denny welcomed the start of the move but said the prefecture still hosts about 70 pct of the land used exclusively by U.S. forces in Japan.',
];
const BOJ = [
  'Tokyo, June 14 (Jiji Press)--The Bank of Japan kept its short-term policy rate unchanged on Friday and said it would present a detailed plan to cut its purchases of Japanese government bonds in July.',
  '<img src="/img/boj.jpg" onerror="alert(2)" alt="The Bank of Japan"> Governor Ueda Kazuo told a press conference that the central bank would reduce its bond buying by a sizable amount.',
];
const COMMENTS = '<div class="comments"><h2>Comments</h2><p>Reader one: About time this happened, after all these years of talk.</p></div>';

/** An article page as a news site prints it: navigation, the story, readers' comments, a related list, a footer. */
const articlePage = (headline: string, paragraphs: string[]) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${headline} | JIJI Press</title></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<main><article><h1>${headline}</h1><div class="story-body">${paragraphs.map((paragraph) => `<p>${paragraph}</p>`).join('\n')}</div>
${COMMENTS}<script>alert(3)</script></article>
<aside><h2>Related</h2><ul><li><a href="/news/1">Yen slips</a></li></ul></aside></main>
<footer>Copyright JIJI Press.</footer></body></html>`;

const ITEMS = [
  { slug: 'marines', title: 'U.S. Marines to Begin Okinawa Relocation in December', line: 'The U.S. military will begin relocating Marines in December.' },
  { slug: 'boj', title: 'BOJ Keeps Policy Rate Unchanged', line: 'The Bank of Japan kept its policy rate unchanged.' },
  { slug: 'paywall', title: 'Nikkei Ends Week Higher', line: 'Tokyo stocks ended the week higher.' },
  { slug: 'broken', title: 'Typhoon Nears Okinawa', line: 'A typhoon approached Okinawa on Sunday.' },
];

let server: TestServer;
let beforeBojPage: (() => Promise<unknown>) | undefined;
/** What the topic's webhook received: JSON Feeds of the stories new to it. */
const hooked: Array<{ items: Array<{ title: string }> }> = [];
let built = 'Sat, 08 Jun 2024 10:00:00 GMT';
const feed = () => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>JIJI Press English News</title><link>${server.url}/</link><description>Wire</description>
<lastBuildDate>${built}</lastBuildDate>
${ITEMS.map(
  (item, index) => `<item><title>${item.title}</title><link>${server.url}/news/${item.slug}</link><guid isPermaLink="false">jiji:${item.slug}</guid>
<pubDate>Sat, 0${8 - index} Jun 2024 0${index}:00:00 GMT</pubDate><description>${item.line}</description></item>`,
).join('\n')}
</channel></rss>`;

beforeAll(async () => {
  server = await startTestServer((request, response) => {
    const html = (status: number, body: string) => response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    if (request.url === '/hooks/wirefeed') {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      return request.on('end', () => {
        hooked.push(JSON.parse(body));
        response.writeHead(204).end();
      });
    }
    if (request.url === '/feed.xml') return response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feed());
    if (request.url === '/news/marines') return html(200, articlePage(ITEMS[0]!.title, MARINES));
    if (request.url === '/news/boj') {
      // A fetch revising the item while its page is read, where a test asks for one.
      return void (beforeBojPage?.() ?? Promise.resolve()).then(() => html(200, articlePage(ITEMS[1]!.title, BOJ)));
    }
    if (request.url === '/news/paywall') return html(200, '<!doctype html><html><body><p>Subscribe to read.</p></body></html>');
    html(500, '<h1>Internal error</h1>');
  });
});

afterAll(() => server.close());

const sourcesYaml = (fullText: string) => `sources:
  - id: jiji
    url: ${server.url}/feed.xml
    allowPrivateNetwork: [127.0.0.1]${fullText}
publish:
  publicUrl: https://feeds.example.org/
topics:
  - slug: okinawa-guam
    title: Okinawa and Guam
    query: okinawa AND guam
    webhook:
      url: ${server.url}/hooks/wirefeed
`;

type Row = { url: string; story_id: string; content_html: string | null; revision: number; published_at: string; updated_ms: number };
const stored = async () =>
  Object.fromEntries(
    (
      await rowsOf<Row>(
        testDatabase().handle.db,
        sql`select url, story_id, content_html, revision, published_at::text, (extract(epoch from updated_at) * 1000)::float8 as updated_ms from items`,
      )
    ).map((row) => [row.url.split('/').at(-1)!, row]),
  );
const topicStories = async () =>
  (await rowsOf<{ story_id: string }>(testDatabase().handle.db, sql`select story_id from topic_stories where topic_slug = 'okinawa-guam'`)).map(
    (row) => row.story_id,
  );
const fetchCount = async () => (await rowsOf<{ n: number }>(testDatabase().handle.db, sql`select count(*)::int as n from fetch_log`))[0]!.n;

async function reload(config: string, ...args: string[]) {
  const cli = runCli(['sources', 'reload', 'jiji', '--config', config, ...args], { DATABASE_URL: testDatabase().url, LOG_LEVEL: 'silent' });
  const code = await cli.exited;
  return { code, ...cli.output() };
}

async function ingest(config: string) {
  const app = await openApp({ configDir: config, database: testDatabase().handle });
  try {
    return await ingestSources(ingestContext(app), app.config.sources);
  } finally {
    await app.close();
  }
}

describe('sources reload', () => {
  const config = writeConfigDir({});
  const write = (fullText: string) => writeFileSync(join(config, 'sources.yml'), sourcesYaml(fullText));
  /** The feed's four items stored as it gives them (one line each), then the source's full text turned on. */
  async function storedShort(fullText = '\n    fullText: true') {
    write('');
    built = 'Sat, 08 Jun 2024 10:00:00 GMT';
    expect(await ingest(config)).toMatchObject({ ok: 1, itemsNew: 4 });
    write(fullText);
  }

  it('refuses a source that does not read full text, and one that does not exist', async () => {
    await storedShort('');
    const refused = await reload(config);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('source "jiji" does not read full text: set fullText: true');
    const unknown = runCli(['sources', 'reload', 'kyodo', '--config', config], { DATABASE_URL: testDatabase().url, LOG_LEVEL: 'silent' });
    expect(await unknown.exited).toBe(1);
    expect(unknown.output().stderr).toContain('no source with id "kyodo"');
  });

  it('lists the source as reading full text in "wirefeed sources", as text and as JSON', async () => {
    await storedShort();
    const env = { DATABASE_URL: testDatabase().url, LOG_LEVEL: 'silent' };
    const text = runCli(['sources', '--config', config], env);
    expect(await text.exited).toBe(0);
    expect(text.output().stdout).toMatch(/\njiji \(full text\)\s+ok\s/);
    const json = runCli(['sources', '--json', '--config', config], env);
    expect(await json.exited).toBe(0);
    expect(JSON.parse(json.output().stdout)).toMatchObject([{ id: 'jiji', items: 4, reads: { kind: 'feed', fullText: true } }]);
  });

  it('reports what it would revise in a dry run, and stores nothing', async () => {
    await storedShort();
    const before = await stored();
    const fetches = await fetchCount();
    const { code, stdout } = await reload(config, '--dry-run');
    expect(code).toBe(2); // one page failed
    expect(stdout).toMatch(/would revise\s+60\s+[\d,]+\s+U\.S\. Marines/);
    expect(stdout).toMatch(/failed\s+39\s+-\s+Typhoon Nears Okinawa.*\(HTTP 500\)/);
    expect(stdout).toContain('jiji: 2 to revise, 1 without an article to take its place, 1 failed (dry run: nothing stored)');
    expect(await stored()).toEqual(before);
    expect(await fetchCount()).toBe(fetches);
  });

  it('revises the short items to their articles: sanitized, matched by topics, in their stories, with their dates', async () => {
    await storedShort();
    const before = await stored();
    const fetches = await fetchCount();
    expect(await topicStories()).toEqual([]);
    hooked.length = 0;
    const { code, stdout, stderr } = await reload(config, '--json');
    expect(code, stderr).toBe(2);
    const report = JSON.parse(stdout);
    expect(report.counts).toMatchObject({ revised: 2, 'no-article': 1, failed: 1 });
    const after = await stored();
    expect(after.marines!.content_html).toContain('some 4,000 of the roughly 19,000 Marines in Okinawa are to be moved to Guam');
    expect(after.boj!.content_html).toContain('reduce its bond buying');
    expect(after.boj!.content_html).not.toMatch(/onerror|alert|<script/);
    for (const slug of ['marines', 'boj']) {
      expect(after[slug]).toMatchObject({ story_id: before[slug]!.story_id, published_at: before[slug]!.published_at, revision: 1 });
      expect(after[slug]!.updated_ms).toBeGreaterThan(before[slug]!.updated_ms);
    }
    // The page that failed, and the one without an article, keep the feed's line.
    expect(after.broken).toEqual(before.broken);
    expect(after.paywall).toEqual(before.paywall);
    // "Guam" is only in the article: the story is new to the topic, and its webhook hears of it.
    expect(await topicStories()).toEqual([after.marines!.story_id]);
    expect(hooked.map((delivery) => delivery.items.map((item) => item.title))).toEqual([[ITEMS[0]!.title]]);
    // Reading pages again is not a fetch of the source.
    expect(await fetchCount()).toBe(fetches);
  });

  it('leaves an item as a fetch revised it while its page was read', async () => {
    await storedShort();
    const db = testDatabase().handle.db;
    beforeBojPage = () => db.execute(sql`update items set title = 'BOJ Holds Rates', content_hash = 'revised by a fetch' where url like '%/news/boj'`);
    try {
      const { stdout } = await reload(config, '--json');
      const report = JSON.parse(stdout);
      expect(report.counts).toMatchObject({ revised: 1, superseded: 1 });
      expect(report.items.find((item: { url: string }) => item.url.endsWith('/news/boj')).outcome).toBe('superseded');
    } finally {
      beforeBojPage = undefined;
    }
    const after = await stored();
    expect(after.boj).toMatchObject({ revision: 0 });
    expect(after.boj!.content_html).not.toContain('reduce its bond buying');
    expect(after.marines!.revision).toBe(1);
  });

  it('keeps the articles when the feed is fetched again, and finds them unchanged on the next reload', async () => {
    await storedShort();
    await reload(config);
    const before = await stored();
    built = 'Sat, 08 Jun 2024 11:00:00 GMT';
    expect(await ingest(config)).toMatchObject({ ok: 1, itemsNew: 0, itemsRevised: 0 });
    expect(await stored()).toEqual(before);
    const again = await reload(config);
    // The marines article is not short any more; BOJ's is, and is read again.
    expect(again.stdout).toMatch(/not-short\s+[\d,]+\s+-\s+U\.S\. Marines/);
    expect(again.stdout).toContain('jiji: 1 unchanged, 1 without an article to take its place, 1 failed, 1 not short (--all reads them too)');
    expect(await stored()).toEqual(before);
  });

  it('reads every page again by mended rules with --all, taking the comments out of the stored articles', async () => {
    await storedShort("\n    fullText: { select: 'main' }");
    await reload(config);
    const withComments = await stored();
    expect(withComments.marines!.content_html).toContain('About time this happened');
    expect(withComments.marines!.revision).toBe(1);

    write("\n    fullText: { select: '.story-body' }");
    // Without --all, the articles stored stay: the marines one is not short, and BOJ's new one is shorter than its old.
    const short = await reload(config);
    expect(short.stdout).toMatch(/no-article\s+449\s+316\s+BOJ/);
    expect(short.stdout).toContain('jiji: 2 without an article to take its place, 1 failed, 1 not short (--all reads them too)');
    expect(await stored()).toEqual(withComments);
    const mended = await reload(config, '--all', '--json');
    expect(JSON.parse(mended.stdout).counts).toMatchObject({ revised: 2 });
    const after = await stored();
    expect(after.marines!.content_html).not.toContain('About time this happened');
    expect(after.marines!.content_html).toContain('Okinawa Governor Tamaki Denny');
    expect(after.marines!.revision).toBe(2);
    expect(after.marines!.story_id).toBe(withComments.marines!.story_id);
    // The paywall page's one line is no longer than the feed's summary: its item keeps the feed's text.
    expect(after.paywall!.revision).toBe(0);
  });
});
