import { describe, expect, it } from 'vitest';
import { formatReload, formatSourceTable, formatSummary, formatTopicTable } from '../src/commands/report.js';
import { DEFAULT_POLL_SECONDS, type Source } from '../src/model/source.js';
import { sourceSettings } from '../src/model/source-settings.js';
import { displayWidth } from '../src/model/text.js';
import { highlight, positivePatterns, snippet } from '../src/topics/highlight.js';
import { parseQuery } from '../src/topics/query.js';
import type { IngestSummary } from '../src/worker/ingest.js';
import type { ReloadReport } from '../src/worker/reload.js';

describe('command-line reports', () => {
  const summary = (counts: Partial<IngestSummary>): IngestSummary => ({
    ...{ ok: 0, notModified: 0, failed: 0, deferred: 0, skipped: 0, itemsNew: 0, itemsDuplicate: 0, itemsRevised: 0, itemsFiltered: 0, outcomes: [] },
    ...counts,
  });

  it.each([
    [{ ok: 3, notModified: 1, failed: 1, itemsNew: 12, itemsDuplicate: 40 }, 'sources: 3 ok, 1 not modified, 1 failed; items: 12 new, 40 duplicate'],
    [{ ok: 1, itemsDuplicate: 9, itemsRevised: 1 }, 'sources: 1 ok, 0 not modified, 0 failed; items: 0 new, 9 duplicate, 1 revised'],
    [{ ok: 2, deferred: 3, itemsNew: 4 }, 'sources: 2 ok, 0 not modified, 0 failed, 3 deferred; items: 4 new, 0 duplicate'],
    [{ ok: 1, itemsNew: 4, itemsFiltered: 6 }, 'sources: 1 ok, 0 not modified, 0 failed; items: 4 new, 0 duplicate, 6 filtered'],
  ])('summarizes an ingest pass in one line: %j', (counts, line) => {
    expect(formatSummary(summary(counts))).toBe(line);
  });

  it('tables sources with their health', () => {
    const now = new Date('2024-06-02T12:00:00Z');
    const base = { title: null, fetchUrl: null, lastError: null, goneAt: null, push: null };
    const table = formatSourceTable(
      [
        {
          ...base,
          id: 'arabnews-japan',
          url: 'https://www.arabnews.com/rss.xml',
          lastFetchedAt: new Date('2024-06-02T11:58:00Z'),
          lastStatus: 'ok',
          errorCount: 0,
          nextCheckAt: new Date('2024-06-02T12:13:00Z'),
          items: 153,
          push: { state: 'active', hub: 'https://pubsubhubbub.appspot.com/', leaseUntil: '2024-06-09T11:58:00Z', pushedAt: null },
        },
        {
          ...base,
          id: 'jiji',
          url: 'https://jen.jiji.com/feed',
          lastFetchedAt: new Date('2024-06-02T09:00:00Z'),
          lastStatus: 'failed',
          lastError: 'HTTP 503',
          errorCount: 4,
          // Asked, not verified: not pushed yet.
          push: { state: 'requested', hub: 'https://hub.example/', leaseUntil: null, pushedAt: null },
          nextCheckAt: new Date('2024-06-02T11:00:00Z'),
          items: 20,
        },
        { ...base, id: 'old', url: 'https://old.example/feed', lastFetchedAt: null, lastStatus: null, errorCount: 1, nextCheckAt: now, items: 0, goneAt: now },
        {
          ...base,
          id: 'nhk',
          url: 'https://news.example.jp/api/latest.json',
          lastFetchedAt: null,
          lastStatus: null,
          errorCount: 0,
          nextCheckAt: now,
          items: 0,
          reads: { kind: 'json', fullText: true },
        },
      ],
      now,
    );
    expect(table.split('\n')).toEqual([
      'SOURCE                         STATUS  LAST FETCH  ITEMS  ERRORS  NEXT CHECK  URL / LAST ERROR',
      'arabnews-japan (pushed)        ok      2m ago      153    0       in 13m      https://www.arabnews.com/rss.xml',
      'jiji                           failed  3h ago      20     4       due         HTTP 503',
      'old                            gone    never       0      1       -           https://old.example/feed',
      'nhk (JSON listing, full text)  new     never       0      0       due         https://news.example.jp/api/latest.json',
    ]);
  });
});

describe('reload reports', () => {
  const report = (dryRun: boolean): ReloadReport => ({
    sourceId: 'jiji',
    dryRun,
    items: [
      { title: 'U.S. Marines to Begin Okinawa Relocation', url: 'https://jen.jiji.com/a', outcome: 'revised', chars: 60, articleChars: 1204 },
      { title: 'Typhoon Nears Okinawa', url: 'https://jen.jiji.com/b', outcome: 'failed', chars: 39, error: 'HTTP 500' },
      { title: 'Nikkei Ends Week Higher', outcome: 'no-page', chars: 35 },
    ],
    counts: { revised: 1, unchanged: 0, 'no-article': 0, failed: 1, 'not-short': 0, 'no-page': 1, moved: 0, superseded: 0 },
  });

  it('lists each item read with its lengths, then counts what happened', () => {
    expect(formatReload(report(false)).split('\n')).toEqual([
      'OUTCOME  STORED  ARTICLE  ITEM',
      'revised  60      1,204    U.S. Marines to Begin Okinawa Relocation  https://jen.jiji.com/a',
      'failed   39      -        Typhoon Nears Okinawa  https://jen.jiji.com/b  (HTTP 500)',
      'no-page  35      -        Nikkei Ends Week Higher',
      'jiji: 1 revised, 1 failed, 1 without a page',
    ]);
  });

  it('says what a dry run would revise, and that it stored nothing', () => {
    const lines = formatReload(report(true)).split('\n');
    expect(lines[1]).toMatch(/^would revise {2}60/);
    expect(lines.at(-1)).toBe('jiji: 1 to revise, 1 failed, 1 without a page (dry run: nothing stored)');
  });

  it('says so when the source has no stored items', () => {
    expect(formatReload({ sourceId: 'jiji', dryRun: false, items: [], counts: { ...report(false).counts, revised: 0, failed: 0, 'no-page': 0 } })).toBe(
      'jiji: no stored items',
    );
  });
});

describe('topic reports', () => {
  it('tables topics with member counts', () => {
    const table = formatTopicTable(
      [
        { slug: 'japan-us-security', title: 'Japan–US security', query: 'japan AND u.s.', limit: 50 },
        { slug: 'boj', title: 'BOJ', query: 'boj', exclude: 'yen', limit: 50 },
      ],
      new Map([['japan-us-security', 12]]),
    );
    expect(table.split('\n')).toEqual([
      'TOPIC              STORIES  TITLE              QUERY',
      'japan-us-security  12       Japan–US security  japan AND u.s.',
      'boj                0        BOJ                boj  (exclude: yen)',
    ]);
  });

  it('adds a WEBHOOK column when a topic has one: what waits for it and why (never the URL)', () => {
    const webhooks = [{ name: '', url: 'https://hooks.example/T0K3N', secret: 's' }];
    const now = new Date('2024-06-02T12:00:00Z');
    const table = formatTopicTable(
      [
        { slug: 'security', title: 'Security', query: 'defense', limit: 50, webhooks },
        { slug: 'trade', title: 'Trade', query: 'exports', limit: 50, webhooks },
        { slug: 'boj', title: 'BOJ', query: 'boj', limit: 50 },
      ],
      new Map([['security', 4]]),
      new Map([['security', new Map([['', { queued: 3, oldest: new Date('2024-06-02T10:00:00Z'), lastError: 'HTTP 503' }]])]]),
      now,
    );
    expect(table.split('\n')).toEqual([
      'TOPIC     STORIES  TITLE     WEBHOOK                            QUERY',
      'security  4        Security  3 waiting since 2h ago (HTTP 503)  defense',
      'trade     0        Trade     ok                                 exports',
      'boj       0        BOJ       -                                  boj',
    ]);
    expect(table).not.toContain('T0K3N');
  });

  it("names each of a topic's webhooks, by name or else by format, with what waits for it", () => {
    const webhooks = [
      { name: '', url: 'https://hooks.slack.example/T0K3N', format: 'slack' as const },
      { name: 'archive', url: 'https://archive.example/hook' },
    ];
    const table = formatTopicTable(
      [{ slug: 'security', title: 'Security', query: 'defense', limit: 50, webhooks }],
      new Map(),
      new Map([['security', new Map([['archive', { queued: 2, oldest: new Date('2024-06-02T11:00:00Z'), lastError: 'ECONNREFUSED' }]])]]),
      new Date('2024-06-02T12:00:00Z'),
    );
    expect(table.split('\n')[1]).toBe('security  0        Security  slack ok, archive 2 waiting since 60m ago (ECONNREFUSED)  defense');
  });

  it('aligns columns after a Japanese title, which takes two terminal columns a character', () => {
    const table = formatTopicTable(
      [
        { slug: 'nikkei', title: '日本経済', query: 'nikkei', limit: 50 },
        { slug: 'boj', title: 'Bank of Japan', query: 'boj', limit: 50 },
      ],
      new Map(),
    );
    expect(table.split('\n')).toEqual([
      'TOPIC   STORIES  TITLE          QUERY',
      'nikkei  0        日本経済       nikkei',
      'boj     0        Bank of Japan  boj',
    ]);
  });

  it.each([
    ['Japan', 5],
    ['日本経済新聞', 12],
    ['ｶﾅ', 2], // halfwidth katakana: one column each
    ['Ｗｉｒｅ', 8], // fullwidth Latin: two each
    ['cafe\u0301', 4], // e + combining acute
    ['한국', 4],
  ])('measures %j as %i columns', (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });

  it('highlights what a query looks for, not what it excludes', () => {
    const patterns = positivePatterns(parseQuery('title:(defense OR marines) u.s. -okinawa /gu?am/i 日米'));
    const mark = (text: string) => `[${text}]`;
    expect(highlight('U.S. Marines leave Okinawa for Guam; US defense', patterns, mark)).toBe('[U.S.] [Marines] leave Okinawa for [Guam]; US [defense]');
    expect(highlight('日米防衛相', patterns, mark)).toBe('[日米]防衛相');
    expect(snippet(`${'word '.repeat(100)}Marines at the end`, patterns, 40)).toBe('…rd word word Marines at the end');
    expect(snippet(`Marines ${'word '.repeat(20)}`, patterns, 20)).toBe('Marines word word wo…');
  });
});

describe("a source's settings as `sources show` lists them", () => {
  const base: Source = {
    id: 'jiji',
    url: 'https://jen.jiji.example/rss',
    pollSeconds: DEFAULT_POLL_SECONDS,
    priority: 0,
    tags: [],
    shortUrlHosts: [],
    network: { kind: 'public-only' },
  };
  it.each([
    ['the defaults', base, undefined, undefined],
    [
      'what the YAML set',
      { ...base, adaptivePoll: true, priority: 10, tags: ['wire', 'japan'], shortUrlHosts: ['jiji.to'], keep: 'japan OR tokyo', quietAfter: 2 * 86_400 },
      { sourceId: 'jiji', itemsSeconds: 30 * 86_400, keepPerSource: 500 },
      "every auto · priority 10 · tags wire, japan · shortUrlHosts jiji.to · keep 'japan OR tokyo' · quietAfter 2d · retention items 30d · retention keepPerSource 500",
    ],
    [
      'an interval, never quiet, kept for ever',
      { ...base, pollSeconds: 300, quietAfter: 'never' as const },
      { sourceId: 'jiji', itemsSeconds: null },
      'every 5m · quietAfter never · retention items never',
    ],
  ])('%s', (_name, source, retention, expected) => {
    expect(sourceSettings(source, { sources: retention ? [retention] : [] })).toBe(expected);
  });
});
