/** Search feeds' request handling without a server: the query as asked, its errors, and the admission of searches. */
import { describe, expect, it } from 'vitest';
import type { Source } from '../src/model/source.js';
import { BadRequest } from '../src/server/request.js';
import { Admission, MAX_QUERY_CHARS, parseSearchRequest, searchChannel, searchMatcher } from '../src/server/search.js';
import type { RecentItem } from '../src/store/topics.js';

const item = (title: string, sourceId = 'jiji-press', extra: Partial<RecentItem> = {}): RecentItem => ({
  id: 1,
  storyId: 's1',
  sourceId,
  url: null,
  publishedAt: new Date('2024-06-02T00:06:19Z'),
  title,
  summary: null,
  contentText: null,
  author: null,
  categories: [],
  language: 'en',
  ...extra,
});

const SOURCES: Source[] = [
  { id: 'jiji-press', url: 'https://jen.jiji.example/rss', pollSeconds: 900, priority: 0, tags: ['wire'], shortUrlHosts: [], network: { kind: 'public-only' } },
];

describe('search requests', () => {
  it.each([
    ['no q', '', undefined],
    ['a blank q', 'q=%20%20', undefined],
    ['a query, trimmed, with the default limit', 'q=%20japan%20', { q: 'japan', limit: 50 }],
    ['a limit', 'q=japan&limit=5', { q: 'japan', limit: 5 }],
    ['a limit past the largest, lowered to it', 'q=japan&limit=5000', { q: 'japan', limit: 200 }],
    ['a before= cursor, ignored (a search has one page)', 'q=japan&before=junk', { q: 'japan', limit: 50 }],
  ])('reads %s', (_name, query, expected) => {
    expect(parseSearchRequest(new URLSearchParams(query), 200)).toEqual(expected);
  });

  it.each([
    [
      'a query too long',
      `q=${'a'.repeat(MAX_QUERY_CHARS + 1)}`,
      `q: a query may be at most ${MAX_QUERY_CHARS} characters long (this one has ${MAX_QUERY_CHARS + 1})`,
    ],
    ['a bad limit', 'q=japan&limit=ten', 'invalid limit "ten": use a whole number from 1 to 200'],
  ])('refuses %s', (_name, query, message) => {
    expect(() => parseSearchRequest(new URLSearchParams(query), 200)).toThrow(new BadRequest(message));
  });

  it('matches as a topic with the query would, source tags included', () => {
    const matches = searchMatcher('source:wire AND (defense OR security) -baseball', SOURCES);
    expect(matches(item('Japan, US hold defense talks'))).toBe(true);
    expect(matches(item('Japan, US hold defense talks', 'arabnews-japan'))).toBe(false);
    expect(matches(item('Defense ministers watch baseball'))).toBe(false);
    expect(matches(item('Trade talks', 'jiji-press', { contentText: 'Security was on the agenda.' }))).toBe(true);
  });

  it('names the column of a query that does not parse', () => {
    expect(() => searchMatcher('japan AND (defense', SOURCES)).toThrow(new BadRequest('q: missing ")" for "(" opened at column 11'));
  });

  it('names the query and its depth in the channel, and keeps it in every link', () => {
    const channel = searchChannel('https://feeds.example.org', 'japan & "u.s."', 2000);
    expect(channel.title).toBe('Search: japan & "u.s."');
    expect(channel.description).toBe('Stories matching japan & "u.s.", among the newest 2,000 stored.');
    expect(channel.pageUrl).toBe('https://feeds.example.org/search.html?q=japan%20%26%20%22u.s.%22');
    expect(channel.feedUrl('atom')).toBe('https://feeds.example.org/search.atom?q=japan%20%26%20%22u.s.%22');
  });
});

describe('admission of searches', () => {
  it('runs as many as it allows, lets a few more wait their turn, and turns the rest away', async () => {
    const admission = new Admission(1, 1);
    const order: string[] = [];
    let release!: () => void;
    const first = admission.run(async () => {
      order.push('first started');
      await new Promise<void>((done) => (release = done));
      order.push('first done');
      return 1;
    });
    const second = admission.run(async () => {
      order.push('second started');
      return 2;
    });
    expect(await admission.run(async () => 3)).toBeUndefined();
    release();
    expect(await first).toEqual({ value: 1 });
    expect(await second).toEqual({ value: 2 });
    expect(order).toEqual(['first started', 'first done', 'second started']);
    // Everything has finished: the slot is free again.
    expect(await admission.run(async () => 4)).toEqual({ value: 4 });
  });

  it('frees the slot of a task that fails', async () => {
    const admission = new Admission(1, 0);
    await expect(admission.run(async () => Promise.reject(new Error('database away')))).rejects.toThrow('database away');
    expect(await admission.run(async () => 'ok')).toEqual({ value: 'ok' });
  });
});
