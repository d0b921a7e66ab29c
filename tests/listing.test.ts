/** Web pages listing news without a feed, read by a source's scrape rules (readListing, as the page reader runs it). */
import { describe, expect, it } from 'vitest';
import type { ScrapeRules } from '../src/model/source.js';
import { dotPathProblem, readJsonListing } from '../src/normalize/json-listing.js';
import { MAX_LISTING_ELEMENTS, readListing } from '../src/normalize/listing.js';
import { JIJI_STORIES, jijiListingPage, nhkJsonListing, pressReleasePage } from './fixtures/listing-pages.js';

const JIJI_RULES: ScrapeRules = { items: 'ul.news-list > li', date: '.date', summary: '.lead', image: 'img.thumb', timeZone: 'Asia/Tokyo' };

describe('readListing', () => {
  it("reads each item's link, headline, date in the page's clock, summary and lazy-loaded image", () => {
    const feed = readListing(jijiListingPage(), JIJI_RULES);
    expect(feed).toMatchObject({ format: 'html', title: 'Politics | JIJI PRESS', language: 'en' });
    expect(feed.warnings).toBeUndefined();
    expect(feed.items).toHaveLength(3);
    expect(feed.items[0]).toEqual({
      // Attributes as the page means them: &amp; is "&".
      link: '/jc/eng?g=pol&k=2024060200123',
      title: 'Japan, U.S. Defense Chiefs Reaffirm Command Coordination',
      titleType: 'text',
      // 08:06 in Tokyo, as the seed story's GMT9 timestamp says.
      dates: ['2024-06-01T23:06:00.000Z'],
      summaryHtml: JIJI_STORIES[0]!.lead,
      imageUrl: '/jc/eng/img/2024060200123.jpg',
      categories: [],
    });
    expect(feed.items.map((item) => item.title)).toEqual(JIJI_STORIES.map((story) => story.headline));
  });

  const cases: Array<[string, string, ScrapeRules, Array<Record<string, unknown>>]> = [
    [
      'defaults: the first heading, the first link, a <time> datetime; a <base href> and no summary or image',
      pressReleasePage(),
      { items: 'table.releases tr' },
      [
        { link: 'press/2024/0602a.html', title: 'Japan-U.S. Defense Ministerial Meeting', dates: ['2024-06-01T23:30:00.000Z'] },
        { link: 'press/2024/0601b.html', title: "Minister Kihara's attendance at the IISS Shangri-La Dialogue", dates: ['2024-06-01T00:00:00.000Z'] },
      ],
    ],
    [
      'an item that is itself the link, its text the headline',
      '<ul><li><a class="hl" href="/a">Yen slips past 157</a></li><li><a class="hl" href="/b"> Nikkei\n ends  higher </a></li></ul>',
      { items: 'a.hl' },
      [
        { link: '/a', title: 'Yen slips past 157', dates: [] },
        { link: '/b', title: 'Nikkei ends higher', dates: [] },
      ],
    ],
    [
      "a link's title attribute when it holds only an image",
      '<div class="tile"><a href="/photo/1" title="Typhoon nears Okinawa"><img src="/t.jpg"></a></div>',
      { items: '.tile', image: 'a' },
      [{ link: '/photo/1', title: 'Typhoon nears Okinawa', imageUrl: '/t.jpg' }],
    ],
    [
      "an image link's description when it has no text or title",
      '<div class="tile"><a href="/photo/2"><img src="/u.jpg" alt="Nikkei ends higher"></a></div>',
      { items: '.tile' },
      [{ link: '/photo/2', title: 'Nikkei ends higher' }],
    ],
    [
      'the top story and its repeat in the list: one item, the first',
      jijiListingPage(),
      { items: '.top-story, .news-item' },
      [
        { link: '/jc/eng?g=pol&k=2024060200123', title: JIJI_STORIES[0]!.headline },
        { link: '/jc/eng?g=pol&k=2024060200088' },
        { link: '/jc/eng?g=pol&k=2024060100410' },
      ],
    ],
    [
      'selectors naming the parts, an author, dates with month names in 12-hour clocks',
      `<article class="card"><h4>Section</h4><a class="more" href="/x">more</a><a class="title" href="/story/1">Diet passes budget</a>
       <span class="by">Kyodo</span><em class="when">Sunday, June 2, 2024 at 8:06 p.m.</em></article>`,
      { items: '.card', title: 'a.title', link: 'a.title', date: '.when', author: '.by', timeZone: 'America/New_York' },
      [{ link: '/story/1', title: 'Diet passes budget', author: 'Kyodo', dates: ['2024-06-03T00:06:00.000Z'] }],
    ],
  ];
  it.each(cases)('%s', (_, page, rules, expected) => {
    const feed = readListing(page, rules);
    expect(feed.items).toHaveLength(expected.length);
    for (const [index, item] of expected.entries()) expect(feed.items[index]).toMatchObject(item);
  });

  it('takes an element inside another item as part of it, not as an item of its own', () => {
    const page =
      '<div class="s"><a href="/a">Yen slips</a><div class="s"><a href="/b">Nikkei ends higher</a></div></div><div class="s"><a href="/c">Bonds steady</a></div>';
    expect(readListing(page, { items: '.s' }).items.map((item) => item.link)).toEqual(['/a', '/c']);
  });

  it('leaves out elements without a link, and says so', () => {
    const feed = readListing(pressReleasePage(), { items: 'table.releases tr' });
    expect(feed.warnings).toEqual(['1 of 3 elements matching scrape.items have no link: left out']);
    // A link to this page's own fragment or to a script leads to no story of its own.
    const scripted = '<ul><li><a href="#">Top</a></li><li><a href="JavaScript:void(0)">More</a></li><li><a href="/news/1">Yen slips</a></li></ul>';
    const read = readListing(scripted, { items: 'li' });
    expect(read.items.map((item) => item.link)).toEqual(['/news/1']);
    expect(read.warnings).toEqual(['2 of 3 elements matching scrape.items have no link: left out']);
  });

  it('reads dates without a year in the year the page is read, in its clock', () => {
    const page = '<ul><li><a href="/a">A</a><time>Jun 2, 08:06</time></li><li><a href="/b">B</a><time>Dec 31, 23:30</time></li></ul>';
    const read = readListing(page, { items: 'li', timeZone: 'Asia/Tokyo' }, new Date('2025-01-01T16:00:00Z'));
    // June is months ahead of New Year's Day: last June.
    expect(read.items.map((item) => item.dates)).toEqual([['2024-06-01T23:06:00.000Z'], ['2024-12-31T14:30:00.000Z']]);
  });

  it('reads dates with the year last in the order the source gives', () => {
    const page = '<ul><li><a href="/a">A</a><span class="d">02/06/2024 08:06</span></li></ul>';
    expect(readListing(page, { items: 'li', date: '.d', dateOrder: 'day-first' }).items[0]!.dates).toEqual(['2024-06-02T08:06:00.000Z']);
    expect(readListing(page, { items: 'li', date: '.d', dateOrder: 'month-first' }).items[0]!.dates).toEqual(['2024-02-06T08:06:00.000Z']);
    expect(readListing(page, { items: 'li', date: '.d' }).items[0]!.dates).toEqual([]);
  });

  it('files items whose dates it cannot read when first seen, and names one of them', () => {
    const page = '<ul><li><a href="/a">A</a><time>3 months ago</time></li><li><a href="/b">B</a><time>02/06/2024</time></li><li><a href="/c">C</a></li></ul>';
    const feed = readListing(page, { items: 'li' });
    expect(feed.items.map((item) => item.dates)).toEqual([[], [], []]);
    expect(feed.warnings).toEqual([`2 items' dates are not dates Wirefeed reads (such as "3 months ago"): filed when first seen`]);
  });

  it("reads dates relative to the fetch in the page's clock, marked approximate", () => {
    const page =
      '<ul><li><a href="/a">A</a><time>3 hours ago</time></li><li><a href="/b">B</a><time>08:06</time></li><li><a href="/c">C</a><time>2024/06/02 08:06</time></li></ul>';
    const feed = readListing(page, { items: 'li', timeZone: 'Asia/Tokyo' }, new Date('2024-06-03T00:00:00Z'));
    expect(feed.items.map((item) => [item.dates, item.dateApproximate])).toEqual([
      [['2024-06-02T21:00:00.000Z'], true],
      [['2024-06-02T23:06:00.000Z'], true],
      [['2024-06-01T23:06:00.000Z'], undefined],
    ]);
    expect(feed.warnings).toBeUndefined();
  });

  const failures: Array<[string, string, ScrapeRules, RegExp]> = [
    ['no element matches', jijiListingPage(), { items: 'ul.stories > li' }, /^no element on the page matches scrape\.items 'ul\.stories > li'$/],
    ['a JSON document', nhkJsonListing(), { items: 'li' }, /^the document is JSON, not a web page: read it with scrape\.format: json and dot paths$/],
    ['no item has a link', '<ul><li>One</li><li>Two</li></ul>', { items: 'li' }, /^2 elements match scrape\.items 'li', but none holds an <a href>$/],
    ['the link rule finds none', jijiListingPage(), { items: 'li.news-item', link: 'a.permalink' }, /but none holds scrape\.link 'a\.permalink'$/],
    ['nested deeper than any page', `${'<div>'.repeat(5_000)}<a href="/a">A</a>`, { items: 'div' }, /^not read: the page nests deeper/],
    ['more elements than any page', `<ul>${'<li><a href="/a">A</a></li>'.repeat(MAX_LISTING_ELEMENTS)}</ul>`, { items: 'li' }, /more than 30000 elements/],
  ];
  it.each(failures)('says why a page gives no items: %s', (_, page, rules, message) => {
    expect(() => readListing(page, rules)).toThrow(message);
  });

  it("reads an item's categories by their elements' text, for category: in queries", () => {
    const page =
      '<ul><li class="politics"><a href="/a">A</a><span class="tag">Politics</span> <span class="tag"> Defense </span></li><li><a href="/b">B</a></li></ul>';
    expect(readListing(page, { items: 'li', categories: '.tag' }).items.map((item) => item.categories)).toEqual([['Politics', 'Defense'], []]);
    const cloud = `<ul><li><a href="/a">A</a>${'<i>tag</i>'.repeat(100)}</li></ul>`;
    expect(readListing(cloud, { items: 'li', categories: 'i' }).items[0]!.categories).toHaveLength(20);
  });

  it('keeps hostile text as text: markup in a headline, a script in a summary is for the sanitizer', () => {
    const page = `<ul><li><a href="/a"><h3>&lt;script&gt;alert(1)&lt;/script&gt; Yen &amp; bonds</h3></a><p class="s"><b onclick="x()">Up</b><script>alert(2)</script></p></li></ul>`;
    const [item] = readListing(page, { items: 'li', summary: '.s' }).items;
    expect(item!.title).toBe('<script>alert(1)</script> Yen & bonds');
    expect(item!.titleType).toBe('text');
    // Scripts never reach the item; the handler is the normalizer's sanitizer's to drop, as for a feed's HTML.
    expect(item!.summaryHtml).toBe('<b onclick="x()">Up</b>');
  });
});

describe('readJsonListing', () => {
  it("reads each item's link, headline, date, summary and image at the rules' dot paths", () => {
    const feed = readJsonListing(nhkJsonListing(), { format: 'json', items: 'channel.item', summary: 'description', image: 'imgPath' });
    expect(feed.format).toBe('json');
    expect(feed.warnings).toBeUndefined();
    expect(feed.items).toHaveLength(3);
    expect(feed.items[0]).toEqual({
      link: `/nhkworld/en/news/${JIJI_STORIES[0]!.slug}/`,
      title: JIJI_STORIES[0]!.headline,
      titleType: 'text',
      summaryHtml: JIJI_STORIES[0]!.lead,
      dates: ['2024-06-01T23:06:00.000Z'],
      categories: [],
      imageUrl: `/nhkworld/upld/thumbnails/en/news/${JIJI_STORIES[0]!.slug}_0.jpg`,
    });
  });

  const read = (items: unknown, rules: Partial<ScrapeRules> = {}) =>
    readJsonListing(JSON.stringify(items), { format: 'json', items: '$', timeZone: 'Asia/Tokyo', ...rules }, new Date('2024-06-03T00:00:00Z')).items;

  it.each([
    ['ISO 8601', { date: '2024-06-02T08:06:19+09:00' }, '2024-06-01T23:06:19.000Z'],
    ['a page date in its clock', { published: '2024/06/02 08:06' }, '2024-06-01T23:06:00.000Z'],
    ['seconds since 1970', { time: 1717283179 }, '2024-06-01T23:06:19.000Z'],
    ['milliseconds since 1970', { publishedAt: 1717283179000 }, '2024-06-01T23:06:19.000Z'],
    ['relative to the fetch', { updated: '3時間前' }, '2024-06-02T21:00:00.000Z'],
  ])('reads a date given as %s', (_, fields, iso) => {
    expect(read([{ title: 'Yen slips', url: 'https://example.jp/1', ...fields }])[0]!.dates).toEqual([iso]);
  });

  it('finds the parts where APIs usually put them, reads objects and lists by their text, and follows array indexes', () => {
    const [item] = read(
      [{ headline: 'Yen slips', href: '/1', author: { name: 'Jiji Press' }, media: [{ url: '/img/1.jpg' }], body: ['<p>First</p>', '<p>Second</p>'] }],
      { author: 'author', image: 'media.0.url', summary: 'body' },
    );
    expect(item).toMatchObject({ title: 'Yen slips', link: '/1', author: 'Jiji Press', imageUrl: '/img/1.jpg', summaryHtml: '<p>First</p>' });
  });

  it('keeps each link once, leaves out entries without one and says so, and marks relative dates approximate', () => {
    const feed = readJsonListing(
      JSON.stringify({ data: { items: [{ title: 'A', link: '/a', date: '5分前' }, { title: 'A again', link: '/a' }, { title: 'No link' }, 'text', null] } }),
      { format: 'json', items: '$.data.items' },
      new Date('2024-06-03T00:00:00Z'),
    );
    expect(feed.items.map((item) => [item.title, item.dateApproximate])).toEqual([['A', true]]);
    expect(feed.warnings).toEqual(['3 of 5 entries at scrape.items have no link: left out']);
  });

  it('reads categories given as one name, a list of names, or a list of objects', () => {
    const categories = (value: unknown) => read([{ link: '/a', genre: value }], { categories: 'genre' })[0]!.categories;
    expect(categories('Politics')).toEqual(['Politics']);
    expect(categories(['Politics', 'Defense'])).toEqual(['Politics', 'Defense']);
    expect(categories([{ name: 'Politics' }, { id: 6 }, 7])).toEqual(['Politics', '7']);
    expect(categories(Array.from({ length: 50 }, (_, index) => `tag${index}`))).toHaveLength(20);
  });

  it('reads no text from a value nested deeper than a few lists, however deep', () => {
    const deep = `[{"link":"/a","title":${'['.repeat(100_000)}"Yen"${']'.repeat(100_000)}}]`;
    const [item] = readJsonListing(deep, { format: 'json', items: '$' }).items;
    expect(item).toMatchObject({ link: '/a' });
    expect(item!.title).toBeUndefined();
    expect(read([{ link: '/b', title: [['Yen']] }])[0]!.title).toBe('Yen');
  });

  it('keeps hostile text as text, for the normalizer to sanitize', () => {
    const [item] = read([{ title: '<script>alert(1)</script> Yen', link: '/1', description: '<img src=x onerror="alert(2)">Up' }], { summary: 'description' });
    expect(item).toMatchObject({ title: '<script>alert(1)</script> Yen', titleType: 'text', summaryHtml: '<img src=x onerror="alert(2)">Up' });
  });

  it.each([
    ['not JSON', '<html><body>Moved</body></html>', { items: '$' }, /^not read as JSON \(scrape\.format json\): /],
    ['a path that leads nowhere', nhkJsonListing(), { items: 'channel.items' }, /^scrape\.items 'channel\.items' leads to nothing$/],
    ['a path to an object', nhkJsonListing(), { items: 'channel' }, /^scrape\.items 'channel' leads to object, not a list of items$/],
    ['an empty list', '{"items":[]}', { items: 'items' }, /^scrape\.items 'items' is an empty list$/],
    [
      'no entry with a link',
      '[{"title":"A"},{"title":"B"}]',
      { items: '$' },
      /^2 entries at scrape\.items '\$', but none is an object with a link \(link, url, href\)$/,
    ],
    ['more entries than any listing', JSON.stringify(Array.from({ length: MAX_LISTING_ELEMENTS + 1 }, () => ({}))), { items: '$' }, /more than 30000 entries/],
  ])('says why a document gives no items: %s', (_, text, rules, message) => {
    expect(() => readJsonListing(text, { format: 'json', ...rules })).toThrow(message);
  });

  it.each([
    ['data.items', undefined],
    ['$', undefined],
    ['$.data.items', undefined],
    ['media.0.url', undefined],
    ['data..items', 'expected names joined by ".", such as data.items'],
    ['.items', 'expected names joined by ".", such as data.items'],
    ['items.', 'expected names joined by ".", such as data.items'],
    [' items', 'expected names joined by ".", such as data.items'],
  ])('tells a dot path it can follow: %s', (path, problem) => {
    expect(dotPathProblem(path)).toBe(problem);
  });
});
