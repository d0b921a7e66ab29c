/**
 * Sources that are web pages listing news, not feeds (`scrape:`), served by a real HTTP server on loopback beside a
 * feed: their items are stored as a feed's are (identity, dates in the page's clock, sanitized summaries), full text
 * reads their articles, refetches store only what is new, and a page whose layout changed fails its source alone,
 * with an error naming the selector, and keeps what was stored.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { rowsOf } from '../src/db/client.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { JIJI_STORIES, jijiListingPage, type ListedStory, nhkJsonListing } from './fixtures/listing-pages.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { useTestDatabase } from './helpers/database.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const testDatabase = useTestDatabase();

let server: TestServer;
let listing = '';
let undated = '';

const ARTICLE = [
  'Singapore, June 2 (Jiji Press)--Japanese Defense Minister Kihara Minoru and U.S. Defense Secretary Lloyd Austin on Sunday reaffirmed their plan to strengthen command and control coordination between the Self-Defense Forces and U.S. forces in Japan.',
  'The two met on the sidelines of the Shangri-La Dialogue, an annual Asian security conference, and agreed to hold a working-level meeting on the upgrade of U.S. Forces Japan into a joint force headquarters.',
];

const feed = () => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Japan Today</title><link>${server.url}/</link><description>News</description>
<item><title>Typhoon Nears Okinawa</title><link>${server.url}/jt/typhoon</link><pubDate>Sun, 02 Jun 2024 01:00:00 GMT</pubDate>
<description>A typhoon approached Okinawa on Sunday, with heavy rain forecast for the main island.</description></item>
</channel></rss>`;

beforeAll(async () => {
  server = await startTestServer((request, response) => {
    const html = (body: string) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    if (request.url === '/jc/eng?g=pol') return html(listing);
    if (request.url === '/undated') return html(undated);
    if (request.url === '/news/json16/new_001.json') return response.writeHead(200, { 'content-type': 'application/json' }).end(nhkJsonListing());
    if (request.url === '/feed.xml') return response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feed());
    if (request.url === '/jc/eng?g=pol&k=2024060200123') {
      return html(
        `<!doctype html><html><body><nav><a href="/">Top</a></nav><article><h1>Defense chiefs</h1>${ARTICLE.map((text) => `<p>${text}</p>`).join('')}</article></body></html>`,
      );
    }
    response.writeHead(404).end();
  });
});

afterAll(() => server.close());

const SCRAPED = `  - id: jiji-politics
    url: URL/jc/eng?g=pol
    title: JIJI Press Politics
    allowPrivateNetwork: [127.0.0.1]
    scrape:
      items: 'ul.news-list > li'
      date: .date
      summary: .lead
      image: img.thumb
      timeZone: asia/tokyo
`;

async function withApp<T>(sources: string, run: (app: App) => Promise<T>): Promise<T> {
  const config = writeConfigDir({ 'sources.yml': `sources:\n${sources.replaceAll('URL', server.url)}` });
  const app = await openApp({ configDir: config, database: testDatabase().handle });
  try {
    return await run(app);
  } finally {
    await app.close();
  }
}

const ingest = (sources: string) => withApp(sources, (app) => ingestSources(ingestContext(app), app.config.sources));

type StoredRow = {
  url: string;
  title: string;
  summary: string | null;
  content_html: string | null;
  image_url: string | null;
  published_ms: number;
  date_estimated: boolean;
};
const stored = (sourceId = 'jiji-politics') =>
  rowsOf<StoredRow>(
    testDatabase().handle.db,
    sql`select url, title, summary, content_html, image_url, (extract(epoch from published_at) * 1000)::float8 as published_ms, date_estimated from items where source_id = ${sourceId} order by published_at desc, url`,
  );

/** The JSON listing's stories as a source stored them: its headlines; the first with its absolute link, lead, image and date. */
async function expectJsonListingStored(sourceId: string) {
  const rows = await stored(sourceId);
  expect(rows.map((row) => row.title)).toEqual(JIJI_STORIES.map((listed) => listed.headline));
  expect(rows[0]).toMatchObject({
    url: `${server.url}/nhkworld/en/news/${JIJI_STORIES[0]!.slug}/`,
    summary: JIJI_STORIES[0]!.lead,
    image_url: `${server.url}/nhkworld/upld/thumbnails/en/news/${JIJI_STORIES[0]!.slug}_0.jpg`,
    published_ms: Date.parse('2024-06-01T23:06:00Z'),
    date_estimated: false,
  });
}

const story = (slug: string, headline: string, date: string): ListedStory => ({ slug, headline, lead: `${headline}, the government said.`, date });

describe('sources that are web pages', () => {
  it("stores a listing page's items as a feed's: absolute links, the page's clock, sanitized summaries, images", async () => {
    const hostile = story('2024060100500', 'Diet Enacts Revised Political Funds Law', '2024/06/01 18:30');
    hostile.lead = 'The Diet enacted the law <img src="/x.gif" onerror="alert(1)"><script>alert(2)</script> on Friday.';
    listing = jijiListingPage([...JIJI_STORIES, hostile]);
    const summary = await ingest(SCRAPED);
    expect(summary).toMatchObject({ ok: 1, failed: 0, itemsNew: 4 });
    const rows = await stored();
    expect(rows.map((row) => row.title)).toEqual([...JIJI_STORIES.map((listed) => listed.headline), hostile.headline]);
    expect(rows[0]).toMatchObject({
      url: `${server.url}/jc/eng?g=pol&k=2024060200123`,
      summary: JIJI_STORIES[0]!.lead,
      image_url: `${server.url}/jc/eng/img/2024060200123.jpg`,
      published_ms: Date.parse('2024-06-01T23:06:00Z'),
      date_estimated: false,
    });
    // The page is the source's site, linked from the sources page.
    const [source] = await rowsOf<{ site_url: string }>(testDatabase().handle.db, sql`select site_url from sources where id = 'jiji-politics'`);
    expect(source!.site_url).toBe(`${server.url}/jc/eng?g=pol`);
    expect(rows[3]!.content_html).toContain('The Diet enacted the law');
    expect(rows[3]!.content_html).not.toMatch(/onerror|script|alert/);
  });

  it('stores only the new item when the page is served again with one more on top, and a new footer', async () => {
    listing = jijiListingPage(JIJI_STORIES);
    await ingest(SCRAPED);
    const added = story('2024060200301', 'Japan, U.S. to Set Up Working Group on Forces Command', '2024/06/02 10:12');
    listing = jijiListingPage([added, ...JIJI_STORIES], { servedAt: '2024/06/02 10:30' });
    expect(await ingest(SCRAPED)).toMatchObject({ ok: 1, itemsNew: 1, itemsDuplicate: 3 });
    expect((await stored()).map((row) => row.title)[0]).toBe(added.headline);
  });

  it('reads a short scraped item’s article with fullText, as for a feed', async () => {
    listing = jijiListingPage(JIJI_STORIES.slice(0, 1));
    expect(await ingest(`${SCRAPED}    fullText: true\n`)).toMatchObject({ ok: 1, itemsNew: 1 });
    const [row] = await stored();
    expect(row!.content_html).toContain('working-level meeting on the upgrade of U.S. Forces Japan');
    expect(row!.content_html).not.toContain('Top');
    expect(row!.summary).toBe(JIJI_STORIES[0]!.lead);
  });

  it('reads the same page again when its rules change: the summaries the new rules find revise the items', async () => {
    listing = jijiListingPage(JIJI_STORIES);
    const withoutSummaries = SCRAPED.replace('      summary: .lead\n', '');
    expect(await ingest(withoutSummaries)).toMatchObject({ itemsNew: 3 });
    expect((await stored()).map((row) => row.summary)).toEqual([null, null, null]);
    expect(await ingest(SCRAPED)).toMatchObject({ itemsNew: 0, itemsRevised: 3 });
    expect((await stored()).map((row) => row.summary)).toEqual(JIJI_STORIES.map((listed) => listed.lead));
  });

  it('files undated items when first seen, once, whatever the next fetches find', async () => {
    undated = '<html><body><div class="briefs"><p><a href="/b/1">Yen slips past 157</a></p><p><a href="/b/2">Nikkei ends higher</a></p></div></body></html>';
    const briefs = `  - id: jiji-politics\n    url: URL/undated\n    allowPrivateNetwork: true\n    scrape:\n      items: .briefs p\n`;
    expect(await ingest(briefs)).toMatchObject({ ok: 1, itemsNew: 2 });
    undated = undated.replace('</div>', '<p><a href="/b/3">Bonds steady</a></p></div>');
    expect(await ingest(briefs)).toMatchObject({ ok: 1, itemsNew: 1, itemsDuplicate: 2 });
    const rows = await stored();
    expect(rows).toHaveLength(3);
    expect(rows.every((row) => row.date_estimated)).toBe(true);
  });

  it('files items dated relative to the fetch ("3 hours ago", "08:06") at that time when first seen, and never moves them', async () => {
    const brief = (slug: string, title: string, when: string) => `<li><a href="/r/${slug}">${title}</a> <span class="when">${when}</span></li>`;
    const page = (whens: string[]) =>
      `<html><body><ul class="latest">${brief('1', 'Yen slips past 157', whens[0]!)}${brief('2', 'Nikkei ends higher', whens[1]!)}</ul></body></html>`;
    undated = page(['3 hours ago', '2日前']);
    const latest = `  - id: jiji-politics\n    url: URL/undated\n    allowPrivateNetwork: true\n    scrape:\n      items: ul.latest li\n      date: .when\n`;
    const fetched = Date.now();
    expect(await ingest(latest)).toMatchObject({ ok: 1, itemsNew: 2 });
    const first = await stored();
    expect(first.map((row) => row.title)).toEqual(['Yen slips past 157', 'Nikkei ends higher']);
    expect(first[0]!.published_ms).toBeGreaterThan(fetched - 3 * 3_600_000 - 60_000);
    expect(first[0]!.published_ms).toBeLessThan(fetched - 3 * 3_600_000 + 60_000);
    expect(first[1]!.published_ms).toBeGreaterThan(fetched - 2 * 86_400_000 - 60_000);
    expect(first[1]!.published_ms).toBeLessThan(fetched - 2 * 86_400_000 + 60_000);
    expect(first.every((row) => row.date_estimated)).toBe(true);
    // Later the page says otherwise of the same items: the next fetch reads other times, which revise nothing.
    undated = page(['4 hours ago', 'just now']);
    expect(await ingest(latest)).toMatchObject({ ok: 1, itemsNew: 0, itemsDuplicate: 2, itemsRevised: 0 });
    expect(await stored()).toEqual(first);
  });

  it("stores a JSON listing's items by dot paths (scrape.format json): links resolved against it, dates, images", async () => {
    const nhk = `  - id: jiji-politics\n    url: URL/news/json16/new_001.json\n    allowPrivateNetwork: true\n    scrape:\n      format: json\n      items: channel.item\n      summary: description\n      image: imgPath\n      categories: genre\n`;
    expect(await ingest(nhk)).toMatchObject({ ok: 1, failed: 0, itemsNew: 3 });
    const categories = await rowsOf<{ categories: string[] }>(testDatabase().handle.db, sql`select categories from items`);
    expect(categories.map((row) => row.categories)).toEqual(Array(3).fill(['Politics', 'Diplomacy']));
    await expectJsonListingStored('jiji-politics');
    // The same document again is not read again; a path that leads nowhere fails the source alone, keeping its items.
    expect(await ingest(nhk)).toMatchObject({ ok: 1, itemsNew: 0 });
    const moved = await ingest(nhk.replace('channel.item', 'channel.items'));
    expect(moved).toMatchObject({ ok: 0, failed: 1 });
    expect(moved.outcomes[0]!.error).toContain("scrape.items 'channel.items' leads to nothing");
    expect(await stored()).toHaveLength(3);
  });

  it('stores the items of a FreshRSS JSON+DotNotation source as its OPML export reads them, once imported', async () => {
    const url = `${server.url}/news/json16/new_001.json`;
    const opml = `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>FreshRSS</title></head>
  <body>
    <outline text="Japan">
      <outline xmlns:frss="https://freshrss.org/opml" text="NHK World" type="JSON+DotNotation" xmlUrl="${url.replaceAll('&', '&amp;')}"
        frss:jsonItem="channel.item" frss:jsonItemTitle="title" frss:jsonItemUri="link" frss:jsonItemTimestamp="pubDate"
        frss:jsonItemContent="description" frss:jsonItemThumbnail="imgPath" frss:jsonItemCategories="genre[1].name" frss:jsonItemUid="id" frss:ttl="600"/>
    </outline>
  </body>
</opml>`;
    const config = writeConfigDir({ 'sources.yml': 'sources: []\n', 'freshrss.opml': opml });
    const cli = runCli(['opml', 'import', join(config, 'freshrss.opml'), '--config', config], { LOG_LEVEL: 'silent' });
    expect(await cli.exited, cli.output().stderr).toBe(0);
    expect(cli.output().stdout).toBe(
      `added nhk-world: ${url}\n  left out frss:jsonItemUid: Wirefeed has no such setting\n1 added to ${join(config, 'sources.yml')}, 0 skipped, of 1 feeds in ${join(config, 'freshrss.opml')}\n`,
    );
    const yaml = readFileSync(join(config, 'sources.yml'), 'utf8');
    expect(yaml).toContain('    every: 10m\n    tags: [japan]\n    scrape:\n      format: json\n      items: channel.item\n');
    // An import never lets a source reach private addresses: this loopback test grants it by hand.
    writeFileSync(join(config, 'sources.yml'), yaml.replace('    every: 10m\n', '    every: 10m\n    allowPrivateNetwork: true\n'));
    const app = await openApp({ configDir: config, database: testDatabase().handle });
    try {
      expect(await ingestSources(ingestContext(app), app.config.sources)).toMatchObject({ ok: 1, failed: 0, itemsNew: 3 });
    } finally {
      await app.close();
    }
    await expectJsonListingStored('nhk-world');
    const categories = await rowsOf<{ categories: string[] }>(testDatabase().handle.db, sql`select categories from items where source_id = 'nhk-world'`);
    expect(categories.map((row) => row.categories)).toEqual(Array(3).fill(['Diplomacy']));
  });

  it('fails a page whose layout changed alone, naming the selector, and keeps what it stored', async () => {
    listing = jijiListingPage(JIJI_STORIES);
    const both = `${SCRAPED}  - id: japantoday\n    url: URL/feed.xml\n    allowPrivateNetwork: true\n`;
    await ingest(both);
    listing = jijiListingPage(JIJI_STORIES).replaceAll('news-list', 'article-list');
    const summary = await ingest(both);
    expect(summary).toMatchObject({ ok: 1, failed: 1 });
    const failed = summary.outcomes.find((outcome) => outcome.sourceId === 'jiji-politics');
    expect(failed).toMatchObject({ outcome: 'failed', error: "no element on the page matches scrape.items 'ul.news-list > li'" });
    expect(await stored()).toHaveLength(3);
    // A page built to be slow (nested far deeper than any page) is refused without being parsed.
    listing = `<html><body>${'<div>'.repeat(100_000)}<ul class="news-list"><li><a href="/a">A</a></li></ul></body></html>`;
    expect((await ingest(SCRAPED)).outcomes[0]).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/^not read: the page nests deeper/) });
    expect(await stored()).toHaveLength(3);
  });
});

describe('wirefeed scrape', () => {
  const scrape = async (args: string[], config = writeConfigDir({ 'sources.yml': `sources:\n${SCRAPED.replaceAll('URL', server.url)}` })) => {
    const cli = runCli(['scrape', ...args, '--config', config], { LOG_LEVEL: 'silent' });
    return { code: await cli.exited, ...cli.output() };
  };

  it("lists a page's items by its source's rules, and by rules given on the command line", async () => {
    listing = jijiListingPage(JIJI_STORIES);
    const bySource = await scrape([`${server.url}/jc/eng?g=pol`, '--source', 'jiji-politics']);
    expect(bySource.code, bySource.stderr).toBe(0);
    expect(bySource.stdout.split('\n').slice(0, 2)).toEqual([
      `2024-06-01T23:06:00.000Z  ${JIJI_STORIES[0]!.headline}`,
      `  ${server.url}/jc/eng?g=pol&k=2024060200123`,
    ]);
    expect(bySource.stderr.trim()).toBe(
      `read 3 items from ${server.url}/jc/eng?g=pol (items 'ul.news-list > li', date '.date', summary '.lead', image 'img.thumb', timeZone 'Asia/Tokyo')`,
    );

    // Links read as the source's fetch reads them: to one of its short-link hosts, they are items' short URLs.
    const shortLinks = writeConfigDir({ 'sources.yml': `sources:\n${SCRAPED.replaceAll('URL', server.url)}    shortUrlHosts: [127.0.0.1]\n` });
    const short = await scrape([`${server.url}/jc/eng?g=pol`, '--source', 'jiji-politics', '--json'], shortLinks);
    expect(JSON.parse(short.stdout).items[0]).toMatchObject({
      url: `${server.url}/jc/eng?g=pol&k=2024060200123`,
      shortUrl: `${server.url}/jc/eng?g=pol&k=2024060200123`,
    });

    // The top story too, by the command line's rules over the source's, the page's clock read as UTC.
    const byOptions = await scrape([
      `${server.url}/jc/eng?g=pol`,
      '--source',
      'jiji-politics',
      '--items',
      '.top-story, .news-item',
      '--time-zone',
      'utc',
      '--date-order',
      'day-first',
      '--json',
    ]);
    expect(byOptions.code, byOptions.stderr).toBe(0);
    const read = JSON.parse(byOptions.stdout);
    expect(read.rules).toMatchObject({ items: '.top-story, .news-item', date: '.date', timeZone: 'UTC', dateOrder: 'day-first' });
    expect(read.items).toHaveLength(3);
    // The top story's own element has no date or summary: the repeat in the list is left out, as it links the same page.
    expect(read.items[0]).toEqual({ title: JIJI_STORIES[0]!.headline, url: `${server.url}/jc/eng?g=pol&k=2024060200123`, publishedAt: null });
    expect(read.items[1]).toMatchObject({ publishedAt: '2024-06-02T07:41:00.000Z', summary: JIJI_STORIES[1]!.lead });
  });

  it('lists the items of a JSON listing by dot paths with --format json, and names a path it cannot follow', async () => {
    const url = `${server.url}/news/json16/new_001.json`;
    const listed = await scrape([url, '--format', 'json', '--items', 'channel.item', '--json', '--allow-private-network']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).items[2]).toMatchObject({
      title: JIJI_STORIES[2]!.headline,
      url: `${server.url}/nhkworld/en/news/${JIJI_STORIES[2]!.slug}/`,
      publishedAt: '2024-06-01T12:15:00.000Z',
    });
    const bad = await scrape([url, '--format', 'json', '--items', 'channel..item']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^wirefeed scrape: --items is not a dot path Wirefeed can follow/);
    const format = await scrape([url, '--format', 'xml', '--items', 'channel.item']);
    expect(format.stderr).toMatch(/--format takes html or json, not "xml"/);
    const asPage = await scrape([url, '--items', 'li', '--allow-private-network']);
    expect([asPage.code, asPage.stderr.trim()]).toEqual([1, `${url}: the document is JSON, not a web page: read it with scrape.format: json and dot paths`]);
  });

  it('adds the page as a source with the rules that read it, which the next ingest reads', async () => {
    listing = jijiListingPage(JIJI_STORIES);
    const config = writeConfigDir({ 'sources.yml': "# The desk's sources\nsources: []\n" });
    const rules = ['--items', 'ul.news-list > li', '--date', '.date', '--time-zone', 'Asia/Tokyo'];
    const added = await scrape([`${server.url}/jc/eng?g=pol`, ...rules, '--add', '--id', 'jiji-politics', '--allow-private-network'], config);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain(`added jiji-politics: ${server.url}/jc/eng?g=pol to `);
    expect(readFileSync(join(config, 'sources.yml'), 'utf8')).toBe(
      `# The desk's sources\nsources:\n  - id: jiji-politics\n    url: ${server.url}/jc/eng?g=pol\n    title: Politics | JIJI PRESS\n    allowPrivateNetwork: [127.0.0.0/8]\n    scrape:\n      items: ul.news-list > li\n      date: .date\n      timeZone: Asia/Tokyo\n`,
    );
    const app = await openApp({ configDir: config, database: testDatabase().handle });
    try {
      expect(await ingestSources(ingestContext(app), app.config.sources)).toMatchObject({ ok: 1, itemsNew: 3 });
    } finally {
      await app.close();
    }
    // Once added, again is refused: the page is a source already.
    const again = await scrape([`${server.url}/jc/eng?g=pol`, ...rules, '--add', '--allow-private-network'], config);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`not added: ${server.url}/jc/eng?g=pol: already a source`);
  });

  it('says what went wrong: no items, no rules, a bad selector or zone, an address it may not reach', async () => {
    listing = jijiListingPage(JIJI_STORIES);
    const none = await scrape([`${server.url}/jc/eng?g=pol`, '--source', 'jiji-politics', '--items', 'ol.news > li']);
    expect([none.code, none.stderr.trim()]).toEqual([1, `${server.url}/jc/eng?g=pol: no element on the page matches scrape.items 'ol.news > li'`]);
    const noRules = await scrape(['https://jen.jiji.example/jc/eng']);
    expect([noRules.code, noRules.stderr.trim()]).toEqual([
      1,
      'wirefeed scrape: give --items CSS (where the items are; a dot path with --format json), or --source ID of a source with scrape rules',
    ]);
    const badSelector = await scrape(['https://jen.jiji.example/jc/eng', '--items', 'li[']);
    expect(badSelector.code).toBe(1);
    expect(badSelector.stderr).toMatch(/^wirefeed scrape: --items is not a CSS selector Wirefeed can match/);
    const badZone = await scrape(['https://jen.jiji.example/jc/eng', '--items', 'li', '--time-zone', 'Tokyo']);
    expect([badZone.code, badZone.stderr.trim()]).toEqual([1, 'wirefeed scrape: --time-zone "Tokyo" is not a time zone such as Asia/Tokyo or UTC']);
    const badOrder = await scrape(['https://jen.jiji.example/jc/eng', '--items', 'li', '--date-order', 'dmy']);
    expect([badOrder.code, badOrder.stderr.trim()]).toEqual([1, 'wirefeed scrape: --date-order takes day-first or month-first, not "dmy"']);
    const both = await scrape([`${server.url}/jc/eng?g=pol`, '--source', 'jiji-politics', '--add']);
    expect([both.code, both.stderr.trim()]).toEqual([1, 'wirefeed scrape: --add writes a new source: give the rules with --items and the rest, not --source']);
    const refused = await scrape([`${server.url}/jc/eng?g=pol`, '--items', 'li']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/give --source ID to fetch it as that source may \(its allowPrivateNetwork\)/);
  });
});
