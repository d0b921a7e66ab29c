import fc from 'fast-check';
import { Parser as HtmlParser } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { sanitizeContent } from '../src/normalize/html.js';
import { normalizeItem } from '../src/normalize/item.js';
import { FeedParseError, type ParsedFeed, parseFeed } from '../src/parse/index.js';

const normalizeAll = (feed: ParsedFeed, feedUrl = 'https://outlet.example/feed.xml') =>
  feed.items.map((item) => normalizeItem(item, feed, { feedUrl, fetchedAt: new Date('2024-06-03T00:00:00Z'), shortUrlHosts: ['arab.news'] }));

describe('parseFeed: formats', () => {
  it('RSS 0.91', async () => {
    const feed =
      await parseFeed(`<?xml version="1.0"?><rss version="0.91"><channel><title>Wire 0.91</title><link>https://w.example/</link><language>en-us</language>
      <item><title>Tokyo &amp; Washington agree</title><link>https://w.example/1</link><description>Text</description></item></channel></rss>`);
    expect(feed.format).toBe('rss');
    const [item] = normalizeAll(feed);
    expect(item).toMatchObject({ title: 'Tokyo & Washington agree', url: 'https://w.example/1', language: 'en', dateEstimated: true });
  });

  it('RSS 2.0 with atom:link rel=shortlink', async () => {
    const feed = await parseFeed(`<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Arab News</title>
      <item><title>Japan, U.S. defense chiefs reaffirm command coordination</title><link>https://www.arabnews.com/node/2521156/japan</link>
      <atom:link rel="shortlink" href="https://arab.news/p5m3x"/><pubDate>02 Jun 2024 08:06:19 GMT9</pubDate></item></channel></rss>`);
    const [item] = normalizeAll(feed);
    expect(item).toMatchObject({
      shortUrl: 'https://arab.news/p5m3x',
      url: 'https://www.arabnews.com/node/2521156/japan',
      publishedAt: new Date('2024-06-01T23:06:19Z'),
    });
  });

  it('RSS 2.0 with content:encoded, dc:creator, categories with domains, media:content and a relative link', async () => {
    const feed =
      await parseFeed(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
      <channel><title>Outlet</title><link>https://outlet.example/</link>
      <item><title>AT&amp;amp;T story</title><link>/news/1?utm_source=rss</link><guid isPermaLink="false">abc-1</guid>
        <pubDate>Sun, 02 Jun 2024 08:06:19 JST</pubDate><dc:creator>Kyodo</dc:creator>
        <category domain="https://outlet.example/c">Politics</category><category>Defense</category>
        <media:content url="https://img.outlet.example/1.jpg" medium="image"/>
        <description>Short</description><content:encoded><![CDATA[<p>Full <a href="/x">text</a></p>]]></content:encoded></item></channel></rss>`);
    const [item] = normalizeAll(feed);
    expect(item).toMatchObject({
      title: 'AT&T story', // the XML layer leaves "AT&amp;T", an HTML title: no &amp; reaches readers
      url: 'https://outlet.example/news/1',
      guid: 'abc-1',
      author: 'Kyodo',
      categories: ['Politics', 'Defense'],
      imageUrl: 'https://img.outlet.example/1.jpg',
      summary: 'Short',
      contentHtml: '<p>Full <a href="https://outlet.example/x" rel="noopener noreferrer">text</a></p>',
      publishedAt: new Date('2024-06-01T23:06:19Z'),
    });
  });

  it('RSS 1.0 (RDF) with dc:date, dc:subject and rdf:about', async () => {
    const feed =
      await parseFeed(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://r.example/"><title>RDF</title><link>https://r.example/</link><dc:language>ja</dc:language></channel>
      <item rdf:about="https://r.example/1"><title>日米</title><link>https://r.example/1</link><dc:date>2024-06-02T08:06:19+09:00</dc:date><dc:subject>政治</dc:subject></item></rdf:RDF>`);
    expect(feed.format).toBe('rdf');
    const [item] = normalizeAll(feed);
    expect(item).toMatchObject({ guid: 'https://r.example/1', categories: ['政治'], language: 'ja', publishedAt: new Date('2024-06-01T23:06:19Z') });
  });

  it('Atom 0.3 with issued/modified and mode="escaped"', async () => {
    const feed = await parseFeed(`<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old Atom</title><link rel="alternate" href="https://a3.example/"/>
      <entry><title mode="escaped" type="text/html">Japan &lt;b&gt;and&lt;/b&gt; U.S.</title><link rel="alternate" href="https://a3.example/1"/><id>tag:a3,2024:1</id>
      <issued>2024-06-02T08:06:19+09:00</issued><modified>2024-06-02T09:00:00+09:00</modified></entry></feed>`);
    const [item] = normalizeAll(feed);
    expect(item).toMatchObject({ title: 'Japan and U.S.', url: 'https://a3.example/1', publishedAt: new Date('2024-06-01T23:06:19Z') });
  });

  it('Atom 1.0: xml:base, link without rel, shortlink, categories, text titles, and a bad date that does not sink the feed', async () => {
    const feed =
      await parseFeed(`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://jen.jiji.com/news/" xml:lang="en-GB"><title type="text">JIJI</title>
      <entry><title type="text">Less &lt;than&gt; three</title><link href="article?k=1"/><link rel="shortlink" href="https://arab.news/abc"/>
        <id>tag:jiji,2024:1</id><published>not a date</published><updated>2024-06-02T08:06:19+09:00</updated>
        <category term="Politics"/><category term="Defense" label="Defense"/><author><name>JIJI Press</name></author>
        <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Body <b>bold</b></p></div></content></entry>
      <entry xml:lang="ja"><title>Second</title><link rel="alternate" href="https://jen.jiji.com/2"/><id>tag:jiji,2024:2</id><updated>2024-06-02T10:00:00Z</updated></entry></feed>`);
    const [first, second] = normalizeAll(feed);
    expect(first).toMatchObject({
      title: 'Less <than> three',
      url: 'https://jen.jiji.com/news/article?k=1',
      shortUrl: 'https://arab.news/abc',
      categories: ['Politics', 'Defense'],
      author: 'JIJI Press',
      language: 'en',
      publishedAt: new Date('2024-06-01T23:06:19Z'),
      dateEstimated: false,
    });
    expect(first!.contentText).toBe('Body bold');
    expect(second).toMatchObject({ url: 'https://jen.jiji.com/2', language: 'ja' });
  });

  it.each([
    ['1.1', { version: 'https://jsonfeed.org/version/1.1', authors: [{ name: 'Nippon Wire' }] }],
    ['1.0', { version: 'https://jsonfeed.org/version/1', author: { name: 'Nippon Wire' } }],
  ])('JSON Feed %s', async (_version, header) => {
    const feed = await parseFeed(
      JSON.stringify({
        ...header,
        title: 'Nippon Wire',
        language: 'ja',
        items: [
          {
            id: 1,
            url: 'https://nw.example/1',
            title: '<日米>',
            content_text: '会談',
            date_published: '2024-06-02T08:06:19+09:00',
            tags: ['政治'],
            ...('authors' in header ? { authors: header.authors } : { author: header.author }),
          },
        ],
      }),
    );
    expect(feed.format).toBe('json');
    const [item] = normalizeAll(feed);
    expect(item).toMatchObject({ guid: '1', title: '<日米>', contentText: '会談', author: 'Nippon Wire', language: 'ja', categories: ['政治'] });
  });
});

describe('parseFeed: podcast and Dublin Core fields', () => {
  it("reads an item's iTunes categories (a subcategory after its category) and dc:author", async () => {
    const feed = await parseFeed(`<?xml version="1.0"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:pub="http://purl.org/dc/elements/1.1/"><channel><title>NHK Radio News</title>
<item><title>Morning news, June 2</title><link>https://radio.example/2024-06-02</link><pub:author>NHK World Radio Japan</pub:author>
<itunes:category text="News"><itunes:category text="Daily News"/></itunes:category><itunes:category text="Government"/><category>Japan</category></item>
</channel></rss>`);
    const [item] = normalizeAll(feed);
    expect(item).toMatchObject({ author: 'NHK World Radio Japan', categories: ['Japan', 'News', 'Daily News', 'Government'] });
  });
});

describe('parseFeed: Media RSS titles', () => {
  it("titles an item without a title of its own by its medium's, in a group or not", async () => {
    const feed = await parseFeed(`<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>NHK Video</title>
<item><link>https://video.example/1</link><media:title>Defense chiefs meet in Singapore</media:title></item>
<item><link>https://video.example/2</link><media:group><media:title>Typhoon nears Okinawa</media:title></media:group></item>
<item><title>Own title &amp; more</title><link>https://video.example/3</link><media:title>Medium's title</media:title></item>
</channel></rss>`);
    expect(normalizeAll(feed).map((item) => item.title)).toEqual(['Defense chiefs meet in Singapore', 'Typhoon nears Okinawa', 'Own title & more']);
  });
});

describe('parseFeed: items left out by the reader', () => {
  const documents = {
    rss: `<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Kyodo</title>
      <lastBuildDate>Sun, 02 Jun 2024 09:00:00 +0900</lastBuildDate>
      <item><title>Defense chiefs meet</title><link>https://k.example/1</link><dc:creator>Kyodo</dc:creator></item>
      <item><title>Yen &amp; rates</title><link>https://k.example/2</link><description>Rates <b>rise</b></description></item>
      <item><title>Typhoon nears Okinawa</title><link>https://k.example/3</link></item></channel></rss>`,
    atom: `<feed xmlns="http://www.w3.org/2005/Atom"><title>JIJI</title><updated>2024-06-02T00:00:00Z</updated>
      <entry><title>Defense chiefs meet</title><link href="https://j.example/1"/><id>j1</id><updated>2024-06-01T23:06:19Z</updated></entry>
      <entry><title>Yen &amp; rates</title><link href="https://j.example/2"/><id>j2</id><updated>2024-06-01T23:10:00Z</updated></entry>
      <entry><title>Typhoon nears Okinawa</title><link href="https://j.example/3"/><id>j3</id><updated>2024-06-01T23:20:00Z</updated></entry></feed>`,
    rdf: `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
      <channel rdf:about="https://n.example/"><title>NHK</title><link>https://n.example/</link></channel>
      <item rdf:about="https://n.example/1"><title>Defense chiefs meet</title><link>https://n.example/1</link></item>
      <item rdf:about="https://n.example/2"><title>Yen &amp; rates</title><link>https://n.example/2</link></item>
      <item rdf:about="https://n.example/3"><title>Typhoon nears Okinawa</title><link>https://n.example/3</link></item></rdf:RDF>`,
  };

  it.each(Object.entries(documents))('%s: sees each complete item once, in order, and parses only those it keeps', async (_format, text) => {
    const seen: string[] = [];
    const feed = await parseFeed(text, {
      keepItem: (xml) => {
        seen.push(xml);
        return !xml.includes('Yen');
      },
    });
    expect(seen).toHaveLength(3);
    expect(seen.map((xml) => /<title>([^<]*)<\/title>/.exec(xml)?.[1])).toEqual(['Defense chiefs meet', 'Yen &amp; rates', 'Typhoon nears Okinawa']);
    expect(feed.items.map((item) => item.title)).toEqual(['Defense chiefs meet', 'Typhoon nears Okinawa']);
    // What is kept reads as it would in the whole document.
    const whole = await parseFeed(text);
    expect(feed.items).toEqual([whole.items[0], whole.items[2]]);
    expect({ ...feed, items: [] }).toEqual({ ...whole, items: [] });
  });

  it('is not asked about an item a cut-off document leaves incomplete', async () => {
    const seen: string[] = [];
    const cut = documents.rss.slice(0, documents.rss.indexOf('Typhoon'));
    const feed = await parseFeed(cut, { keepItem: (xml) => seen.push(xml) > 0 });
    expect(seen).toHaveLength(2);
    expect(feed.items).toHaveLength(2);
    expect(feed.truncated).toBe(true);
  });
});

describe('parseFeed: input that is not a feed', () => {
  it.each([
    ['an HTML login page', '<!DOCTYPE html><html><head><title>Log in</title></head><body><form></form></body></html>', 'not a feed: got an HTML page'],
    ['garbage', 'Lorem ipsum dolor', 'not a feed: neither XML nor JSON'],
    ['an empty body', '  \n', 'not a feed: empty document'],
    ['JSON that is not a feed', '{"error":"rate limited"}', 'not a feed: JSON without a jsonfeed.org "version"'],
    ['broken JSON', '{"version":', /^not a feed: invalid JSON/],
    ['an unknown XML root', '<?xml version="1.0"?><sitemap/>', 'not a feed: unexpected root element <sitemap>'],
  ])('%s is a clear FeedParseError', async (_name, text, message) => {
    const attempt = parseFeed(text);
    await expect(attempt).rejects.toBeInstanceOf(FeedParseError);
    await expect(parseFeed(text)).rejects.toThrow(message);
  });

  it('reads an RSS document without a channel as an empty feed', async () => {
    expect((await parseFeed('<rss version="2.0"></rss>')).items).toEqual([]);
  });
});

describe('parseFeed: hostile XML', () => {
  it('refuses entity expansion (billion laughs)', async () => {
    const entities = Array.from({ length: 9 }, (_, level) => `<!ENTITY lol${level + 1} "${`&lol${level};`.repeat(10)}">`).join('');
    const doc = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">${entities}]><rss version="2.0"><channel><title>&lol9;</title></channel></rss>`;
    await expect(parseFeed(doc)).rejects.toThrow(/^invalid RSS document: Invalid character entity/);
  });

  it('refuses external entities (XXE)', async () => {
    const doc = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>&xxe;</title></channel></rss>`;
    await expect(parseFeed(doc)).rejects.toThrow(FeedParseError);
  });

  it('refuses deep nesting before it reaches the recursive parser', async () => {
    const doc = `<rss version="2.0"><channel><item>${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}</item></channel></rss>`;
    await expect(parseFeed(doc)).rejects.toThrow('invalid RSS document: elements nested deeper than 256 levels');
  });

  it('reads deep markup inside a description as text, without recursing into it', async () => {
    const doc = `<rss version="2.0"><channel><item><title>Deep</title><description>${'<a>'.repeat(200_000)}x${'</a>'.repeat(200_000)}</description></item></channel></rss>`;
    const [item] = (await parseFeed(doc)).items;
    expect(item!.title).toBe('Deep');
    expect(item!.summaryHtml).toMatch(/^<a><a><a>/);
  });

  it('does not let element names pollute prototypes', async () => {
    const doc = `<rss version="2.0"><channel><title>t</title><item><title>x</title><__proto__><polluted>yes</polluted></__proto__><constructor><prototype><polluted>yes</polluted></prototype></constructor></item></channel></rss>`;
    const feed = await parseFeed(doc);
    expect(feed.items[0]!.title).toBe('x');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('sanitizeContent: property', () => {
  const pieces = [
    '<a href="',
    '<img src="',
    '<iframe src="',
    '<svg onload="',
    '<p ',
    'onclick=',
    'onerror="x()"',
    'javascript:',
    'JaVaScRiPt:',
    'java&#9;script:',
    'java\tscript:',
    '&#106;avascript:',
    'vbscript:',
    'data:text/html,',
    'data:image/svg+xml,',
    '<script>',
    '</script>',
    '<style>',
    'alert(1)',
    '">',
    "'",
    '"',
    '>',
    '<',
    '/',
    ' ',
    'https://ok.example/',
    '&#x6A;',
    '<math><mi xlink:href="',
    '<form action="',
    '<object data="',
    '<embed src="',
    '<base href="',
    '<meta http-equiv="refresh" content="0;url=',
    '<body background="',
    'expression(',
  ];
  const payload = fc.array(fc.constantFrom(...pieces), { maxLength: 24 }).map((parts) => parts.join(''));

  it('never leaves an executable URL, handler or active element', () => {
    fc.assert(
      fc.property(payload, (html) => {
        const output = sanitizeContent(html, 'https://outlet.example/a/');
        const problems: string[] = [];
        const parser = new HtmlParser(
          {
            onopentag(name, attributes) {
              if (['script', 'style', 'object', 'embed', 'base', 'meta', 'form', 'svg', 'math'].includes(name)) problems.push(`<${name}>`);
              for (const [attribute, value] of Object.entries(attributes)) {
                if (/^on/i.test(attribute)) problems.push(`${attribute}=`);
                if (['href', 'src', 'action', 'data', 'background', 'poster', 'xlink:href'].includes(attribute) && !/^https?:\/\//.test(value)) {
                  problems.push(`${attribute}=${value}`);
                }
              }
            },
          },
          { decodeEntities: true },
        );
        parser.write(output);
        parser.end();
        expect(problems, `input: ${html}\noutput: ${output}`).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });
});
