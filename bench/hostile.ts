/**
 * Hostile input costs what its size costs: each pathological document is parsed and normalized next to a plain feed
 * of the same size, and the ratio of their times is the figure (at most about 1, and not growing from 48 KB to 1 MB,
 * means linear).
 */
import { addSourcesToYaml } from '../src/config/edit.js';
import { parseOpml } from '../src/config/opml.js';
import { normalizeItem } from '../src/normalize/item.js';
import { parseFeed } from '../src/parse/index.js';
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
  figures.push(opmlImportFigure(2_000, 20_000));
  return figures;
}

/** OPML import: the cost per outline of a large file against a small one (1 when the import is linear). */
export function opmlImportFigure(small: number, large: number): Figure {
  const perOutline = (count: number) => {
    const opml = `<opml version="2.0"><body>${Array.from({ length: count }, (_, index) => `<outline text="Wire ${index % 50}" xmlUrl="https://feeds${index}.example/rss"/>`).join('\n')}</body></opml>`;
    const started = process.hrtime.bigint();
    addSourcesToYaml(
      'sources: []\n',
      parseOpml(opml).map((feed) => ({ url: feed.xmlUrl, title: feed.title })),
      [],
    );
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
