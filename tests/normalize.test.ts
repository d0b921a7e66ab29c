import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZoneDays } from '../src/model/days.js';
import { parseFeedDate, parsePageDate, parseRelativePageDate, resolveItemDate } from '../src/normalize/date.js';
import { htmlToText, isSimpleHtml, MAX_HTML_DEPTH, parsedHtmlText, sanitizeContent, sanitizeMarkup, tidyText } from '../src/normalize/html.js';
import { authorName, normalizeItem, storedContentText } from '../src/normalize/item.js';
import { guessLanguage, primaryLanguage } from '../src/normalize/language.js';
import { canonicalizeUrl, isShortUrl, withoutTrackingParams } from '../src/normalize/url.js';
import type { ParsedItem } from '../src/parse/index.js';

describe('parseFeedDate', () => {
  it.each([
    ['02 Jun 2024 08:06:19 GMT9', '2024-06-01T23:06:19.000Z'],
    ['2024-02-29T12:00:00+09:00', '2024-02-29T03:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['Sun, 02 Jun 2024 08:06:19 GMT+9', '2024-06-01T23:06:19.000Z'],
    ['Sun, 02 Jun 2024 08:06:19 +0900', '2024-06-01T23:06:19.000Z'],
    ['Sun, 02 Jun 2024 08:06:19 +09:00', '2024-06-01T23:06:19.000Z'],
    ['Sun, 02 Jun 2024 08:06:19 JST', '2024-06-01T23:06:19.000Z'],
    ['Sun, 02 Jun 2024 08:06:19 KST', '2024-06-01T23:06:19.000Z'],
    ['Sat, 01 Jun 2024 19:06:19 EDT', '2024-06-01T23:06:19.000Z'],
    ['Sat, 01 Jun 2024 23:06:19 GMT', '2024-06-01T23:06:19.000Z'],
    ['Sat, 01 Jun 2024 23:06:19 Z', '2024-06-01T23:06:19.000Z'],
    ['Sat, 01 Jun 2024 23:06:19', '2024-06-01T23:06:19.000Z'],
    ['Mon, 01 Jun 2024 23:06:19 GMT', '2024-06-01T23:06:19.000Z'], // wrong weekday: the date wins
    ['1 Jun 24 23:06 GMT', '2024-06-01T23:06:00.000Z'], // two-digit year, no seconds, no weekday
    ['01 June 2024 23:06:19 UT', '2024-06-01T23:06:19.000Z'],
    ['Sun, 2 Jun 2024 08:06:19 UTC+05:30', '2024-06-02T02:36:19.000Z'],
    ['2024-06-02T08:06:19+09:00', '2024-06-01T23:06:19.000Z'],
    ['2024-06-01T23:06:19.250Z', '2024-06-01T23:06:19.250Z'],
    ['2024-06-01 23:06:19Z', '2024-06-01T23:06:19.000Z'],
    ['2024-06-01', '2024-06-01T00:00:00.000Z'],
    ['20240601T230619Z', '2024-06-01T23:06:19.000Z'],
  ])('%s', (text, iso) => expect(parseFeedDate(text)?.toISOString()).toBe(iso));

  it.each([
    '',
    'yesterday',
    '32 Jun 2024 08:06:19 GMT',
    '02 Foo 2024 08:06:19 GMT',
    '02 Jun 2024 08:06:19 XYZ',
    '2024-13-01',
    // Impossible days do not roll over into the next month.
    '2024-02-30',
    '2023-02-29T10:00:00Z',
    'Wed, 31 Apr 2024 10:00:00 GMT',
    '2024-06-31',
    // Placeholders, not dates: .NET's DateTime.MinValue, year 0, anything before 1970.
    '0001-01-01T00:00:00',
    '0000-01-01T00:00:00Z',
    'Mon, 01 Jan 0001 00:00:00 GMT',
    '1969-12-31T23:59:59Z',
  ])('rejects %j', (text) => expect(parseFeedDate(text)).toBeUndefined());
});

describe('parsePageDate', () => {
  const tokyo = new ZoneDays('Asia/Tokyo');
  const newYork = new ZoneDays('America/New_York');
  it.each([
    // Year first, numeric, in the page's clock (Tokyo): 08:06 there is 23:06 UTC the day before.
    ['2024/06/02 08:06', tokyo, '2024-06-01T23:06:00.000Z'],
    ['2024-06-02 08:06:19', tokyo, '2024-06-01T23:06:19.000Z'],
    ['2024.6.2 8:06', tokyo, '2024-06-01T23:06:00.000Z'],
    ['2024/06/02(Sun) 08:06', tokyo, '2024-06-01T23:06:00.000Z'],
    ['2024年6月2日 8時6分', tokyo, '2024-06-01T23:06:00.000Z'],
    ['2024年6月2日', tokyo, '2024-06-01T15:00:00.000Z'],
    // A zone written beside the date wins over the page's clock.
    ['2024/06/02 08:06 JST', newYork, '2024-06-01T23:06:00.000Z'],
    ['2024-06-02T08:06:19+09:00', newYork, '2024-06-01T23:06:19.000Z'],
    ['02 Jun 2024 08:06:19 GMT9', newYork, '2024-06-01T23:06:19.000Z'],
    ['2024-06-01T23:06:19.500Z', tokyo, '2024-06-01T23:06:19.500Z'],
    // Month names, either side of the day, 12-hour clocks.
    ['June 2, 2024', tokyo, '2024-06-01T15:00:00.000Z'],
    ['Jun. 2, 2024, 8:06 a.m.', tokyo, '2024-06-01T23:06:00.000Z'],
    ['Sunday, June 2, 2024 at 8:06 PM', newYork, '2024-06-03T00:06:00.000Z'],
    ['Sun, June 2nd 2024 12:30 am', newYork, '2024-06-02T04:30:00.000Z'],
    ['2 June 2024 20:06', tokyo, '2024-06-02T11:06:00.000Z'],
    ['2nd Sept 2024', undefined, '2024-09-02T00:00:00.000Z'],
    // New York's clocks: 01:30 read twice on 3 November (the first, still EDT); 02:30 skipped on 10 March (EST's).
    ['2024-11-03 01:30', newYork, '2024-11-03T05:30:00.000Z'],
    ['2024-03-10 02:30', newYork, '2024-03-10T07:30:00.000Z'],
  ])('%s', (text, zone, iso) => expect(parsePageDate(text, zone ? { zone } : {})?.toISOString()).toBe(iso));

  it.each([
    ['02/06/2024 08:06', 'day-first', '2024-06-01T23:06:00.000Z'],
    ['2.6.2024', 'day-first', '2024-06-01T15:00:00.000Z'],
    ['06-02-2024 8:06 PM', 'month-first', '2024-06-02T11:06:00.000Z'],
    ['06/02/2024, 8:06 a.m. EDT', 'month-first', '2024-06-02T12:06:00.000Z'],
    // Read in the order given, whichever that is: 2 June one way, 6 February the other.
    ['02/06/2024', 'month-first', '2024-02-05T15:00:00.000Z'],
  ] as const)('%s, %s', (text, order, iso) => expect(parsePageDate(text, { zone: tokyo, order })?.toISOString()).toBe(iso));

  // Read on 3 June 2024 in Tokyo, or on 2 January 2025, just after New Year there.
  const june = new Date('2024-06-03T03:00:00Z');
  const newYear = new Date('2025-01-01T16:00:00Z');
  it.each([
    ['Jun 2, 08:06', june, '2024-06-01T23:06:00.000Z'],
    ['Sunday, June 2 at 8:06 p.m.', june, '2024-06-02T11:06:00.000Z'],
    ['2 June 20:06', june, '2024-06-02T11:06:00.000Z'],
    ['6月2日 8時6分', june, '2024-06-01T23:06:00.000Z'],
    ['6月2日(日) 08:06', june, '2024-06-01T23:06:00.000Z'],
    // Later today (the clocks of a server a few minutes ahead) is this year's; more than a day ahead, last year's.
    ['Jun 3, 23:59', june, '2024-06-03T14:59:00.000Z'],
    ['Dec 31, 23:30', newYear, '2024-12-31T14:30:00.000Z'],
    ['12月31日 23:30', newYear, '2024-12-31T14:30:00.000Z'],
    ['Jan 2, 00:30', newYear, '2025-01-01T15:30:00.000Z'],
  ])('%s, read at %s', (text, now, iso) => expect(parsePageDate(text, { zone: tokyo, now })?.toISOString()).toBe(iso));

  it('reads a date without its year only knowing when it was read, and no impossible one', () => {
    expect(parsePageDate('Jun 2, 08:06', { zone: tokyo })).toBeUndefined();
    expect(parsePageDate('Jun 2, 08:06', { now: june })?.toISOString()).toBe('2024-06-02T08:06:00.000Z');
    expect(parsePageDate('Feb 30, 08:06', { now: june })).toBeUndefined();
    expect(parsePageDate('6月32日', { now: june })).toBeUndefined();
    // A month's name and a year, but no day, is no date; nor is a time alone (today's? yesterday's?).
    expect(parsePageDate('June 2024', { now: june })).toBeUndefined();
    expect(parsePageDate('08:06', { zone: tokyo, now: june })).toBeUndefined();
  });

  // Read at 09:00 on 3 June 2024 in Tokyo (00:00 UTC).
  const morning = new Date('2024-06-03T00:00:00Z');
  it.each([
    ['3 hours ago', tokyo, '2024-06-02T21:00:00.000Z'],
    ['an hour ago', tokyo, '2024-06-02T23:00:00.000Z'],
    ['about 1 hour ago', tokyo, '2024-06-02T23:00:00.000Z'],
    ['5 mins ago', tokyo, '2024-06-02T23:55:00.000Z'],
    ['45 seconds ago', tokyo, '2024-06-02T23:59:15.000Z'],
    ['2d ago', tokyo, '2024-06-01T00:00:00.000Z'],
    ['1 week ago', tokyo, '2024-05-27T00:00:00.000Z'],
    ['5分前', tokyo, '2024-06-02T23:55:00.000Z'],
    ['3時間前', tokyo, '2024-06-02T21:00:00.000Z'],
    ['2日前', tokyo, '2024-06-01T00:00:00.000Z'],
    ['just now', tokyo, '2024-06-03T00:00:00.000Z'],
    ['Yesterday', tokyo, '2024-06-02T00:00:00.000Z'],
    // Today and yesterday in the page's clock: 3 June in Tokyo, still 2 June in UTC.
    ['Today 08:06', tokyo, '2024-06-02T23:06:00.000Z'],
    ['today at 8:06 a.m.', tokyo, '2024-06-02T23:06:00.000Z'],
    ['Yesterday, 11:50 PM', tokyo, '2024-06-02T14:50:00.000Z'],
    ['昨日 23:50', tokyo, '2024-06-02T14:50:00.000Z'],
    ['今日 8時6分', tokyo, '2024-06-02T23:06:00.000Z'],
    // A time alone is today's, or yesterday's when today's is still to come.
    ['08:06', tokyo, '2024-06-02T23:06:00.000Z'],
    ['23:50', tokyo, '2024-06-02T14:50:00.000Z'],
    ['8:06 PM', undefined, '2024-06-02T20:06:00.000Z'],
    ['08:06 JST', newYork, '2024-06-02T23:06:00.000Z'],
    ['00:10', undefined, '2024-06-03T00:10:00.000Z'],
  ])('%s, read relative to its fetch', (text, zone, iso) =>
    expect(parseRelativePageDate(text, { now: morning, ...(zone ? { zone } : {}) })?.toISOString()).toBe(iso),
  );

  it('reads no relative date it cannot place: without the time of the fetch, or not a time', () => {
    expect(parseRelativePageDate('3 hours ago', { zone: tokyo })).toBeUndefined();
    for (const text of ['3 months ago', 'hours ago', '25:00', '08:61', '13:06 pm', 'soon', 'Tomorrow 08:06', `${'1'.repeat(90)} hours ago`]) {
      expect(parseRelativePageDate(text, { zone: tokyo, now: morning }), text).toBeUndefined();
    }
    // A date is parsePageDate's, not this one's.
    expect(parseRelativePageDate('2024/06/02 08:06', { zone: tokyo, now: morning })).toBeUndefined();
  });

  it('reads a date with the year last only in the order its source says, and no impossible one', () => {
    expect(parsePageDate('02/06/2024', { zone: tokyo })).toBeUndefined();
    expect(parsePageDate('13/25/2024', { order: 'day-first' })).toBeUndefined();
    expect(parsePageDate('31/06/2024', { order: 'day-first' })).toBeUndefined();
    expect(parsePageDate('02/06/2024 13:06 pm', { order: 'day-first' })).toBeUndefined();
  });

  it.each([
    '3 hours ago',
    // Day or month first? Not a date to trust unless the source says.
    '02/06/2024',
    'Smarch 2, 2024',
    'June 31, 2024',
    'June 2, 2024 13:06 pm',
    '2024/06/02 08:06 Tokyo',
    `June 2, 2024 ${'x'.repeat(100)}`,
  ])('rejects %j', (text) => expect(parsePageDate(text, { zone: tokyo })).toBeUndefined());
});

describe('resolveItemDate', () => {
  const fetchedAt = new Date('2024-06-02T00:00:00Z');
  it('uses the first parseable candidate', () => {
    expect(resolveItemDate(['garbage', '2024-06-01T10:00:00Z'], fetchedAt)).toEqual({ date: new Date('2024-06-01T10:00:00Z'), estimated: false });
  });
  it('falls back to the first-seen time, flagged, when no date parses', () => {
    expect(resolveItemDate([], fetchedAt)).toEqual({ date: fetchedAt, estimated: true });
  });
  it('clamps a date far in the future to the first-seen time', () => {
    expect(resolveItemDate(['2030-01-01T00:00:00Z'], fetchedAt)).toEqual({ date: fetchedAt, estimated: true });
  });
  it('tolerates a few minutes of clock skew', () => {
    const skewed = new Date(fetchedAt.getTime() + 5 * 60_000);
    expect(resolveItemDate([skewed.toISOString()], fetchedAt)).toEqual({ date: skewed, estimated: false });
  });
});

describe('canonicalizeUrl', () => {
  it.each([
    ['HTTPS://WWW.ArabNews.com:443/node/1?utm_source=rss&utm_medium=feed#top', 'https://www.arabnews.com/node/1'],
    ['http://example.org:80/a?b=2&a=1&fbclid=x&gclid=y', 'http://example.org/a?a=1&b=2'],
    ['https://example.org/a?mc_cid=1&mc_eid=2&_ga=3&igshid=4&id=7', 'https://example.org/a?id=7'],
    ['https://example.org:8443/a', 'https://example.org:8443/a'],
    ['https://example.org./a', 'https://example.org/a'],
    ['https://example.org/a?q=a%20b', 'https://example.org/a?q=a+b'],
  ])('%s -> %s', (input, expected) => expect(canonicalizeUrl(input)).toBe(expected));

  it('resolves relative links against a base', () => {
    expect(canonicalizeUrl('/jc/eng?k=2&g=eco', 'https://jen.jiji.com/feed.atom')).toBe('https://jen.jiji.com/jc/eng?g=eco&k=2');
  });

  it.each(['javascript:alert(1)', 'mailto:a@b.c', 'not a url', ''])('rejects %j', (input) => expect(canonicalizeUrl(input)).toBeUndefined());
});

describe('isShortUrl', () => {
  it.each([
    ['https://arab.news/p5m3x', [], true],
    ['https://bit.ly/3abc', [], true],
    ['https://www.arabnews.com/node/1', [], false],
    ['https://s.nikkei.com/x1', ['s.nikkei.com'], true],
    ['https://s.nikkei.com/x1', [], false],
  ])('%s with %j -> %s', (url, hosts, expected) => expect(isShortUrl(url, hosts)).toBe(expected));
});

describe('sanitizeContent', () => {
  it('reads markup nested deeper than any article as its text, so the HTML parsers stay linear', () => {
    const deep = `${'<b>x'.repeat(2_000)}<script>alert(1)</script> & more`;
    const clean = sanitizeContent(deep);
    expect(clean).not.toMatch(/<(?!\/?p>)/);
    expect(clean.match(/x/g)).toHaveLength(2_000);
    expect(clean).toContain('alert(1)');
    expect(htmlToText(deep).match(/x/g)).toHaveLength(2_000);
    // Real nesting, however deep real pages go, is kept.
    const nested = `${'<div>'.repeat(100)}<p>Kihara <b>and</b> Austin</p>${'</div>'.repeat(100)}`;
    expect(sanitizeContent(nested)).toContain('<p>Kihara <b>and</b> Austin</p>');
  });

  const base = 'https://www.arabnews.com/node/1';
  it.each([
    ['<p onclick="x()">Hi<script>alert(1)</script></p>', '<p>Hi</p>'],
    ['<a href="javascript:alert(1)">x</a>', '<a>x</a>'],
    ['<a href="JaVaScRiPt:alert(1)">x</a>', '<a>x</a>'],
    ['<a href="java&#9;script:alert(1)">x</a>', '<a>x</a>'],
    ['<a href="vbscript:msgbox(1)">x</a>', '<a>x</a>'],
    ['<a href="data:text/html,<script>alert(1)</script>">x</a>', '<a>x</a>'],
    ['<a href="/x" onmouseover="y()">x</a>', '<a href="https://www.arabnews.com/x" rel="noopener noreferrer">x</a>'],
    ['<img src="/a.jpg" alt="A">', '<img src="https://www.arabnews.com/a.jpg" alt="A" />'],
    ['<img src="https://t.example/p.gif" width="1" height="1">', ''],
    ['<iframe src="https://evil.example/"></iframe>', ''],
    ['<iframe src="https://www.youtube.com/embed/abc" onload="x()"></iframe>', '<iframe src="https://www.youtube.com/embed/abc"></iframe>'],
    ['<style>p{}</style><p style="color:red">x</p>', '<p>x</p>'],
    ['<p>AT&amp;T</p>', '<p>AT&amp;T</p>'],
  ])('%s', (html, expected) => expect(sanitizeContent(html, base)).toBe(expected));
});

describe('links and images in item content, without their tracking', () => {
  it.each([
    // The tracking parameters go; the others stay in their order and encoding, and the fragment stays.
    ['https://www.arabnews.com/node/2524171/japan?utm_source=rss&utm_medium=feed', 'https://www.arabnews.com/node/2524171/japan'],
    ['https://jen.jiji.com/jc/eng?k=2024060200123&g=pol&fbclid=IwAR0x#comments', 'https://jen.jiji.com/jc/eng?k=2024060200123&g=pol#comments'],
    ['https://example.com/search?q=a%20b+c&UTM_Campaign=x&page=2', 'https://example.com/search?q=a%20b+c&page=2'],
    ['https://example.com/?%75tm_source=x&id=7', 'https://example.com/?id=7'], // an escaped name is the same name to the server
    ['https://example.com/?%E0%A4%A=1&gclid=x', 'https://example.com/?%E0%A4%A=1'], // a malformed escape is kept as written
    ['https://example.com/page?z=1&a=2', 'https://example.com/page?z=1&a=2'], // nothing to take out: as it was
    ['https://example.com/page', 'https://example.com/page'],
  ])('%s -> %s', (href, expected) => expect(withoutTrackingParams(href)).toBe(expected));

  const base = 'https://www.japantoday.com/category/politics/1';
  it.each([
    [
      '<p>Read <a href="/category/politics/2?utm_source=feedburner&amp;utm_medium=feed&amp;id=9">more</a></p>',
      '<p>Read <a href="https://www.japantoday.com/category/politics/2?id=9" rel="noopener noreferrer">more</a></p>',
    ],
    // Counters whatever size they claim, and only under their paths where the host serves real images too.
    ['<p>x</p><img src="https://pixel.wp.com/g.gif?blog=1&amp;post=2" alt="" />', '<p>x</p>'],
    ['<p>x</p><img src="https://i0.stats.wordpress.com/g.gif" />', '<p>x</p>'],
    ['<p>x</p><img src="http://feeds.feedburner.com/~r/JapanToday/~4/AbCdEf" height="1" />', '<p>x</p>'],
    ['<p>x</p><img src="http://feeds.feedburner.com/~ff/JapanToday?d=yIl2AUoC8zA" border="0" />', '<p>x</p>'],
    ['<p>x</p><img src="https://da.feedsportal.com/r/186528542/u/49/f/530345/c/32283/s/1/a2.img" />', '<p>x</p>'],
    ['<p>x</p><img src="https://medium.com/_/stat?event=post.clientViewed&amp;postId=1" />', '<p>x</p>'],
    ['<img src="https://medium.com/max/800/1*photo.jpeg" alt="Kihara" />', '<img src="https://medium.com/max/800/1*photo.jpeg" alt="Kihara" />'],
    ['<img src="https://notmedium.com/_/stat.png" />', '<img src="https://notmedium.com/_/stat.png" />'],
  ])('%s', (html, expected) => expect(sanitizeContent(html, base)).toBe(expected));
});

describe('htmlToText', () => {
  it('decodes entities exactly once and keeps paragraphs', () => {
    expect(htmlToText('<p>AT&amp;amp;T &amp; Co</p><p>Second&nbsp;one</p><script>x</script>')).toBe('AT&amp;T & Co\n\nSecond one');
  });

  it.each([
    ['', ''],
    ['  Tokyo  ', 'Tokyo'],
    ['a \t\r b', 'a b'],
    ['a\nb', 'a\nb'],
    ['a \n \n b', 'a\n\nb'],
    ['a\n\n\n\n b', 'a\n\nb'],
    ['\n\n a \n\n', 'a'],
    ['a\u00a0\u3000\u2028\ufeffb', 'a b'],
    ['Jiji\u00a0Press\r\n\r\nTOKYO', 'Jiji Press\n\nTOKYO'],
    ['日米\n \n\n防衛', '日米\n\n防衛'],
  ])('tidyText(%j) = %j', (text, expected) => expect(tidyText(text)).toBe(expected));

  // Plain text skips the HTML parser and the sanitizer: it must read exactly as it would through them (wrapped in an
  // allowed element, so that it does go through them).
  const plain = [
    'Japan, U.S. defense chiefs meet',
    'He said "we agreed" at the forum',
    "Kihara's talks with Austin\u00a0went on",
    'line one\r\nline two\n\n\nafter a gap',
    'tab\tand\u2028separator and\u3000ideographic space',
    '防衛相が会談 2024年6月2日',
  ];
  it.each(plain)('plain text %j reads as it would through the parser', (text) => {
    expect(htmlToText(text)).toBe(htmlToText(`<span>${text}</span>`));
    expect(sanitizeContent(text)).toBe(sanitizeContent(`<span>${text}</span>`).slice('<span>'.length, -'</span>'.length));
  });
});

describe('simple HTML, which skips sanitize-html and htmlparser2', () => {
  // Text pieces of every kind that needs no escaping: spaces of all sorts, line ends, quotes, slashes, other scripts.
  const textPiece = fc.constantFrom(
    'Kihara',
    ' ',
    '  ',
    '\n',
    '\r\n',
    '\t',
    '\u00a0',
    '\u3000',
    '"',
    "'",
    '/',
    '=',
    '日米',
    'é',
    '\u{1F4F0}',
    'U.S.',
    '-',
    ';',
  );
  const text = fc.array(textPiece, { maxLength: 6 }).map((pieces) => pieces.join(''));
  const inline = (inner: fc.Arbitrary<string>) =>
    fc.tuple(fc.constantFrom('b', 'i', 'em', 'strong'), inner).map(([name, content]) => `<${name}>${content}</${name}>`);
  const { phrasing } = fc.letrec((tie) => ({
    phrasing: fc
      .array(fc.oneof({ depthSize: 'small' }, text, fc.constant('<br />'), inline(tie('phrasing') as fc.Arbitrary<string>)), { maxLength: 4 })
      .map((parts) => parts.join('')),
  }));
  const simple = fc
    .array(
      fc.oneof(
        phrasing,
        phrasing.map((content) => `<p>${content}</p>`),
      ),
      { maxLength: 4 },
    )
    .map((parts) => parts.join(''));

  const expectReadAsTheParsersRead = (html: string) => {
    expect(sanitizeContent(html)).toBe(sanitizeMarkup(html));
    expect(htmlToText(html)).toBe(parsedHtmlText(html));
  };

  it('is what sanitize-html gives back as it is, and reads as htmlparser2 reads it', () => {
    fc.assert(
      fc.property(simple, (html) => {
        expect(isSimpleHtml(html)).toBe(true);
        expectReadAsTheParsersRead(html);
      }),
      { numRuns: 2_000 },
    );
  });

  it('takes nothing else for simple: any mix of simple pieces and others it takes reads the same both ways', () => {
    const other = fc.constantFrom(
      '<p',
      'p>',
      '</',
      '<br>',
      '<br/>',
      '<P>',
      '</b>',
      '<u>',
      '<a href="/x">',
      '</a>',
      '&amp;',
      '&',
      '>',
      '<span>',
      '<!-- c -->',
      '<p class="x">',
    );
    const soup = fc.array(fc.oneof(simple, other, text), { maxLength: 6 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(soup, (html) => {
        if (isSimpleHtml(html)) expectReadAsTheParsersRead(html);
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    ['<p>Kihara and <b>Austin</b> met.<br />Talks went on.</p>\n<p>Second</p>', true],
    ['plain text', true],
    ['', true],
    ['<p>a<p>b</p></p>', false],
    ['<b><p>a</p></b>', false],
    ['<b>a</i>', false],
    ['<b>a', false],
    ['a</b>', false],
    ['<p>a<br>b</p>', false],
    ['<P>a</P>', false],
    ['<p class="lead">a</p>', false],
    ['<p>AT&amp;T</p>', false],
    ['a > b', false],
    [`${'<b>'.repeat(MAX_HTML_DEPTH + 1)}x${'</b>'.repeat(MAX_HTML_DEPTH + 1)}`, false],
    [`${'<b>'.repeat(MAX_HTML_DEPTH)}x${'</b>'.repeat(MAX_HTML_DEPTH)}`, true],
  ])('%j simple: %s', (html, expected) => expect(isSimpleHtml(html)).toBe(expected));
});

describe('language', () => {
  it.each([
    ['en-US', 'en'],
    ['ja', 'ja'],
    ['EN', 'en'],
    ['english', undefined],
  ])('primaryLanguage(%j) = %j', (tag, expected) => expect(primaryLanguage(tag)).toBe(expected));
  it.each([
    ['日米防衛相、指揮統制の連携強化を再確認', 'ja'],
    ['한미 국방장관 회담', 'ko'],
    ['美日防长在新加坡会谈', 'zh'],
    ['Japan, U.S. defense chiefs meet', 'und-Latn'],
    // A few East Asian characters in Latin text, and a few Latin ones in Japanese: counted, the majority decides.
    ['Toyota (トヨタ自動車) shares rose sharply in Tokyo trading on Monday', 'und-Latn'],
    ['NHKによると、東京で震度4の地震', 'ja'],
    ['2024-06-02 08:06 — 12 / 34 %', undefined],
    ['', undefined],
  ])('guessLanguage(%j) = %j', (text, expected) => expect(guessLanguage(text)).toBe(expected));
});

describe('authorName', () => {
  it.each([
    ['jiji@example.com (JIJI Press)', 'JIJI Press'],
    ['JIJI Press <jiji@example.com>', 'JIJI Press'],
    ['JIJI Press', 'JIJI Press'],
    ['Reporting by Kaori Kaneko (Reuters)', 'Reporting by Kaori Kaneko (Reuters)'],
    ['editor@example.com', 'editor@example.com'],
    ['Kaori Kaneko (kaori.kaneko@example.com)', 'Kaori Kaneko'],
    ['Kyodo (Tokyo) <desk@kyodo.example>', 'Kyodo (Tokyo)'],
  ])('%s -> %s', (written, name) => expect(authorName(written)).toBe(name));

  it.each([
    ['desk@kyodo.example (Kyodo) (Tokyo)', 'desk@kyodo.example (Kyodo) (Tokyo)'],
    ['(desk@kyodo.example)', '(desk@kyodo.example)'],
    ['Kyodo ()', 'Kyodo ()'],
    ['a@b@kyodo.example (Kyodo)', 'Kyodo'],
  ])('leaves a form it does not know as written: %s', (written, name) => expect(authorName(written)).toBe(name));

  it('reads long authors of spaces and "@" as they are, in one pass', () => {
    expect(authorName(`JIJI${' '.repeat(100_000)}Press <desk@jiji.example>`)).toBe(`JIJI${' '.repeat(100_000)}Press`);
    expect(authorName(`(${'@'.repeat(100_000)}`)).toBe(`(${'@'.repeat(100_000)}`);
    expect(authorName(`${'@'.repeat(100_000)} (JIJI)`)).toBe(`${'@'.repeat(100_000)} (JIJI)`);
  });
});

describe("an item's text, kept only where it is not its HTML's", () => {
  const context = { feedUrl: 'https://outlet.example/feed', fetchedAt: new Date('2024-06-02T00:00:00Z'), shortUrlHosts: [] };
  const normalized = (fields: Partial<ParsedItem>) =>
    normalizeItem({ title: 'Japan, U.S. defense chiefs meet', titleType: 'text', dates: [], categories: [], ...fields }, { format: 'rss', items: [] }, context);
  /** What a store keeps of the text, and what it reads back. */
  const roundTrip = (item: ReturnType<typeof normalized>) => storedContentText(item.contentHtml ?? null, item.textFromHtml ? null : (item.contentText ?? null));

  it.each<[string, Partial<ParsedItem>, boolean, string | undefined]>([
    ['HTML content', { contentHtml: '<p>SINGAPORE: Kihara and <b>Austin</b> met.</p>' }, true, 'SINGAPORE: Kihara and Austin met.'],
    ['a plain-text description', { contentHtml: 'Kihara and Austin met in Singapore.' }, true, 'Kihara and Austin met in Singapore.'],
    ['a summary alone', { summaryHtml: '<p>Kihara and Austin met.</p>' }, true, 'Kihara and Austin met.'],
    ['JSON Feed content_text alone', { contentText: ' Kihara and Austin met. ' }, false, 'Kihara and Austin met.'],
    ['its own text beside a summary', { contentText: 'The full text.', summaryHtml: '<p>The summary.</p>' }, false, 'The full text.'],
    ['content without text, and a summary', { contentHtml: '<img src="https://outlet.example/a.jpg">', summaryHtml: 'The summary.' }, false, 'The summary.'],
    ['content without text alone', { contentHtml: '<img src="https://outlet.example/a.jpg">' }, false, undefined],
    ['no content at all', {}, false, undefined],
  ])('%s', (_name, fields, fromHtml, text) => {
    const item = normalized(fields);
    expect(item.textFromHtml).toBe(fromHtml);
    expect(item.contentText).toBe(text);
    expect(roundTrip(item)).toBe(text ?? null);
  });

  it('reads back the same text from whatever HTML, summary and text an item carries', () => {
    const fragment = fc.oneof(
      fc.string(),
      fc.constantFrom('<p>', '</p>', '<br>', '<b>', '</b>', '<script>x</script>', '&amp;', '&lt;', '<img src="a.jpg">', '\n\n', '  ', 'Kihara', '会談'),
    );
    const html = fc.array(fragment, { maxLength: 8 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(
        fc.option(html, { nil: undefined }),
        fc.option(html, { nil: undefined }),
        fc.option(fc.string(), { nil: undefined }),
        (contentHtml, summaryHtml, contentText) => {
          const item = normalized({ contentHtml, summaryHtml, contentText });
          expect(roundTrip(item)).toBe(item.contentText ?? null);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
