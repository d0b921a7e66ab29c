import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addSourcesToYaml, sourceIdFor, tagsFor } from '../src/config/edit.js';
import { initConfig } from '../src/config/init.js';
import { loadConfig } from '../src/config/load.js';
import { type OpmlFeed, parseOpml, renderSourcesOpml, sourceFromOutline } from '../src/config/opml.js';

import { writeConfigDir } from './helpers/config.js';

const asSources = (feeds: OpmlFeed[]) => feeds.map((feed) => ({ url: feed.xmlUrl, title: feed.title, tags: tagsFor(feed.categories) }));

const MINIFLUX_EXPORT = `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Miniflux</title></head>
  <body>
    <outline text="Japan">
      <outline title="Japan Today" text="Japan Today" xmlUrl="https://japantoday.com/feed" htmlUrl="https://japantoday.com/"></outline>
      <outline title="NHK &amp; friends" text="NHK" xmlUrl="https://www3.nhk.or.jp/rss/news/cat0.xml"></outline>
    </outline>
    <outline text="The Diplomat" xmlUrl="https://thediplomat.com/feed/"></outline>
    <outline text="Gopher" xmlUrl="gopher://example.org/feed"></outline>
  </body>
</opml>`;

describe('OPML', () => {
  it('reads nested outlines with their titles', () => {
    expect(parseOpml(MINIFLUX_EXPORT)).toEqual([
      { title: 'Japan Today', xmlUrl: 'https://japantoday.com/feed', htmlUrl: 'https://japantoday.com/', categories: ['Japan'], extensions: {} },
      { title: 'NHK & friends', xmlUrl: 'https://www3.nhk.or.jp/rss/news/cat0.xml', categories: ['Japan'], extensions: {} },
      { title: 'The Diplomat', xmlUrl: 'https://thediplomat.com/feed/', categories: [], extensions: {} },
      { title: 'Gopher', xmlUrl: 'gopher://example.org/feed', categories: [], extensions: {} },
    ]);
    expect(() => parseOpml('<rss></rss>')).toThrow('not an OPML document');
  });

  it("keeps a feed's outermost 20 folders and category names, however deep a file nests them", () => {
    const depth = 5_000;
    const folders = Array.from({ length: depth }, (_, index) => `<outline text="Desk ${index}" xmlns:d${index}="urn:desk:${index}">`).join('');
    const opml = `<opml version="2.0"><body>${folders}<outline text="Wire" xmlUrl="https://wire.example/rss" category="/a,/b"/>${'</outline>'.repeat(depth)}<outline text="Top" xmlUrl="https://top.example/rss" category="/a/b,/c"/></body></opml>`;
    const [deep, top] = parseOpml(opml);
    expect(deep!.categories).toEqual(Array.from({ length: 20 }, (_, index) => `Desk ${index}`));
    expect(top!.categories).toEqual(['a', 'b', 'c']);
  });

  it('imports into a YAML file keeping its comments, skipping sources already there and non-http feeds', () => {
    const yaml = `# My sources\nsources:\n  # the first one\n  - id: japantoday\n    url: https://japantoday.com/feed/\n`;
    const dir = writeConfigDir({ 'sources.yml': yaml });
    const result = addSourcesToYaml(yaml, asSources(parseOpml(MINIFLUX_EXPORT)), loadConfig(dir).sources);
    expect(result.added).toEqual([
      { id: 'nhk-friends', url: 'https://www3.nhk.or.jp/rss/news/cat0.xml' },
      { id: 'the-diplomat', url: 'https://thediplomat.com/feed/' },
    ]);
    expect(result.skipped).toEqual([
      { url: 'https://japantoday.com/feed', reason: 'already a source' },
      { url: 'gopher://example.org/feed', reason: 'not an http(s) URL' },
    ]);
    expect(result.text).toMatch(/^# My sources\nsources:\n {2}# the first one\n {2}- id: japantoday\n/);
    writeFileSync(join(dir, 'sources.yml'), result.text);
    expect(loadConfig(dir).sources.map((source) => source.id)).toEqual(['japantoday', 'nhk-friends', 'the-diplomat']);
  });

  it('gives thousands of feeds of one title distinct ids, each URL once', () => {
    const feeds = Array.from({ length: 3_000 }, (_, index) => ({ url: `https://wire${index % 2_500}.example/rss`, title: 'Kyodo News' }));
    const result = addSourcesToYaml('sources: []\n', feeds, []);
    expect(result.added).toHaveLength(2_500);
    expect(result.skipped).toHaveLength(500);
    expect(new Set(result.added.map((added) => added.id)).size).toBe(2_500);
    expect(result.added.slice(0, 3).map((added) => added.id)).toEqual(['kyodo-news', 'kyodo-news-2', 'kyodo-news-3']);
  });

  it('round-trips: importing what export wrote gives the same sources', () => {
    const from = writeConfigDir({
      'sources.yml': `sources:\n  - id: jiji\n    url: https://jen.jiji.com/rss\n    title: JIJI Press\n  - id: arab-news-japan\n    url: https://www.arabnews.com/cat/japan/rss.xml?x=1&y=2\n    title: Arab News "Japan"\n`,
    });
    const exported = renderSourcesOpml(loadConfig(from).sources, new Date('2024-06-02T00:00:00Z'));
    const to = writeConfigDir({ 'sources.yml': '' });
    const result = addSourcesToYaml('', asSources(parseOpml(exported)), []);
    writeFileSync(join(to, 'sources.yml'), result.text);
    const strip = (dir: string) => loadConfig(dir).sources.map(({ url, title }) => ({ url, title }));
    expect(strip(to)).toEqual(strip(from));
    expect(readFileSync(join(to, 'sources.yml'), 'utf8')).toContain('title: Arab News "Japan"');
  });

  it('leaves out of the export a source that is a web page read by scrape rules: no other reader can read it as a feed', () => {
    const from = writeConfigDir({
      'sources.yml': `sources:\n  - id: jiji\n    url: https://jen.jiji.com/rss\n  - id: jiji-politics\n    url: https://jen.jiji.com/jc/eng?g=pol\n    scrape: { items: 'ul.news-list > li' }\n`,
    });
    const exported = parseOpml(renderSourcesOpml(loadConfig(from).sources, new Date('2024-06-02T00:00:00Z')));
    expect(exported.map((feed) => feed.xmlUrl)).toEqual(['https://jen.jiji.com/rss']);
  });

  /** The shapes readers export: folders (Miniflux, Feedly, Inoreader nest outlines) and category= (FreshRSS, OPML 2.0). */
  const FRESHRSS_EXPORT = `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
	<head><title>FreshRSS</title><dateCreated>Sun, 02 Jun 2024 00:00:00 +0000</dateCreated></head>
	<body>
		<outline text="World News">
			<outline text="Kyodo News" type="rss" xmlUrl="https://english.kyodonews.example/rss/news.xml" htmlUrl="https://english.kyodonews.example/" category="/World News,/Wire"/>
		</outline>
		<outline text="日本経済新聞" type="rss" xmlUrl="https://www.nikkei.example/rss/news.xml" category="/経済"/>
	</body>
</opml>`;
  const FEEDLY_EXPORT = `<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Feedly subscriptions</title></head>
  <body>
    <outline text="Security" title="Security">
      <outline type="rss" text="The Diplomat" title="The Diplomat" xmlUrl="https://thediplomat.example/feed/" htmlUrl="https://thediplomat.example"/>
      <outline text="Asia desk" title="Asia desk">
        <outline type="rss" text="JIJI Press" title="JIJI Press" xmlUrl="https://jen.jiji.example/rss"/>
      </outline>
    </outline>
  </body>
</opml>`;

  it('takes categories as tags from folders and category attributes, in the shapes Miniflux, FreshRSS and Feedly export', () => {
    const tags = (opml: string) => parseOpml(opml).map((feed) => [feed.xmlUrl, tagsFor(feed.categories)]);
    expect(tags(MINIFLUX_EXPORT).slice(0, 3)).toEqual([
      ['https://japantoday.com/feed', ['japan']],
      ['https://www3.nhk.or.jp/rss/news/cat0.xml', ['japan']],
      ['https://thediplomat.com/feed/', []],
    ]);
    expect(tags(FRESHRSS_EXPORT)).toEqual([
      ['https://english.kyodonews.example/rss/news.xml', ['world-news', 'wire']],
      ['https://www.nikkei.example/rss/news.xml', []], // a name without Latin letters makes no tag
    ]);
    expect(tags(FEEDLY_EXPORT)).toEqual([
      ['https://thediplomat.example/feed/', ['security']],
      ['https://jen.jiji.example/rss', ['security', 'asia-desk']],
    ]);
    const dir = writeConfigDir({ 'sources.yml': 'sources: []\n' });
    const result = addSourcesToYaml('sources: []\n', asSources(parseOpml(FRESHRSS_EXPORT)), []);
    writeFileSync(join(dir, 'sources.yml'), result.text);
    expect(loadConfig(dir).sources.map((source) => [source.id, source.tags])).toEqual([
      ['kyodo-news', ['world-news', 'wire']],
      ['nikkei-example-rss-news', []],
    ]);
  });

  it.each([
    [{ url: 'https://www.nikkei.com/rss', title: '日本経済新聞' }, 'nikkei-com-rss'],
    [{ url: 'https://www.lemonde.example/economie/rss_full.xml', title: 'Le Monde — Économie' }, 'le-monde-economie'],
    [{ url: 'https://english.kyodonews.example/rss/news.xml' }, 'english-kyodonews-example-rss-news'],
    [{ url: 'https://x.example/', title: 'X' }, 'x-example'],
    [{ url: 'https://www.yna.example/rss/news.xml', title: '연합뉴스 (Yonhap)' }, 'yonhap'],
  ])('makes a source id for %j: %s', (feed, id) => {
    expect(sourceIdFor(feed)).toBe(id);
  });

  /** The lines of `after` are those of `before` with one block inserted: every old line kept, byte for byte. */
  function insertedBlock(before: string, after: string): string[] {
    const old = before.split('\n');
    const now = after.split('\n');
    let head = 0;
    while (head < old.length && old[head] === now[head]) head++;
    let tail = 0;
    while (tail < old.length - head && old[old.length - 1 - tail] === now[now.length - 1 - tail]) tail++;
    expect(head + tail, `old lines changed:\n${after}`).toBe(old.length);
    return now.slice(head, now.length - tail);
  }

  it('adds sources to the starter file and to a hand-edited one changing no line that was there', () => {
    const dir = writeConfigDir({});
    initConfig(`${dir}/starter`);
    const starter = readFileSync(`${dir}/starter/sources.yml`, 'utf8');
    const handEdited = `# Wire services first.
sources:
  - id: arab-news        # Arab News Japan
    url: https://www.arabnews.example/cat/japan/rss.xml
    shortUrlHosts: [arab.news]   # its short links
    every: 10m                   # a busy feed

  - {id: jiji, url: "https://jen.jiji.example/rss"}   # flow style, kept
# Topics live in topics.yml.
# (closing comment block)
`;
    const feeds = [
      { url: 'https://www.nikkei.example/rss', title: '日本経済新聞', tags: ['business'] },
      { url: 'https://thediplomat.example/feed/', title: 'The Diplomat' },
    ];
    for (const before of [starter, handEdited]) {
      const result = addSourcesToYaml(before, feeds, []);
      const block = insertedBlock(before, result.text);
      expect(block).toEqual([
        '  - id: nikkei-example-rss',
        '    url: https://www.nikkei.example/rss',
        '    title: 日本経済新聞',
        '    tags: [business]',
        '  - id: the-diplomat',
        '    url: https://thediplomat.example/feed/',
        '    title: The Diplomat',
      ]);
      const check = writeConfigDir({ 'sources.yml': result.text });
      expect(loadConfig(check).sources.map((source) => source.id)).toContain('the-diplomat');
    }
    // The entries go after the list's last entry, before the comments that close the file.
    expect(addSourcesToYaml(handEdited, feeds, []).text).toMatch(/title: The Diplomat\n# Topics live in topics.yml.\n# \(closing comment block\)\n$/);
  });

  it.each([
    ['', 'sources:\n  - id: b-example-feed\n    url: https://b.example/feed\n'],
    ['sources:\n', 'sources:\n  - id: b-example-feed\n    url: https://b.example/feed\n'],
    ['sources: []  # none yet\n', 'sources:  # none yet\n  - id: b-example-feed\n    url: https://b.example/feed\n'],
    ['topics: []\n', 'topics: []\nsources:\n  - id: b-example-feed\n    url: https://b.example/feed\n'],
    ['worker:\n  batch: 10', 'worker:\n  batch: 10\nsources:\n  - id: b-example-feed\n    url: https://b.example/feed\n'],
  ])('adds a source to %j', (before, after) => {
    expect(addSourcesToYaml(before, [{ url: 'https://b.example/feed' }], []).text).toBe(after);
  });

  /** What an import makes of each outline: the source it adds (with notes), or why it skips it. */
  const imported = (opml: string) => parseOpml(opml).map(sourceFromOutline);
  const added = (opml: string) => imported(opml).flatMap((read) => ('source' in read ? [read.source] : []));

  it('round-trips every setting through export --all and import, but credentials and private-network access', () => {
    const yaml = `sources:
  - id: jiji
    url: https://jen.jiji.example/rss
    title: JIJI Press
    every: 5m
    priority: 10
    tags: [wire, japan]
    shortUrlHosts: [jiji.to]
    fullText: { select: 'div.article-body > p', remove: '.share, aside' }
    keep: japan OR tokyo
    retention: { items: 30d, keepPerSource: 500 }
    quietAfter: 36h
  - id: arab-news
    url: https://www.arabnews.example/cat/japan/rss.xml?x=1&y=2
    title: Arab News "Japan" <wire>
    every: 90s
    paused: true
    fullText: true
    exclude: 'title:"sponsored"'
    retention: { items: never }
    quietAfter: never
    username: bot
    password: not-in-the-file
  - id: jiji-politics
    url: https://jen.jiji.example/jc/eng?g=pol
    every: auto
    paused: true
    allowPrivateNetwork: true
    scrape: { items: 'ul.news-list > li', date: 'span.date', summary: .lead, categories: '.tags > a', timeZone: Asia/Tokyo, dateOrder: day-first }
  - id: nhk-api
    url: https://www3.nhk.example/api/latest.json
    scrape: { format: json, items: $.channel.item, title: headline, link: links.0.href, image: media.0.url, categories: genre }
  - id: root-list
    url: https://api.example/list.json
    scrape: { format: json, items: $ }
`;
    const fromConfig = loadConfig(writeConfigDir({ 'sources.yml': yaml }));
    const from = fromConfig.sources;
    const exported = renderSourcesOpml(from, new Date('2024-06-02T00:00:00Z'), { all: true, retention: fromConfig.retention.sources });
    const reads = imported(exported);
    expect(reads.every((read) => 'source' in read && read.notes.length === 0)).toBe(true);
    const result = addSourcesToYaml('', added(exported), []);
    expect(result.added.map((source) => source.id)).toEqual(['jiji', 'arab-news', 'jiji-politics', 'nhk-api', 'root-list']);
    const toConfig = loadConfig(writeConfigDir({ 'sources.yml': result.text }));
    expect(toConfig.retention.sources).toEqual(fromConfig.retention.sources);
    const to = toConfig.sources;
    const withoutAccess = (source: (typeof from)[number]) => ({ ...source, credentials: undefined, network: { kind: 'public-only' } });
    // The only difference: dot paths are written without their optional "$." (the same path).
    const sameRules = from
      .map(withoutAccess)
      .map((source) => (source.id === 'nhk-api' ? { ...source, scrape: { ...source.scrape!, items: 'channel.item' } } : source));
    expect(to.map(withoutAccess)).toEqual(sameRules);
    // FreshRSS reads the JSON listing's paths with array indexes in brackets, and the full-text selector.
    expect(exported).toContain('frss:jsonItemUri="links[0].href"');
    expect(exported).toContain('frss:cssFullContent="div.article-body &gt; p"');
    expect(exported).toMatch(/<outline type="HTML\+CSS" [^>]*wirefeed:scrapeItems="ul.news-list &gt; li"/);
    // Without --all, only feeds: what any reader can read.
    expect(parseOpml(renderSourcesOpml(from, new Date())).map((feed) => feed.xmlUrl)).toEqual(from.slice(0, 2).map((source) => source.url));
  });

  /** An export in FreshRSS's shapes: its extension bound to another prefix than its own, as any file may. */
  const freshRss = (outlines: string) => `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0" xmlns:f="https://freshrss.org/opml" xmlns:frss="https://not-freshrss.example/">
  <head><title>FreshRSS</title></head>
  <body><outline text="Wire">${outlines}</outline></body>
</opml>`;

  it.each([
    [
      'a feed with its full-text selectors and refresh time',
      '<outline text="Kyodo" type="rss" xmlUrl="https://kyodo.example/rss" f:cssFullContent="article .body" f:cssContentFilter=".ad" f:ttl="3600"/>',
      { url: 'https://kyodo.example/rss', title: 'Kyodo', tags: ['wire'], every: '1h', fullText: { select: 'article .body', remove: '.ad' } },
      [],
    ],
    [
      'a JSON listing by dot and bracket paths, with settings Wirefeed has not',
      '<outline text="NHK" type="JSON+DotNotation" xmlUrl="https://nhk.example/latest.json" f:jsonItem="data.items" f:jsonItemTitle="meta.title" f:jsonItemUri="meta.links[0]" f:jsonItemContent="lead" f:jsonItemContentHTML="body" f:jsonItemUid="id" f:jsonItemTimeFormat="Y/m/d H:i"/>',
      {
        url: 'https://nhk.example/latest.json',
        title: 'NHK',
        tags: ['wire'],
        scrape: { format: 'json', items: 'data.items', title: 'meta.title', link: 'meta.links.0', summary: 'body' },
      },
      ['left out frss:jsonItemUid, frss:jsonItemTimeFormat: Wirefeed has no such setting'],
    ],
    [
      'a muted feed (paused here, its interval kept), and a content filter without full text',
      '<outline text="Muted" xmlUrl="https://muted.example/rss" f:ttl="-3600" f:cssContentFilter=".ad"/>',
      { url: 'https://muted.example/rss', title: 'Muted', tags: ['wire'], every: '1h', paused: true },
      ['left out frss:cssContentFilter: Wirefeed removes elements only from the articles it reads (fullText)'],
    ],
    [
      "a feed's User-Agent and HTTP proxy (FreshRSS's cURL options)",
      '<outline text="Reddit" xmlUrl="https://www.reddit.example/r/japan/.rss" f:CURLOPT_USERAGENT="linux:desk.wirefeed:1.0 (by /u/desk)" f:CURLOPT_PROXY="proxy.example:8080"/>',
      {
        url: 'https://www.reddit.example/r/japan/.rss',
        title: 'Reddit',
        tags: ['wire'],
        headers: { 'User-Agent': 'linux:desk.wirefeed:1.0 (by /u/desk)' },
        proxy: 'http://proxy.example:8080',
      },
      [],
    ],
    [
      'a feed through Tor, with cURL options that may be credentials or that Wirefeed has not',
      '<outline text="Onion" xmlUrl="https://onion.example/rss" f:CURLOPT_PROXY="127.0.0.1:9050" f:CURLOPT_PROXYTYPE="7" f:CURLOPT_COOKIE="session=abc" f:CURLOPT_HTTPHEADER="X-Api-Key: k" f:CURLOPT_POST="true" f:CURLOPT_MAXREDIRS="3" f:filtersActionRead="intitle:ads"/>',
      { url: 'https://onion.example/rss', title: 'Onion', tags: ['wire'], proxy: 'socks5h://127.0.0.1:9050' },
      [
        "left out frss:CURLOPT_COOKIE, frss:CURLOPT_HTTPHEADER: cookies and headers may be credentials, which are never read from a file (give them in the source's headers)",
        'left out frss:CURLOPT_MAXREDIRS, frss:CURLOPT_POST: Wirefeed has no such setting',
        'left out frss:filtersActionRead: Wirefeed marks nothing as read (an exclude query leaves items out)',
      ],
    ],
    [
      'a feed fetched without a proxy',
      '<outline text="Direct" xmlUrl="https://direct.example/rss" f:CURLOPT_PROXYTYPE="-1"/>',
      { url: 'https://direct.example/rss', title: 'Direct', tags: ['wire'], proxy: false },
      [],
    ],
    [
      'a proxy with its password',
      '<outline text="Login" xmlUrl="https://login.example/rss" f:CURLOPT_PROXY="desk:s3cret@proxy.example:8080"/>',
      { url: 'https://login.example/rss', title: 'Login', tags: ['wire'] },
      ['left out frss:CURLOPT_PROXY: it holds a user name and password, which are never read from a file'],
    ],
    [
      'a SOCKS4 proxy',
      '<outline text="Socks4" xmlUrl="https://socks4.example/rss" f:CURLOPT_PROXY="proxy.example:1080" f:CURLOPT_PROXYTYPE="4"/>',
      { url: 'https://socks4.example/rss', title: 'Socks4', tags: ['wire'] },
      ['left out frss:CURLOPT_PROXY: its frss:CURLOPT_PROXYTYPE 4 (SOCKS4 or an HTTPS proxy) is not one Wirefeed speaks'],
    ],
    [
      'a proxy without its port',
      '<outline text="Portless" xmlUrl="https://portless.example/rss" f:CURLOPT_PROXY="proxy.example"/>',
      { url: 'https://portless.example/rss', title: 'Portless', tags: ['wire'] },
      ['left out frss:CURLOPT_PROXY "proxy.example": must give the proxy\'s port (http://proxy.example:3128)'],
    ],
    [
      'a feed muted on the default interval',
      '<outline text="Muted" xmlUrl="https://muted.example/rss" f:ttl="-2"/>',
      { url: 'https://muted.example/rss', title: 'Muted', tags: ['wire'], paused: true },
      [],
    ],
    [
      'a refresh time that is no number of seconds',
      '<outline text="Odd" xmlUrl="https://odd.example/rss" f:ttl="hourly"/>',
      { url: 'https://odd.example/rss', title: 'Odd', tags: ['wire'] },
      ['left out frss:ttl "hourly": not a whole number of seconds'],
    ],
    [
      'attributes of a namespace Wirefeed does not know, whatever their prefix',
      '<outline text="Other" xmlUrl="https://other.example/rss" frss:ttl="60" frss:cssFullContent="main"/>',
      { url: 'https://other.example/rss', title: 'Other', tags: ['wire'] },
      [],
    ],
  ])('imports from FreshRSS %s', (_, outline, source, notes) => {
    expect(imported(freshRss(outline))).toEqual([{ source, notes }]);
    const yaml = addSourcesToYaml('', added(freshRss(outline)), []).text;
    expect(loadConfig(writeConfigDir({ 'sources.yml': yaml })).sources).toHaveLength(1);
  });

  it.each([
    [
      '<outline text="Page" type="HTML+XPath" xmlUrl="https://page.example/" f:xPathItem="//article"/>',
      /^FreshRSS reads it by XPath \(HTML\+XPath\), which Wirefeed does not: try CSS rules/,
    ],
    ['<outline text="API" type="JSON+DotNotation" xmlUrl="https://api.example/"/>', /^a JSON\+DotNotation outline without frss:jsonItem$/],
    ['<outline text="Bad" xmlUrl="https://bad.example/rss" f:cssFullContent="div["/>', /^frss:cssFullContent: is not a CSS selector Wirefeed can match/],
    ['<outline text="Bad" xmlUrl="https://bad.example/rss" f:ttl="99999999999"/>', /^frss:ttl: expected a duration/],
    [
      '<outline text="Bad" type="HTML+CSS" xmlUrl="https://bad.example/" xmlns:w="urn:wirefeed:opml" w:scrapeItems="li" w:scrapeDate="time[" />',
      /^wirefeed:scrapeDate: is not a CSS selector/,
    ],
    ['<outline text="Bad" xmlUrl="https://bad.example/rss" xmlns:w="urn:wirefeed:opml" w:keep="japan AND ("/>', /^wirefeed:keep: /],
    ['<outline text="Bad" xmlUrl="https://bad.example/rss" xmlns:w="urn:wirefeed:opml" w:priority="high"/>', /^wirefeed:priority: /],
  ])('skips %s, naming the attribute', (outline, reason) => {
    const [read] = imported(freshRss(outline));
    expect(read).toEqual({ skipped: expect.stringMatching(reason) });
  });

  it('reads an outline that includes another OPML file as that file, in its folders, never as a feed (the import follows it)', () => {
    const opml = freshRss(
      '<outline text="Desk" f:opmlUrl="https://lists.example/desk.opml"><outline text="Kept" xmlUrl="https://kept.example/rss"/></outline><outline text="More" type="include" url="https://lists.example/more.opml"/><outline text="Blank" f:opmlUrl=" "/>',
    );
    expect(parseOpml(opml).map((feed) => [feed.xmlUrl, feed.type, feed.categories])).toEqual([
      ['https://lists.example/desk.opml', 'include', ['Wire']],
      ['https://kept.example/rss', undefined, ['Wire', 'Desk']],
      ['https://lists.example/more.opml', 'include', ['Wire']],
    ]);
    expect(imported(opml)[0]).toEqual({ skipped: 'a list of feeds of its own (an OPML file this one includes), not a feed' });
  });
});
