import { describe, expect, it } from 'vitest';
import { parseFeed } from '../src/parse/index.js';
import { scanXml } from '../src/parse/xml-scan.js';

describe('scanXml: one linear pass before parsing', () => {
  it.each([
    ['<?xml version="1.0"?><rss version="2.0"><channel/></rss>', 'rss', true],
    ['<!-- <feed> --><!DOCTYPE rss [<!ENTITY a "<b>">]><rss><channel></channel></rss>', 'rss', true],
    ['<rdf:RDF xmlns:rdf="x" xml:lang="ja"><rss:channel/></rdf:RDF>', 'rdf:RDF', true],
    ['<feed xmlns="http://www.w3.org/2005/Atom" xml:base=\'https://jen.jiji.com/\'><title>a > b</title></feed>', 'feed', false],
    ['<![CDATA[<rss>]]><html><body>', 'html', false],
    ['<?xml-stylesheet href="a.xsl"?>\n<a10:feed xmlns:a10="http://www.w3.org/2005/Atom"/>', 'a10:feed', false],
    ['no markup at all', undefined, false],
    ['< rss>', undefined, false],
  ])('%s: root %s, channel %s', (text, root, hasChannel) => {
    const outline = scanXml(text, 256);
    expect(outline.root?.name).toBe(root);
    expect(outline.hasChannel).toBe(hasChannel);
    expect(outline.tooDeep).toBe(false);
  });

  it('reads the root attributes, quoted either way, with ">" inside a value', () => {
    expect(scanXml(`<feed a="x > y" xml:lang='ja' xml:base="https://a.example/"><x/></feed>`, 10).root?.attributes).toEqual({
      a: 'x > y',
      'xml:lang': 'ja',
      'xml:base': 'https://a.example/',
    });
  });

  it('counts depth, ignoring self-closed elements, comments and CDATA', () => {
    const nested = (depth: number) => `${'<a>'.repeat(depth)}<b/><!--<c>--><![CDATA[<d>]]>${'</a>'.repeat(depth)}`;
    expect(scanXml(nested(10), 10).tooDeep).toBe(false);
    expect(scanXml(nested(11), 10).tooDeep).toBe(true);
    expect(scanXml(`${'<a>x</a>'.repeat(1000)}`, 2).tooDeep).toBe(false);
  });

  it('stops cleanly on what never ends: a comment, CDATA, a tag or a quote', () => {
    for (const text of ['<rss><!-- open', '<rss><![CDATA[ open', '<rss><item a="open', '<rss><item', `<rss>${'<a '.repeat(1000)}`]) {
      expect(scanXml(text, 256).root?.name).toBe('rss');
    }
  });
});

describe('parsing yields to the event loop', () => {
  it('lets other callbacks run while a large document is parsed', async () => {
    const item = '<item><title>Japan defense</title><description>Kihara and Austin agreed to boost the joint presence.</description></item>';
    const document = `<rss version="2.0"><channel><title>Big</title>${item.repeat(20_000)}</channel></rss>`;
    let ticks = 0;
    let parsing = true;
    const tick = () => {
      ticks++;
      if (parsing) setImmediate(tick);
    };
    setImmediate(tick);
    const feed = await parseFeed(document);
    parsing = false;
    expect(feed.items).toHaveLength(20_000);
    // 2.5 MB in 64 KiB slices: the loop turned between slices (a synchronous parse would allow one tick at most).
    expect(ticks).toBeGreaterThan(10);
  });
});
