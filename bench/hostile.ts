/**
 * Hostile input costs what its size costs: each pathological document is parsed and normalized next to a plain feed
 * of the same size, and the ratio of their times is the figure (at most about 1, and not growing from 48 KB to 1 MB,
 * means linear).
 */
import { addSourcesToYaml } from '../src/config/edit.js';
import { parseOpml, sourceFromOutline } from '../src/config/opml.js';
import type { ScrapeRules } from '../src/model/source.js';
import { extractArticle } from '../src/normalize/article.js';
import { normalizeItem } from '../src/normalize/item.js';
import { readJsonListing } from '../src/normalize/json-listing.js';
import { readListing } from '../src/normalize/listing.js';
import { FeedParseError, parseFeed } from '../src/parse/index.js';
import type { Figure } from './figures.js';

/** Shapes that made the old regular-expression pre-scans backtrack, each repeated to `size` characters. */
const PATHOLOGICAL: Record<string, (size: number) => string> = {
  'unclosed tags': (size) => `<rss version="2.0"><channel>${'<a '.repeat(size / 3)}`,
  'unclosed comments': (size) => `<rss version="2.0"><channel>${'<!--'.repeat(size / 4)}`,
  'unclosed CDATA': (size) => `<rss version="2.0"><channel><title>${'<![CDATA['.repeat(size / 9)}`,
  'root attributes': (size) => `${'<rss '.repeat(size / 5)}`,
  'word run': (size) => `<rss version="2.0"><channel><title>${'a'.repeat(size)}`,
  'markup in a description': (size) =>
    `<rss version="2.0"><channel><title>t</title><item><title>x</title><description><![CDATA[${'a<p'.repeat(size / 3)}]]></description></item></channel></rss>`,
  'spaced author': (size) =>
    `<rss version="2.0"><channel><title>t</title><item><title>x</title><author>x${' '.repeat(size)}y &lt;a@b.example&gt;</author></item></channel></rss>`,
  'author of at signs': (size) =>
    `<rss version="2.0"><channel><title>t</title><item><title>x</title><author>(${'@'.repeat(size)}</author></item></channel></rss>`,
  'unclosed HTML elements': (size) =>
    `<rss version="2.0"><channel><title>t</title><item><title>x</title><description><![CDATA[${'<b>x'.repeat(size / 4)}]]></description></item></channel></rss>`,
};

function plainFeed(size: number): string {
  const item = (index: number) =>
    `<item><title>Japan, U.S. defense chiefs meet ${index}</title><link>https://outlet.example/${index}</link>` +
    `<description>Kihara and Austin agreed to boost the joint presence of Japan and the United States.</description>` +
    `<pubDate>Sun, 02 Jun 2024 08:06:19 GMT</pubDate></item>`;
  const items: string[] = [];
  let length = 0;
  for (let index = 0; length < size; index++) {
    items.push(item(index));
    length += items.at(-1)!.length;
  }
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Plain</title>${items.join('')}</channel></rss>`;
}

/** Parse and normalize, as ingest does before storing; a document the parser refuses costs its refusal. */
async function timeParse(document: string, rounds: number): Promise<number> {
  const context = { feedUrl: 'https://outlet.example/feed', fetchedAt: new Date(), shortUrlHosts: [] };
  const started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    const feed = await parseFeed(document).catch(() => undefined);
    for (const item of feed?.items ?? []) normalizeItem(item, feed!, context);
  }
  return Number(process.hrtime.bigint() - started) / 1e6 / rounds;
}

export async function hostileBench(sizes: number[], rounds: number, progress: (line: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const size of sizes) {
    const plainMs = await timeParse(plainFeed(size), rounds);
    figures.push({ benchmark: 'hostile', metric: 'plain feed parse and normalize', value: plainMs, unit: 'ms', size });
    for (const [name, build] of Object.entries(PATHOLOGICAL)) {
      const ms = await timeParse(build(size), rounds);
      progress(`hostile: ${name} at ${size} chars: ${ms.toFixed(1)} ms (plain ${plainMs.toFixed(1)} ms)`);
      figures.push({
        benchmark: 'hostile',
        metric: `${name} / plain feed time`,
        value: ms / plainMs,
        unit: 'ratio',
        size,
        baseline: 'plain feed of the same size',
        headline: size === sizes.at(-1),
      });
    }
  }
  figures.push(...articleFigures(sizes, rounds, progress));
  figures.push(...listingFigures(sizes, rounds, progress));
  figures.push(opmlImportFigure(2_000, 20_000));
  return figures;
}

const SENTENCE = 'Japanese Defense Minister Kihara Minoru and U.S. Defense Secretary Lloyd Austin reaffirmed their plan on Sunday.';

/** A news page as sites print them: navigation, the story's paragraphs, related links and a footer (about 47 KB). */
function plainArticlePage(): string {
  const links = (count: number) => Array.from({ length: count }, (_, index) => `<li><a href="/section/${index}">Section ${index}</a></li>`).join('');
  const story = Array.from({ length: 40 }, (_, index) => `<p>${SENTENCE} ${index}</p>`).join('');
  return `<html><head><title>Defense chiefs meet</title><script>var a = 1 < 2;</script></head><body><header><nav><ul>${links(300)}</ul></nav></header><main><article><h1>Defense chiefs meet</h1>${story}</article><aside><ul>${links(300)}</ul></aside></main><footer><ul>${links(300)}</ul></footer></body></html>`;
}

/** Article pages built to be slow (full text of short items), each of `size` characters but the last (bounded by count). */
const PATHOLOGICAL_PAGES: Record<string, (size: number) => string> = {
  'nested elements': (size) => `<html><body>${'<div>'.repeat(size / 5)}${SENTENCE}</body></html>`,
  'element flood': (size) => `<html><body>${'<span>x</span>'.repeat(size / 14)}</body></html>`,
  'unclosed script': (size) => `<html><body><p>${SENTENCE}</p><script>${'if (a<b) c>d; '.repeat(size / 14)}`,
  'link-dense text at the element bound': () =>
    `<html><body>${Array.from({ length: 1300 }, (_, index) => `<div><p>${SENTENCE} <a href="/a${index}">${SENTENCE}</a></p></div>`).join('')}</body></html>`,
};

/** The mean milliseconds of `rounds` runs of `run`. */
function meanMs(rounds: number, run: () => void): number {
  const started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) run();
  return Number(process.hrtime.bigint() - started) / 1e6 / rounds;
}

const timeExtract = (page: string, rounds: number) => meanMs(rounds, () => extractArticle(page, 'https://outlet.example/news/1'));

/** A pathological page's time over its plain baseline's, logged as it is measured. */
function pageRatio(
  kind: string,
  name: string,
  size: number,
  times: { ms: number; plainMs: number; baseline: string },
  progress: (line: string) => void,
): Figure {
  progress(`hostile: ${kind}, ${name} at ${size} chars: ${times.ms.toFixed(1)} ms (${times.baseline} ${times.plainMs.toFixed(1)} ms)`);
  return {
    benchmark: 'hostile',
    metric: `${kind}, ${name} / ${times.baseline} time`,
    value: times.ms / times.plainMs,
    unit: 'ratio',
    size,
    baseline: times.baseline,
  };
}

/** Reading the article of each pathological page against a plain news page's. */
function articleFigures(sizes: number[], rounds: number, progress: (line: string) => void): Figure[] {
  const plainMs = timeExtract(plainArticlePage(), rounds);
  const figures: Figure[] = [{ benchmark: 'hostile', metric: 'article of a plain news page (47 KB)', value: plainMs, unit: 'ms' }];
  for (const [name, build] of Object.entries(PATHOLOGICAL_PAGES)) {
    for (const size of name.includes('bound') ? [sizes[0]!] : sizes) {
      figures.push(pageRatio('article page', name, size, { ms: timeExtract(build(size), rounds), plainMs, baseline: 'plain page' }, progress));
    }
  }
  return figures;
}

const LISTING_RULES: ScrapeRules = { items: 'ul.news > li', title: 'h3', date: '.date', summary: '.lead', image: 'img', timeZone: 'Asia/Tokyo' };

/** A news site's listing page of about `size` characters: navigation, then items with a headline, lead, date and image. */
function plainListingPage(size: number): string {
  const item = (index: number) =>
    `<li><a href="/news/${index}"><h3>${SENTENCE}</h3></a><img data-src="/img/${index}.jpg" src="/blank.gif"><p class="lead">${SENTENCE}</p><span class="date">2024/06/02 08:06</span></li>`;
  const count = Math.max(1, Math.round(size / item(0).length));
  return `<html><head><title>Latest</title><script>var a = 1 < 2;</script></head><body><nav><a href="/">Top</a></nav><ul class="news">${Array.from({ length: count }, (_, index) => item(index)).join('')}</ul></body></html>`;
}

/** Listing pages built to be slow (sources with `scrape`), each of about `size` characters, read by LISTING_RULES. */
const PATHOLOGICAL_LISTINGS: Record<string, (size: number) => string> = {
  'items nested at the depth bound': (size) =>
    `<ul class="news">${`<li>${'<div>'.repeat(250)}<a href="/a"><h3>x</h3></a>${'</div>'.repeat(250)}</li>`.repeat(Math.max(1, Math.round(size / 3_040)))}</ul>`,
  'item flood': (size) => `<ul class="news">${'<li><a href="/a">x</a></li>'.repeat(size / 27)}</ul>`,
  'one long item': (size) =>
    `<ul class="news"><li><a href="/a"><h3>${'headline '.repeat(size / 18)}</h3></a><span class="date">${'2024 '.repeat(size / 10)}</span></li></ul>`,
};

/** A broadcaster's JSON listing of about `size` characters: entries with a headline, link, date, lead and image. */
function plainJsonListing(size: number): string {
  const entry = (index: number) => ({
    title: SENTENCE,
    link: `/news/${index}`,
    pubDate: 'Sun, 02 Jun 2024 08:06:19 +0900',
    description: SENTENCE,
    img: `/img/${index}.jpg`,
  });
  const count = Math.max(1, Math.round(size / JSON.stringify(entry(0)).length));
  return JSON.stringify({ channel: { title: 'Latest', item: Array.from({ length: count }, (_, index) => entry(index)) } });
}

const JSON_RULES: ScrapeRules = { format: 'json', items: 'channel.item', summary: 'description', image: 'img', timeZone: 'Asia/Tokyo' };

/** JSON listings built to be slow, each of about `size` characters, read by JSON_RULES. */
const PATHOLOGICAL_JSON: Record<string, (size: number) => string> = {
  'items under deep nesting': (size) => `{"channel":{"item":[{"link":"/a","title":${'['.repeat(size / 4)}${']'.repeat(size / 4)}}]}}`,
  'entry flood': (size) => `{"channel":{"item":[${Array.from({ length: size / 12 }, () => '{"link":"/a"}').join(',')}]}}`,
  'one long entry': (size) => JSON.stringify({ channel: { item: [{ link: '/a', title: 'headline '.repeat(size / 18), pubDate: '2024 '.repeat(size / 10) }] } }),
};

/** A kind of listing the benchmark reads: its plain shape, the slow ones, and how a source reads it. */
interface ListingKind {
  name: string;
  plain: (size: number) => string;
  shapes: Record<string, (size: number) => string>;
  read: (text: string) => unknown;
}

const LISTING_KINDS: ListingKind[] = [
  { name: 'listing page', plain: plainListingPage, shapes: PATHOLOGICAL_LISTINGS, read: (page) => readListing(page, LISTING_RULES) },
  { name: 'JSON listing', plain: plainJsonListing, shapes: PATHOLOGICAL_JSON, read: (text) => readJsonListing(text, JSON_RULES) },
];

const timeListing = (kind: ListingKind, text: string, rounds: number) =>
  meanMs(rounds, () => {
    try {
      kind.read(text);
    } catch (error) {
      if (!(error instanceof FeedParseError)) throw error; // refused (a bound) or no items: what the source's fetch reports
    }
  });

/** Reading each pathological listing (web page or JSON) against a plain one of the same kind and size. */
function listingFigures(sizes: number[], rounds: number, progress: (line: string) => void): Figure[] {
  const figures: Figure[] = [];
  for (const kind of LISTING_KINDS) {
    for (const size of sizes) {
      const plainMs = timeListing(kind, kind.plain(size), rounds);
      figures.push({ benchmark: 'hostile', metric: `listing of a plain ${kind.name}`, value: plainMs, unit: 'ms', size });
      for (const [name, build] of Object.entries(kind.shapes)) {
        figures.push(pageRatio(kind.name, name, size, { ms: timeListing(kind, build(size), rounds), plainMs, baseline: `plain ${kind.name}` }, progress));
      }
    }
  }
  return figures;
}

/**
 * OPML import: the cost per outline of a large file against a small one (1 when the import is linear). Each outline
 * carries FreshRSS's attributes and sits in a folder nested in the one before, each folder binding a prefix of its own
 * (namespace scopes as deep as the file), and is read as the import reads it.
 */
export function opmlImportFigure(small: number, large: number): Figure {
  const perOutline = (count: number) => {
    const outlines = Array.from(
      { length: count },
      (_, index) =>
        `<outline text="Desk ${index}" xmlns:n${index}="urn:desk:${index}"><outline text="Wire ${index % 50}" xmlUrl="https://feeds${index}.example/rss" f:ttl="600" f:cssFullContent="article"/>`,
    );
    const opml = `<opml version="2.0" xmlns:f="https://freshrss.org/opml"><body>${outlines.join('\n')}${'</outline>'.repeat(count)}</body></opml>`;
    const started = process.hrtime.bigint();
    const sources = parseOpml(opml).flatMap((feed) => {
      const read = sourceFromOutline(feed);
      return 'source' in read ? [read.source] : [];
    });
    if (sources.length !== count) throw new Error(`read ${sources.length} of ${count} outlines`);
    addSourcesToYaml('sources: []\n', sources, []);
    return Number(process.hrtime.bigint() - started) / count;
  };
  perOutline(small); // warm up
  return {
    benchmark: 'hostile',
    metric: `OPML import cost per outline, ${large} / ${small} outlines`,
    value: perOutline(large) / perOutline(small),
    unit: 'ratio',
    size: large,
    baseline: `${small} outlines`,
    headline: true,
  };
}
