/** A topic's daily digest: finished days only (UTC, or the topic's time zone), newest first, each listing its stories escaped, counted in full. */
import { describe, expect, it } from 'vitest';
import { type FeedEntry, ownEntry } from '../src/model/story.js';
import { DIGEST_STORIES_PER_DAY, digestChannel, digestEntries, digestWindow, digestWindows } from '../src/publish/digest.js';

const topic = { slug: 'japan-us-security', title: 'Japan–US security', query: 'japan', limit: 50 };
const channel = digestChannel('https://feeds.example.org', topic, 'UTC');
const now = new Date('2024-06-04T05:00:00Z');
const utcDays = digestWindow(now);

let next = 0;
const story = (at: string, title: string, extra: Partial<FeedEntry> = {}): FeedEntry =>
  ownEntry({
    storyId: `s${++next}`,
    publishedAt: new Date(at),
    title,
    url: `https://jen.jiji.com/${next}`,
    language: 'en',
    sourceId: 'jiji-press',
    sourceTitle: 'JIJI Press',
    ...extra,
  });

describe('digestEntries', () => {
  it("lists each finished UTC day's stories under one entry, newest day first, leaving today out", () => {
    const stories = [
      story('2024-06-04T01:00:00Z', 'Today: not yet'),
      story('2024-06-02T23:59:59Z', 'Late on the 2nd', {
        alsoReportedBy: [{ sourceId: 'arabnews', sourceTitle: 'Arab News', title: 'x', url: null }],
      }),
      story('2024-06-02T00:06:19Z', 'Defense chiefs reaffirm command coordination'),
      story('2024-06-01T09:00:00Z', 'On the 1st'),
      story('2024-05-20T09:00:00Z', 'Before the window'),
    ];
    const entries = digestEntries(channel, topic.slug, { stories, counts: new Map() }, utcDays);
    expect(entries.map((entry) => [entry.storyId, entry.title, entry.publishedAt.toISOString()])).toEqual([
      ['digest-japan-us-security-2024-06-02', '2 stories on 2024-06-02', '2024-06-03T00:00:00.000Z'],
      ['digest-japan-us-security-2024-06-01', '1 story on 2024-06-01', '2024-06-02T00:00:00.000Z'],
    ]);
    expect(entries[0]!.contentHtml).toBe(
      '<ul><li><a href="https://jen.jiji.com/2">Late on the 2nd</a> (JIJI Press, Arab News)</li>' +
        '<li><a href="https://jen.jiji.com/3">Defense chiefs reaffirm command coordination</a> (JIJI Press)</li></ul>',
    );
    expect(entries[0]!.url).toBe('https://feeds.example.org/topics/japan-us-security.html');
  });

  it('escapes every title, name and link, and links no page that is not http(s)', () => {
    const hostile = story('2024-06-03T10:00:00Z', '<script>alert(1)</script> & "quotes"', {
      url: 'javascript:alert(2)',
      sourceTitle: '<b>Outlet</b>',
    });
    const quoted = story('2024-06-03T09:00:00Z', 'Link', { url: 'https://x.example/?a=1&b="2"' });
    const [entry] = digestEntries(channel, topic.slug, { stories: [hostile, quoted], counts: new Map() }, utcDays);
    expect(entry!.contentHtml).toBe(
      '<ul><li>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; (&lt;b&gt;Outlet&lt;/b&gt;)</li>' +
        '<li><a href="https://x.example/?a=1&amp;b=&quot;2&quot;">Link</a> (JIJI Press)</li></ul>',
    );
  });

  it(`lists ${DIGEST_STORIES_PER_DAY} stories a day and counts the rest, and makes an entry of a day it only has a count for`, () => {
    const busy = Array.from({ length: DIGEST_STORIES_PER_DAY + 5 }, (_, index) => story(`2024-06-03T0${index % 10}:00:00Z`, `Story ${index}`));
    const counts = new Map([
      [Date.parse('2024-06-03T00:00:00Z'), DIGEST_STORIES_PER_DAY + 20],
      [Date.parse('2024-05-30T00:00:00Z'), 7],
    ]);
    const [june3, may30] = digestEntries(channel, topic.slug, { stories: busy, counts }, utcDays);
    expect(june3!.title).toBe(`${DIGEST_STORIES_PER_DAY + 20} stories on 2024-06-03`);
    expect(june3!.contentHtml!.match(/<li>/g)).toHaveLength(DIGEST_STORIES_PER_DAY);
    expect(june3!.contentHtml).toMatch(/<p>…and 20 more on the topic's page\.<\/p>$/);
    expect([may30!.title, may30!.contentHtml]).toEqual(['7 stories on 2024-05-30', "<p>…and 7 more on the topic's page.</p>"]);
  });

  it('reads the window as the seven finished UTC days before today', () => {
    expect(utcDays.starts.map((start) => new Date(start).toISOString().slice(0, 10))).toEqual([
      '2024-05-28',
      '2024-05-29',
      '2024-05-30',
      '2024-05-31',
      '2024-06-01',
      '2024-06-02',
      '2024-06-03',
      '2024-06-04',
    ]);
    expect(utcDays.starts.every((start) => start % 86_400_000 === 0)).toBe(true);
  });

  it("lists a Tokyo desk's days: a story of 08:06 JST on 2 June is on the 2nd, though still the 1st in UTC", () => {
    const tokyo = digestWindow(now, 'Asia/Tokyo');
    expect(new Date(tokyo.starts.at(-1)!).toISOString()).toBe('2024-06-03T15:00:00.000Z');
    const stories = [
      story('2024-06-03T16:00:00Z', 'Today in Tokyo: not yet'),
      story('2024-06-01T23:06:19Z', 'Defense chiefs reaffirm command coordination'),
      story('2024-06-01T14:59:59Z', 'Last minute of the 1st in Tokyo'),
    ];
    const tokyoChannel = digestChannel('https://feeds.example.org', topic, 'Asia/Tokyo');
    const entries = digestEntries(tokyoChannel, topic.slug, { stories, counts: new Map() }, tokyo);
    expect(entries.map((entry) => [entry.storyId, entry.title, entry.publishedAt.toISOString()])).toEqual([
      ['digest-japan-us-security-2024-06-02', '1 story on 2024-06-02', '2024-06-02T15:00:00.000Z'],
      ['digest-japan-us-security-2024-06-01', '1 story on 2024-06-01', '2024-06-01T15:00:00.000Z'],
    ]);
    expect(tokyoChannel.description).toContain('(days in Asia/Tokyo)');
    expect(channel.description).toContain('(UTC days)');
  });

  it("reuses a server's window until the zone's next day starts, then moves it on", () => {
    const windowOf = digestWindows();
    const first = windowOf(now, 'Asia/Tokyo');
    expect(first.starts).toEqual(digestWindow(now, 'Asia/Tokyo').starts);
    expect(windowOf(new Date('2024-06-04T14:59:59Z'), 'Asia/Tokyo')).toBe(first);
    const next = windowOf(new Date('2024-06-04T15:00:00Z'), 'Asia/Tokyo');
    expect(new Date(next.starts.at(-1)!).toISOString()).toBe('2024-06-04T15:00:00.000Z');
    expect(windowOf(now, 'UTC').starts).toEqual(utcDays.starts);
  });

  it("lists a morning read's days, 06:00 to 06:00 in Tokyo, each named by when it ends", () => {
    const morning = digestWindow(now, 'Asia/Tokyo', 6 * 60);
    // At 14:00 JST on 4 June the last finished day ended at 06:00 that morning (21:00 UTC on the 3rd).
    expect(new Date(morning.starts.at(-1)!).toISOString()).toBe('2024-06-03T21:00:00.000Z');
    const stories = [
      story('2024-06-03T21:30:00Z', '06:30 JST on the 4th: in tomorrow morning’s entry'),
      story('2024-06-03T20:59:59Z', '05:59 JST on the 4th: in this morning’s'),
      story('2024-06-01T23:06:19Z', '08:06 JST on the 2nd: in the entry to 06:00 on the 3rd'),
    ];
    const morningChannel = digestChannel('https://feeds.example.org', topic, 'Asia/Tokyo', 6 * 60);
    const entries = digestEntries(morningChannel, topic.slug, { stories, counts: new Map() }, morning);
    expect(entries.map((entry) => [entry.storyId, entry.title, entry.publishedAt.toISOString()])).toEqual([
      ['digest-japan-us-security-2024-06-04-0600', '1 story to 06:00 on 2024-06-04', '2024-06-03T21:00:00.000Z'],
      ['digest-japan-us-security-2024-06-03-0600', '1 story to 06:00 on 2024-06-03', '2024-06-02T21:00:00.000Z'],
    ]);
    expect(morningChannel.description).toContain('(days in Asia/Tokyo from 06:00)');
    // A server keeps a window per zone and hour.
    const windowOf = digestWindows();
    expect(windowOf(now, 'Asia/Tokyo', 6 * 60).starts).toEqual(morning.starts);
    expect(windowOf(now, 'Asia/Tokyo').starts).toEqual(digestWindow(now, 'Asia/Tokyo').starts);
  });

  it('ends a 25-hour day where the clocks say, and counts a day by its start in the zone', () => {
    const newYork = digestWindow(new Date('2024-11-05T12:00:00Z'), 'America/New_York');
    const fallBack = Date.parse('2024-11-03T04:00:00Z');
    expect(newYork.starts).toContain(fallBack);
    const late = story('2024-11-04T04:30:00Z', '23:30 on the 3rd in New York (the 4th in UTC)');
    const entries = digestEntries(channel, topic.slug, { stories: [late], counts: new Map([[fallBack, 4]]) }, newYork);
    expect(entries.map((entry) => [entry.title, entry.publishedAt.toISOString()])).toEqual([['4 stories on 2024-11-03', '2024-11-04T05:00:00.000Z']]);
  });
});
