import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addSourcesToYaml } from '../src/config/edit.js';
import { loadConfig } from '../src/config/load.js';
import { type OpmlFeed, parseOpml, renderSourcesOpml } from '../src/config/opml.js';

const asSources = (feeds: OpmlFeed[]) => feeds.map((feed) => ({ url: feed.xmlUrl, title: feed.title }));

import { writeConfigDir } from './helpers/config.js';

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
      { title: 'Japan Today', xmlUrl: 'https://japantoday.com/feed', htmlUrl: 'https://japantoday.com/' },
      { title: 'NHK & friends', xmlUrl: 'https://www3.nhk.or.jp/rss/news/cat0.xml' },
      { title: 'The Diplomat', xmlUrl: 'https://thediplomat.com/feed/' },
      { title: 'Gopher', xmlUrl: 'gopher://example.org/feed' },
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
});
