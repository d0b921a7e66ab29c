import Parser from 'rss-parser';
import { describe, expect, it } from 'vitest';
import type { FeedEntry } from '../src/model/story.js';
import type { Topic } from '../src/model/topic.js';
import { storyUrn } from '../src/model/urls.js';
import { plainTitle } from '../src/normalize/html.js';
import { renderFeed, topicChannel } from '../src/publish/render.js';

const topic: Topic = {
  slug: 'japan-us-security',
  title: 'Japan–US security',
  description: 'The alliance & its "command and control"',
  query: 'japan AND (defense OR security)',
  limit: 50,
};

const seedEntry: FeedEntry = {
  storyId: 'b3e11e0c0f8112f37a17',
  publishedAt: new Date('2024-06-01T23:06:19Z'),
  updatedAt: new Date('2024-06-01T23:06:19Z'),
  title: 'Japan, U.S. defense chiefs reaffirm command coordination',
  url: 'https://www.arabnews.com/node/2521156/japan',
  summary: 'In light of tensions across the Taiwan Strait, Kihara and Austin agreed to boost the joint presence.',
  contentHtml: '<p>SINGAPORE: Japanese Defense Minister KIHARA Minoru and U.S. Defense Secretary Lloyd Austin had talks.</p>',
  author: 'JIJI Press',
  categories: ['Japan', 'Defense'],
  language: 'en',
  imageUrl: 'https://www.arabnews.com/sites/default/files/2024/06/kihara-austin.jpg',
  enclosures: [],
  sourceId: 'arabnews-japan',
  sourceTitle: 'Arab News Japan',
  alsoReportedBy: [
    {
      sourceId: 'jiji-press',
      sourceTitle: 'JIJI Press',
      title: 'Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination',
      url: 'https://jen.jiji.com/jc/eng?g=eco&k=2024060200145',
    },
    { sourceId: 'japan-today', sourceTitle: 'Japan Today', title: 'Japan, U.S. defense chiefs reaffirm command coordination', url: null },
  ],
};

/** Content that breaks naive XML writers: CDATA terminators, bare ampersands, markup, emoji, Japanese, a control char. */
const hostileEntry: FeedEntry = {
  ...seedEntry,
  storyId: 'ffff0000ffff0000ffff',
  publishedAt: new Date('2024-06-02T00:10:00Z'),
  updatedAt: new Date('2024-06-02T00:10:00Z'),
  title: '日米防衛相 <b>会談</b> & "]]>" 🇯🇵\u0007',
  url: 'https://nippon-wire.example/articles/1?a=1&b=2',
  summary: 'x ]]> y & z < w',
  contentHtml: '<p>A ]]&gt; B &amp; C 🇯🇵 日米</p>',
  categories: ['政治', 'R&D'],
  alsoReportedBy: [],
};

const input = { channel: topicChannel('http://127.0.0.1:8080', topic), entries: [hostileEntry, seedEntry] };

describe('renderFeed', () => {
  it.each(['rss', 'atom'] as const)('%s parses back with rss-parser with every entry intact', async (format) => {
    const xml = renderFeed(format, input);
    const feed = await new Parser().parseString(xml);
    expect(feed.title).toBe('Japan–US security');
    expect(feed.items).toHaveLength(2);
    const [hostile, seed] = feed.items;
    expect(seed!.title).toBe(seedEntry.title);
    expect(seed!.link).toBe(seedEntry.url);
    expect(seed!.guid ?? (seed as { id?: string }).id).toBe(storyUrn(seedEntry.storyId));
    expect(new Date(seed!.isoDate!).toISOString()).toBe('2024-06-01T23:06:19.000Z');
    // RSS carries the full HTML in content:encoded beside the description; Atom in <content>.
    const fullContent = format === 'rss' ? (seed as Record<string, unknown>)['content:encoded'] : seed!.content;
    expect(fullContent).toContain('KIHARA Minoru');
    expect(fullContent).toContain(
      '<p class="also-reported">Also reported by: <a href="https://jen.jiji.com/jc/eng?g=eco&amp;k=2024060200145">JIJI Press</a>, Japan Today</p>',
    );
    // RSS titles are read as HTML by many readers (and by Wirefeed), so markup in them is escaped as HTML.
    expect(format === 'rss' ? plainTitle(hostile!.title!, 'html') : hostile!.title).toBe('日米防衛相 <b>会談</b> & "]]>" 🇯🇵');
    expect(hostile!.link).toBe('https://nippon-wire.example/articles/1?a=1&b=2');
    expect(xml).not.toContain('\u0007');
  });

  it('rss carries atom:link rel=self and the feed-level links', () => {
    const xml = renderFeed('rss', input);
    expect(xml).toContain('<atom:link href="http://127.0.0.1:8080/topics/japan-us-security.rss" rel="self" type="application/rss+xml"/>');
    expect(xml).not.toContain('CDATA');
    expect(xml).toContain('<link>http://127.0.0.1:8080/topics/japan-us-security.html</link>');
  });

  it('renders the same bytes for the same content (no build time in the output)', async () => {
    const first = renderFeed('atom', input);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(renderFeed('atom', input)).toBe(first);
    expect(renderFeed('rss', input)).toBe(renderFeed('rss', input));
  });

  it('json is JSON Feed 1.1 with the fields the spec requires', () => {
    const feed = JSON.parse(renderFeed('json', input));
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.title).toBe('Japan–US security');
    expect(feed.feed_url).toBe('http://127.0.0.1:8080/topics/japan-us-security.json');
    expect(feed.home_page_url).toBe('http://127.0.0.1:8080/topics/japan-us-security.html');
    expect(feed.items).toHaveLength(2);
    for (const item of feed.items) {
      expect(typeof item.id).toBe('string');
      expect(item.content_html ?? item.content_text).toBeTruthy();
      expect(Date.parse(item.date_published)).not.toBeNaN();
      if (item.authors) expect(Array.isArray(item.authors)).toBe(true);
      expect(item.author).toBeUndefined(); // 1.0 field, deprecated in 1.1
    }
    expect(feed.items[1]).toMatchObject({
      id: storyUrn(seedEntry.storyId),
      url: seedEntry.url,
      title: seedEntry.title,
      authors: [{ name: 'JIJI Press' }],
      tags: ['Japan', 'Defense'],
      image: seedEntry.imageUrl,
      date_published: '2024-06-01T23:06:19.000Z',
      _wirefeed: {
        story_id: seedEntry.storyId,
        source: { id: 'arabnews-japan', title: 'Arab News Japan' },
        also_reported_by: [
          {
            source: { id: 'jiji-press', title: 'JIJI Press' },
            title: 'Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination',
            url: 'https://jen.jiji.com/jc/eng?g=eco&k=2024060200145',
          },
          { source: { id: 'japan-today', title: 'Japan Today' }, title: 'Japan, U.S. defense chiefs reaffirm command coordination' },
        ],
      },
    });
    expect(feed.items[1].content_html).toContain('Also reported by: <a href="https://jen.jiji.com/jc/eng?g=eco&amp;k=2024060200145">JIJI Press</a>');
  });

  it('links an entry without an outlet URL to its anchor on the topic page', () => {
    const feed = JSON.parse(renderFeed('json', { ...input, entries: [{ ...seedEntry, url: null }] }));
    expect(feed.items[0].url).toBe(`http://127.0.0.1:8080/topics/japan-us-security.html#story-${seedEntry.storyId}`);
  });
});
