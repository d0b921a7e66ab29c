import { describe, expect, it } from 'vitest';
import { stateOf } from '../src/model/source.js';
import { renderSourceJson, renderSourcePage, renderSourcesJson, renderSourcesPage, sourcesSummary, sparkline } from '../src/server/sources-page.js';
import type { SourceHealth } from '../src/store/sources.js';

const NOW = new Date('2024-06-02T12:00:00Z');
const source = (fields: Partial<SourceHealth>): SourceHealth => ({
  id: 'jiji',
  title: null,
  url: 'https://jen.jiji.example/rss',
  fetchUrl: null,
  lastFetchedAt: NOW,
  lastStatus: '200',
  lastError: null,
  errorCount: 0,
  nextCheckAt: NOW,
  goneAt: null,
  items: 3,
  push: null,
  ...fields,
});
const failing = (error: string) => source({ errorCount: 2, lastError: error });

describe('what the index says about the sources', () => {
  it.each([
    [[], undefined],
    [[source({ lastFetchedAt: null }), source({ lastFetchedAt: null })], '2 sources, not fetched yet'],
    [[source({}), source({ lastFetchedAt: null })], '2 sources, 1 not fetched yet'],
    [[source({}), source({ goneAt: NOW })], '2 sources, all fetched (1 gone)'],
    [[source({})], '1 source, all fetched'],
    [[source({}), source({ goneAt: NOW }), { ...failing('HTTP 500'), paused: true }], '3 sources, all fetched (1 gone, 1 paused)'],
    [
      [failing('request failed: ENOTFOUND (host name not found)'), failing('request failed: ENOTFOUND (host name not found)'), failing('HTTP 500'), source({})],
      '4 sources, 3 failing: host name not found',
    ],
  ])('%#: %s', (sources, expected) => {
    expect(sourcesSummary(sources)).toBe(expected);
  });

  it('tells the states apart', () => {
    expect(
      [source({}), failing('HTTP 500'), source({ goneAt: NOW, errorCount: 1 }), source({ lastFetchedAt: null }), { ...failing('HTTP 500'), paused: true }].map(
        (entry) => stateOf(entry),
      ),
    ).toEqual(['ok', 'failing', 'gone', 'new', 'paused']);
  });

  it('draws items per day as a line scaled to the busiest day, with the numbers as its text', () => {
    const svg = sparkline([0, 0, 4, 2]);
    expect(svg).toContain('aria-label="items per day over 4 days: 0, 0, 4, 2"');
    expect(/points="([^"]+)"/.exec(svg)![1]).toBe('0.0,17.0 28.0,17.0 56.0,1.0 84.0,9.0');
    expect(sparkline([0, 0])).toContain('points="0.0,17.0 84.0,17.0"'); // an idle source is a flat line, not NaN
  });
});

describe('a quiet source on the sources page', () => {
  const quiet = { newest: new Date('2024-05-24T12:00:00Z'), silentSeconds: 9 * 86_400, limitSeconds: 6 * 3600, longestGapSeconds: 7200 };

  it('is its own state, after failing, and counted beside the gone and paused ones', () => {
    expect(stateOf({ ...source({}), quiet })).toBe('quiet');
    expect(stateOf({ ...failing('HTTP 500'), quiet })).toBe('failing');
    expect(sourcesSummary([source({}), { ...source({}), quiet }, source({ goneAt: NOW })])).toBe('3 sources, all fetched (1 quiet, 1 gone)');
  });

  it('says for how long and against what, escaped, on the page and in the JSON', () => {
    const row = { ...source({ id: 'frozen', title: '<b>Frozen</b> wire' }), itemsPerDay: [3, 0], quiet };
    const page = renderSourcesPage('', [row]);
    expect(page).toContain(
      '<a class="state state-quiet" href="/sources/frozen">quiet</a><br><span class="meta">nothing new for 9 d (its longest gap in 30 days: 2 h)</span>',
    );
    expect(page).toContain('&lt;b&gt;Frozen&lt;/b&gt; wire');
    const [entry] = JSON.parse(renderSourcesJson([row, { ...source({ id: 'busy' }), itemsPerDay: [1, 1] }], NOW)).sources;
    expect(entry).toMatchObject({
      state: 'quiet',
      quiet: { newestItemAt: '2024-05-24T12:00:00.000Z', silentSeconds: 9 * 86_400, limitSeconds: 21_600, longestGapSeconds: 7200 },
    });
    expect(JSON.parse(renderSourcesJson([{ ...source({ id: 'busy' }), itemsPerDay: [1, 1] }], NOW)).sources[0].quiet).toBeNull();
  });
});

describe("a source's own page", () => {
  it('lists its state and its fetch attempts, every string from outside escaped', () => {
    const hostile = '<script>alert(1)</script> & "quotes"';
    const row = {
      ...source({ id: 'jiji', title: `JIJI ${hostile}`, url: 'https://jen.jiji.example/rss?a=1&b="2"', errorCount: 1, lastError: hostile }),
      itemsPerDay: [1, 2],
    };
    const attempt = { startedAt: NOW, durationMs: 66, outcome: 'failed', httpStatus: 500, bytes: null, itemsNew: 0, itemsDuplicate: 0, error: hostile };
    const page = renderSourcePage('https://feeds.example.org', row, [attempt]);
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('<h1>JIJI &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; <span class="meta">jiji</span></h1>');
    expect(page).toContain('<a href="https://jen.jiji.example/rss?a=1&amp;b=&quot;2&quot;">');
    expect(page).toContain('<td>failed</td>\n<td class="number">500</td>\n<td class="number">66</td>\n<td class="number">–</td>');
    expect(page).toContain('<a href="https://feeds.example.org/sources/jiji.json">JSON</a>');
    const json = JSON.parse(renderSourceJson(row, [attempt], NOW));
    expect(json.source).toMatchObject({ id: 'jiji', state: 'failing', lastError: hostile });
    expect(json.fetches).toEqual([{ ...attempt, startedAt: NOW.toISOString() }]);
    expect(renderSourcePage('', row, [])).toContain('No fetch attempts kept');
    expect(renderSourcePage('', row, [], "keep 'japan <b>&'")).toContain('<dt>Settings</dt><dd>keep &#39;japan &lt;b&gt;&amp;&#39;</dd>');
  });
});

describe('what the sources page says a source reads', () => {
  it('says a source is pushed while its WebSub subscription is active, on the page and in the JSON', () => {
    const pushed = { ...source({ id: 'arabnews' }), itemsPerDay: [1, 2], reads: { kind: 'feed' as const, fullText: true } };
    pushed.push = { state: 'active', hub: 'https://pubsubhubbub.appspot.com/', leaseUntil: '2024-06-09T00:00:00Z', pushedAt: null };
    const asked = {
      ...source({ id: 'jiji' }),
      itemsPerDay: [0, 1],
      push: { state: 'requested', hub: 'https://hub.example/', leaseUntil: null, pushedAt: null },
    };
    const json = JSON.parse(renderSourcesJson([pushed, asked], NOW));
    expect(json.sources.map((entry: { id: string; pushed: boolean }) => [entry.id, entry.pushed])).toEqual([
      ['arabnews', true],
      ['jiji', false],
    ]);
    expect(JSON.stringify(json)).not.toContain('hub.example');
    expect(renderSourcesPage('', [pushed, asked])).toContain('full text · pushed</span>');
  });
});
