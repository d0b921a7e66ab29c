import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addSourcesToYaml, sourceIdFor, tagsFor } from '../src/config/edit.js';
import { initConfig } from '../src/config/init.js';
import { loadConfig } from '../src/config/load.js';
import { type OpmlFeed, parseOpml, renderSourcesOpml } from '../src/config/opml.js';

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
      { title: 'Japan Today', xmlUrl: 'https://japantoday.com/feed', htmlUrl: 'https://japantoday.com/', categories: ['Japan'] },
      { title: 'NHK & friends', xmlUrl: 'https://www3.nhk.or.jp/rss/news/cat0.xml', categories: ['Japan'] },
      { title: 'The Diplomat', xmlUrl: 'https://thediplomat.com/feed/', categories: [] },
      { title: 'Gopher', xmlUrl: 'gopher://example.org/feed', categories: [] },
    ]);
    expect(() => parseOpml('<rss></rss>')).toThrow('not an OPML document');
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
});
