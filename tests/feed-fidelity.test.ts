/**
 * Feeds as publishers really write them (tests/fixtures/feeds, written for these tests in the style of .NET's
 * SyndicationFeed, a WordPress theme that prints HTML into RSS, an Atom feed with XHTML, RSS 1.0 under prefixes):
 * text in document order, namespaces by URI rather than prefix, and leniency where it is safe.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFeedBody } from '../src/fetch/decode.js';
import type { NormalizedItem } from '../src/model/item.js';
import { normalizeItem } from '../src/normalize/item.js';
import { FeedParseError, parseFeed } from '../src/parse/index.js';
import { reviseXml } from '../src/parse/xml-revise.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/feeds/${name}`, import.meta.url), 'utf8');

async function read(document: string): Promise<{ title?: string; items: NormalizedItem[] }> {
  const feed = await parseFeed(document);
  const items = feed.items.map((item) =>
    normalizeItem(item, feed, { feedUrl: 'https://feeds.example/feed', fetchedAt: new Date('2030-01-01T00:00:00Z'), shortUrlHosts: [] }),
  );
  return { title: feed.title, items };
}

describe('text in document order', () => {
  it('reads unescaped inline HTML in an RSS description whole and in order', async () => {
    const { items } = await read(fixture('wordpress-inline-html.rss.xml'));
    expect(items[0]!.summary).toBe('Rates rise again in Japan today & the yen <firms>');
    expect(items[0]!.contentHtml).toBe('<p>Rates <b>rise</b> again.</p>');
  });

  it("reads Atom XHTML titles and content in order, without a script's text, keeping escaped text as text", async () => {
    const { title, items } = await read(fixture('atom-xhtml.atom.xml'));
    expect(title).toContain('Japan');
    expect(items[0]!.title).toBe('endbold');
    expect(items[0]!.contentText).toBe('submitted by /u/x to /r/japan\n\nHistory of the <blink> tag');
    expect(items[0]!.contentHtml).toContain('<a href="https://wire.example/u/x" rel="noopener noreferrer">/u/x</a>');
  });

  it('property: the text of a generated mixed-content element is its text nodes in document order', async () => {
    const word = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);
    const node = fc.tuple(fc.constantFrom('', 'b', 'i', 'em', 'span', 'a'), word);
    await fc.assert(
      fc.asyncProperty(fc.array(node, { minLength: 1, maxLength: 8 }), async (nodes) => {
        const inner = nodes.map(([tag, text]) => (tag ? `<${tag}>${text}</${tag}>` : text)).join(' ');
        const document = `<rss version="2.0"><channel><title>t</title><item><title>x</title><link>https://a.example/1</link><description>${inner}</description></item></channel></rss>`;
        const { items } = await read(document);
        expect(items[0]!.summary).toBe(nodes.map(([, text]) => text).join(' '));
      }),
      { numRuns: 200 },
    );
  });
});

describe('namespaces by URI', () => {
  it('reads Atom bound to a10: inside RSS (.NET SyndicationFeed): the link, the author and the date', async () => {
    const { items } = await read(fixture('dotnet-syndication.rss.xml'));
    expect(items[0]).toMatchObject({
      url: 'https://asia.nikkei.example/Politics/International-relations/Japan-US-defense-chiefs-reaffirm-command-coordination',
      author: 'Kyodo',
      publishedAt: new Date('2024-06-01T23:06:19Z'),
      dateEstimated: false,
    });
  });

  it('reads dc and content under other prefixes', async () => {
    const { items } = await read(fixture('wordpress-inline-html.rss.xml'));
    expect(items[0]!.author).toBe('Aiko Tanaka');
  });

  it('reads RSS 1.0 under a prefix with RDF as the default namespace, and an <rss> root in a namespace of its own', async () => {
    const { items } = await read(fixture('namespaced-roots.rdf.xml'));
    expect(items.map((item) => [item.title, item.url])).toEqual([
      ['Japan, U.S. defense chiefs reaffirm command coordination', 'https://japantoday.example/category/politics/japan-us-defense'],
    ]);
    const prefixed = `<r:rss xmlns:r="http://backend.userland.com/rss2" version="2.0"><r:channel><r:title>T</r:title><r:item><r:title>One</r:title><r:link>https://a.example/1</r:link></r:item></r:channel></r:rss>`;
    expect((await read(prefixed)).items.map((item) => item.title)).toEqual(['One']);
  });

  it('reads an Atom link re-declaring the default namespace inside an RSS item', async () => {
    const document = `<rss version="2.0"><channel><title>t</title><item><title>One</title><link xmlns="http://www.w3.org/2005/Atom" rel="alternate" href="https://a.example/one"/></item></channel></rss>`;
    expect((await read(document)).items[0]!.url).toBe('https://a.example/one');
  });
});

describe('lenient where it is safe', () => {
  it('keeps a bare "&", and reads HTML entities without a DTD', async () => {
    const { items } = await read(fixture('wordpress-inline-html.rss.xml'));
    expect(items[0]!.title).toBe('Marks & Spencer results lift retail shares in Tokyo édition');
  });

  it('drops a stray end tag and keeps the items around it', async () => {
    const { items } = await read(fixture('wordpress-inline-html.rss.xml'));
    expect(items.map((item) => item.title)).toEqual(['Marks & Spencer results lift retail shares in Tokyo édition', 'BOJ keeps rates steady']);
  });

  it("closes a title left open at its item's end, instead of reading the rest of the feed into it", async () => {
    const document = `<rss version="2.0"><channel><title>t</title><item><title>One<link>https://a.example/1</link></item><item><title>Two</title><link>https://a.example/2</link></item></channel></rss>`;
    const { items } = await read(document);
    // The unclosed title holds what followed it in its item (the link, as text); the next item is whole.
    expect(items.map((item) => item.title)).toEqual(['Onehttps://a.example/1', 'Two']);
  });

  it('keeps the complete items of a document cut off in its eleventh', async () => {
    const item = (index: number) => `<item><title>Story ${index}</title><link>https://a.example/${index}</link><description>Body ${index}</description></item>`;
    const whole = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>${Array.from({ length: 12 }, (_, index) => item(index + 1)).join('\n')}</channel></rss>`;
    const cut = whole.slice(0, whole.indexOf('<title>Story 11</title>') + 20);
    const { items } = await read(cut);
    expect(items.map((entry) => entry.title)).toEqual(Array.from({ length: 10 }, (_, index) => `Story ${index + 1}`));
    // Cut inside the first item: nothing half-read is kept.
    expect((await read('<rss version="2.0"><channel><title>cut off</title><item><title>half')).items).toEqual([]);
    expect(
      (await read('<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id><title>whole</title></entry><entry><title>ha')).items.map(
        (entry) => entry.title,
      ),
    ).toEqual(['whole']);
  });

  it('stays strict where safety needs it: declared entities (billion laughs, XXE) are refused', async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><rss version="2.0"><channel><title>&b;</title></channel></rss>`;
    const xxe = `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>&x;</title></channel></rss>`;
    for (const document of [laughs, xxe]) {
      await expect(parseFeed(document)).rejects.toBeInstanceOf(FeedParseError);
      expect(reviseXml(document)).toEqual({ text: document, truncated: false });
    }
  });

  it('keeps every character of a well-formed document that needs no repair', () => {
    const document = fixture('namespaced-roots.rdf.xml')
      .replace(/<RDF xmlns="[^"]+"/, '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"')
      .replace('</RDF>', '</rdf:RDF>')
      .replace(/rss:/g, '')
      .replace('xmlns:=', 'xmlns:rss=');
    expect(reviseXml(document)).toEqual({ text: document, truncated: false });
  });
});

describe('the right link, guid and text', () => {
  it('takes only an alternate link as the article, the HTML one of several; never self or enclosure', async () => {
    const { items } = await read(fixture('github-releases.atom.xml'));
    expect(items.map((item) => item.url)).toEqual(['https://github.example/wirefeed/wirefeed/releases/tag/v1.0.0', undefined]);
  });

  it.each([
    ['<guid isPermaLink="false">207073</guid>', undefined],
    ['<guid>207073</guid>', undefined],
    ['<guid><p>abc123</p></guid>', undefined],
    ['<guid isPermaLink="false">https://outlet.example/a/1</guid>', undefined],
    ['<guid>https://outlet.example/a/1</guid>', 'https://outlet.example/a/1'],
    ['<guid isPermaLink="true">https://outlet.example/a/1</guid>', 'https://outlet.example/a/1'],
  ])('an item with only %s links to %s', async (guid, url) => {
    const { items } = await read(`<rss version="2.0"><channel><title>t</title><item><title>x</title>${guid}</item></channel></rss>`);
    expect(items[0]!.url).toBe(url);
  });

  it('decodes base64 text constructs that are text, and drops the ones that are not', async () => {
    const { items } = await read(fixture('github-releases.atom.xml'));
    expect(items[1]!.summary).toBe('Entry Content');
    // The binary content (a JPEG's bytes) is dropped, never shown; the decoded summary stands in for it.
    expect(items[1]!.contentHtml).toBe('Entry Content');
    expect(items[1]!.contentText).toBe('Entry Content');
  });

  it('finds dates, authors, text and categories where podcast and Media RSS feeds put them', async () => {
    const { items } = await read(fixture('podcast-itunes.rss.xml'));
    expect(
      items.map((item) => ({
        author: item.author,
        summary: item.summary,
        categories: item.categories,
        publishedAt: item.publishedAt.toISOString(),
        url: item.url,
      })),
    ).toEqual([
      {
        author: 'Yuki Sato',
        summary: "Japan's defense minister and the U.S. secretary of defense met on the sidelines of the Shangri-La Dialogue.",
        categories: ['japan', 'defense', 'alliance', 'singapore'],
        publishedAt: '2024-06-02T01:00:00.000Z',
        url: undefined,
      },
      {
        author: 'Kenji Ito',
        summary: 'Bank of Japan policy, explained.',
        categories: [],
        publishedAt: '2024-05-26T01:00:00.000Z',
        url: 'https://podcast.example/episodes/41',
      },
    ]);
  });

  it("resolves relative links against an entry's own xml:base, inside the document's", async () => {
    const document = `<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/"><title>t</title>
      <entry xml:base="/2024/06/"><id>1</id><title>One</title><link href="kihara-austin.html"/><updated>2024-06-02T00:00:00Z</updated></entry>
      <entry><id>2</id><title>Two</title><link href="about.html"/><updated>2024-06-02T00:00:00Z</updated></entry></feed>`;
    expect((await read(document)).items.map((item) => item.url)).toEqual([
      'https://blog.example/2024/06/kihara-austin.html',
      'https://blog.example/about.html',
    ]);
  });

  it('reads a JSON Feed whose version is "1.1", with author and authors both', async () => {
    const feed = await parseFeed(
      JSON.stringify({ version: '1.1', title: 'Nippon Wire', items: [{ id: '1', title: 'x', authors: [{ name: 'A' }], author: { name: 'B' } }] }),
    );
    expect(feed.warnings).toEqual(['JSON Feed "version" is "1.1", not a https://jsonfeed.org/version/ URL; read as JSON Feed 1.1']);
    expect(feed.items[0]!.author).toBe('A, B');
    await expect(parseFeed(JSON.stringify({ version: '2', items: [] }))).rejects.toBeInstanceOf(FeedParseError);
  });
});

describe('publishers as they write', () => {
  it.each([
    [
      'youtube-channel.atom.xml',
      {
        title: 'Japan, U.S. defense chiefs meet in Singapore',
        url: 'https://www.youtube.example/watch?v=kihara-austin',
        author: 'Nippon Wire TV',
        summary: 'Kihara and Austin agreed to boost the joint presence of Japan and the United States.',
        imageUrl: 'https://i.ytimg.example/vi/kihara-austin/hqdefault.jpg',
      },
    ],
    [
      'google-news.rss.xml',
      {
        title: 'Japan, U.S. defense chiefs reaffirm command coordination - Arab News',
        summary: 'Japan, U.S. defense chiefs reaffirm command coordination Arab News\n\nKihara, Austin agree to strengthen command and control The Japan Times',
      },
    ],
    [
      'blogger.atom.xml',
      {
        title: 'Marines & the Guam move: what changes in Okinawa',
        url: 'https://okinawa-notes.blogspot.example/2024/06/marines-guam.html',
        author: 'Mika',
        categories: ['defense', 'Okinawa'],
      },
    ],
    [
      'medium.rss.xml',
      {
        url: 'https://medium.example/indo-pacific-desk/kihara-austin-command-and-control-9f1c2a?source=rss----abc123---4',
        author: 'Hiro Nakamura',
        categories: ['japan', 'us-military'],
        contentHtml: '<h3>Command and control</h3><p>Japan plans a joint operations command by the end of fiscal 2024.</p>',
      },
    ],
  ])('%s', async (file, expected) => {
    const { items } = await read(fixture(file));
    expect(items[0]).toMatchObject(expected);
  });

  it.each(['shift_jis-declared.xml', 'euc-jp-declared.xml', 'euc-jp-undeclared.xml'])('a Japanese outlet (%s): decoded, then read in order', async (file) => {
    const bytes = readFileSync(new URL(`./fixtures/encodings/${file}`, import.meta.url));
    const { items } = await read(decodeFeedBody(bytes).text);
    // Whitespace in a title, the ideographic space included, is one space.
    expect(items[0]).toMatchObject({
      title: '日米防衛相が会談 指揮統制の連携強化で一致',
      summary: '木原稔防衛相とオースティン米国防長官は２日、シンガポールで会談した。',
      language: 'ja',
    });
  });
});
