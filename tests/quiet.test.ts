import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../src/app.js';
import { log } from '../src/log.js';
import { quietSources, sourcePaces } from '../src/store/sources.js';
import { ingestContext } from '../src/worker/context.js';
import { housekeep } from '../src/worker/housekeeping.js';
import { ingestSources } from '../src/worker/ingest.js';
import { openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';
import { rss2 } from './helpers/feeds.js';
import { type FixtureServer, startFixtureServer } from './helpers/fixture-server.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** An outlet's feed: `count` market and politics briefs, one every `everyMs`, the newest `newestAgoMs` before now. */
function outletFeed(outlet: string, count: number, everyMs: number, newestAgoMs: number): string {
  const now = Date.now();
  const items = Array.from({ length: count }, (_, index) => {
    const published = new Date(now - newestAgoMs - index * everyMs);
    return {
      title: `${outlet}: Tokyo stocks close ${index % 2 ? 'higher' : 'lower'} as yen moves, session ${count - index}`,
      link: `https://${outlet}.example/markets/${count - index}`,
      pubDate: published.toUTCString().replace('GMT', '+0000'),
      description: `TOKYO (${outlet}) - The Nikkei average ended session ${count - index} as exporters tracked the yen against the dollar.`,
    };
  });
  return rss2(`${outlet} markets`, items);
}

/** The outlets: two wires (one that froze nine days ago), a column, and sources judged by their own quietAfter. */
const OUTLETS = {
  'busy-wire': () => outletFeed('busywire', 120, 2 * HOUR, HOUR),
  'frozen-wire': () => outletFeed('frozenwire', 120, 2 * HOUR, 9 * DAY),
  'weekly-column': () => outletFeed('column', 10, 3 * DAY, DAY),
  'short-fuse': () => outletFeed('shortfuse', 5, DAY, 3 * DAY),
  archive: () => outletFeed('archive', 120, 2 * HOUR, 9 * DAY),
  thin: () => outletFeed('thin', 5, DAY, 20 * DAY),
};
const OWN_SETTINGS: Record<string, string> = { 'short-fuse': '    quietAfter: 2d\n', archive: '    quietAfter: never\n' };

describe('quiet sources: fetched without error, and silent past their pace', () => {
  let database: TestDatabase;
  let fixtures: FixtureServer;
  let app: App;
  let served: ServedApp;

  beforeAll(async () => {
    database = await openTestDatabase();
    fixtures = await startFixtureServer();
    for (const [id, feed] of Object.entries(OUTLETS)) fixtures.set(`/${id}.rss`, feed(), 'application/rss+xml');
    const entries = Object.keys(OUTLETS).map(
      (id) => `  - id: ${id}\n    url: ${fixtures.url}/${id}.rss\n    allowPrivateNetwork: true\n${OWN_SETTINGS[id] ?? ''}`,
    );
    const configDir = writeConfigDir({ 'sources.yml': `sources:\n${entries.join('')}`, 'publish.yml': 'publish:\n  showSources: true\n' });
    app = await openTestApp(database.handle, { configDir, ingest: true });
    served = await serveApp(app, { storeGaugesTtlMs: 0, sourcesTtlMs: 0 });
  });
  afterAll(async () => {
    await served?.stop();
    await app?.close();
    await fixtures?.close();
    await database?.close();
  });

  it("reads each source's pace: its items of the month up to its newest, and their longest gap", async () => {
    const paces = await sourcePaces(app.database.db, [...Object.keys(OUTLETS), 'never-stored']);
    const frozen = paces.get('frozen-wire')!;
    expect(frozen.count).toBe(120);
    expect(frozen.longestGapSeconds).toBe(7200);
    expect(Date.now() - frozen.newest.getTime()).toBeGreaterThanOrEqual(9 * DAY - 60_000);
    expect(frozen.newest.getTime() - frozen.oldest.getTime()).toBe(119 * 2 * HOUR);
    expect(paces.get('weekly-column')).toMatchObject({ count: 10, longestGapSeconds: 3 * 86_400 });
    expect(paces.has('never-stored')).toBe(false);
  });

  it('names the quiet ones: the frozen wire by its pace, the short fuse by its quietAfter; not the archive, the column or the thin one', async () => {
    const quiet = await quietSources(app.database.db, app.config.sources);
    expect(quiet.map((source) => [source.id, source.quiet.limitSeconds, source.quiet.longestGapSeconds])).toEqual([
      ['frozen-wire', 6 * 3600, 7200],
      ['short-fuse', 2 * 86_400, undefined],
    ]);
  });

  it('shows them on the sources page, in its JSON and in /metrics', async () => {
    const json = (await (await fetch(`${served.base}/sources.json`)).json()) as { summary: string; sources: Array<{ id: string; state: string }> };
    expect(Object.fromEntries(json.sources.map((source) => [source.id, source.state]))).toEqual({
      archive: 'ok',
      'busy-wire': 'ok',
      'frozen-wire': 'quiet',
      'short-fuse': 'quiet',
      thin: 'ok',
      'weekly-column': 'ok',
    });
    expect(json.summary).toBe('6 sources, all fetched (2 quiet)');
    const page = await (await fetch(`${served.base}/sources`)).text();
    expect(page).toMatch(/state-quiet" href="[^"]+">quiet<\/a><br><span class="meta">nothing new for 9 d \(its longest gap in 30 days: 2 h\)/);
    expect(page).toContain('nothing new for 3 d (quietAfter: 2 d)');
    const metrics = await (await fetch(`${served.base}/metrics`)).text();
    expect(metrics).toMatch(/^wirefeed_sources_quiet 2$/m);
  });

  it("gives each source a page of its own with its fetch attempts, linked from the sources page's status", async () => {
    const list = await (await fetch(`${served.base}/sources`)).text();
    expect(list).toContain(`<a class="state state-quiet" href="${served.base}/sources/frozen-wire">quiet</a>`);
    const page = await fetch(`${served.base}/sources/frozen-wire`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBeTruthy();
    const html = await page.text();
    expect(html).toContain('<dt>Status</dt><dd><span class="state state-quiet">quiet</span> <span class="meta">nothing new for 9 d');
    expect(html).toMatch(/<td>ok<\/td>\n<td class="number">200<\/td>/);
    const json = (await (await fetch(`${served.base}/sources/frozen-wire.json`)).json()) as {
      source: { id: string; state: string; items: number };
      fetches: Array<{ outcome: string; httpStatus: number; itemsNew: number }>;
    };
    expect(json.source).toMatchObject({ id: 'frozen-wire', state: 'quiet', items: 120 });
    expect(json.fetches).toEqual([expect.objectContaining({ outcome: 'ok', httpStatus: 200, itemsNew: 120 })]);
    // Its settings beyond the defaults, as the YAML writes them.
    expect(await (await fetch(`${served.base}/sources/short-fuse`)).text()).toContain('<dt>Settings</dt><dd>quietAfter 2d</dd>');
    expect(html).not.toContain('<dt>Settings</dt>');
    expect((await fetch(`${served.base}/sources/no-such-source`)).status).toBe(404);
    expect((await fetch(`${served.base}/sources/Frozen-Wire`)).status).toBe(404);
  });

  it('logs a source that went quiet once, and when it brings a new item again', async () => {
    const warn = vi.spyOn(log, 'warn');
    const info = vi.spyOn(log, 'info');
    try {
      const known = new Set<string>();
      await housekeep(app, undefined, known);
      await housekeep(app, undefined, known);
      const wentQuiet = warn.mock.calls.filter(([, message]) => message === 'source went quiet').map(([fields]) => (fields as { source: string }).source);
      expect(wentQuiet).toEqual(['frozen-wire', 'short-fuse']);
      // The wire files again: its next fetch stores a new item, and it is no longer quiet.
      fixtures.set('/frozen-wire.rss', outletFeed('frozenwire', 121, 2 * HOUR, 0), 'application/rss+xml');
      const summary = await ingestSources(
        ingestContext(app),
        app.config.sources.filter((source) => source.id === 'frozen-wire'),
      );
      expect(summary.itemsNew).toBe(1);
      await housekeep(app, undefined, known);
      const back = info.mock.calls.filter(([, message]) => message === 'source is no longer quiet').map(([fields]) => fields);
      expect(back).toEqual([{ source: 'frozen-wire' }]);
      expect([...known]).toEqual(['short-fuse']);
    } finally {
      warn.mockRestore();
      info.mockRestore();
    }
  });
});

describe('wirefeed sources', () => {
  it('says which sources are quiet, for how long and against what, and gives the figures in --json', async () => {
    const feeds = mkdtempSync(join(tmpdir(), 'wirefeed-quiet-feeds-'));
    writeFileSync(join(feeds, 'frozen.rss'), outletFeed('frozenwire', 60, 4 * HOUR, 10 * DAY));
    writeFileSync(join(feeds, 'busy.rss'), outletFeed('busywire', 60, 4 * HOUR, HOUR));
    const url = (file: string) => pathToFileURL(join(feeds, file)).href;
    const dir = writeConfigDir({
      'sources.yml': `sources:\n  - id: frozen-wire\n    url: ${url('frozen.rss')}\n  - id: busy-wire\n    url: ${url('busy.rss')}\n`,
    });
    const environment = { DATA_DIR: mkdtempSync(join(tmpdir(), 'wirefeed-data-')), DATABASE_URL: '', LOG_LEVEL: 'silent' };
    const pass = runCli(['ingest', '--once', '--config', dir], environment);
    expect(await pass.exited).toBe(0);
    const listed = runCli(['sources', '--config', dir], environment);
    expect(await listed.exited).toBe(0);
    const lines = listed.output().stdout.split('\n');
    expect(lines.find((line) => line.startsWith('frozen-wire'))).toMatch(
      /^frozen-wire +quiet +\d+s ago +60 +0 .*frozen\.rss {2}nothing new for 10 d \(its longest gap in 30 days: 4 h\)$/,
    );
    expect(lines.find((line) => line.startsWith('busy-wire'))).toMatch(/^busy-wire +ok /);
    const shown = runCli(['sources', 'show', 'frozen-wire', '--config', dir], environment);
    expect(await shown.exited).toBe(0);
    const detail = shown.output().stdout.split('\n');
    expect(detail[0]).toBe('frozen-wire');
    expect(detail[1]).toBe('  status      quiet: nothing new for 10 d (its longest gap in 30 days: 4 h)');
    expect(detail.find((line) => line.startsWith('  items'))).toBe(
      '  items       60 stored; 60 in the 30 days up to the newest (10d ago), the longest gap between two 4 h',
    );
    expect(detail.find((line) => line.startsWith('  WHEN'))).toMatch(/^ {2}WHEN +OUTCOME +STATUS +MS +BYTES +NEW +DUP +ERROR$/);
    expect(detail.at(-2)).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\dZ +ok +200 +\d+ +\d+ +60 +0$/);
    const json = runCli(['sources', '--json', '--config', dir], environment);
    expect(await json.exited).toBe(0);
    const rows = JSON.parse(json.output().stdout) as Array<{ id: string; quiet: { limitSeconds: number; longestGapSeconds: number } | null }>;
    expect(rows.map((row) => [row.id, row.quiet?.limitSeconds ?? null, row.quiet?.longestGapSeconds ?? null])).toEqual([
      ['busy-wire', null, null],
      ['frozen-wire', 21_600, 14_400],
    ]);
  });
});
