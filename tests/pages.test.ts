/** What the pages say about the sources, and what an empty topic feed says about its date. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { outletFeed } from './fixtures/wire-stories.js';
import { openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { writeConfigDir } from './helpers/config.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';

describe('the sources page, the index note and empty feeds', () => {
  let database: TestDatabase;
  let app: App;
  let served: ServedApp;

  beforeAll(async () => {
    database = await openTestDatabase();
    const dir = writeConfigDir({
      'sources.yml': `sources:
  - id: jiji
    title: JIJI Press <wire>
    url: file:jiji.xml
  - id: kyodo
    title: Kyodo News
    url: file:kyodo.xml
  - id: gone-missing
    url: file:missing.xml
    fullText: true
    scrape: { format: json, items: data }
`,
      'topics.yml': `topics:
  - slug: japan
    title: Japan
    query: japan
  - slug: nothing-yet
    title: Nothing yet
    query: zzzunmatched
`,
    });
    for (const outlet of ['jiji', 'kyodo'] as const) writeFileSync(join(dir, `${outlet}.xml`), outletFeed(outlet));
    app = await openTestApp(database.handle, { configDir: dir });
    await ingestSources(ingestContext(app), app.config.sources);
    served = await serveApp(app, { sourcesTtlMs: 0 });
  });
  afterAll(async () => {
    await served?.stop();
    await app?.close();
    await database?.close();
  });

  const get = (path: string) => fetch(`${served.base}${path}`);
  const withSourcesPage = (show: boolean | undefined) => {
    app.config.publish = { ...app.config.publish, showSources: show };
  };

  it('dates an empty feed by its topic, not 1 January 1970', async () => {
    const rss = await (await get('/topics/nothing-yet.rss')).text();
    const built = new Date(/<lastBuildDate>([^<]+)<\/lastBuildDate>/.exec(rss)![1]!);
    expect(built.getUTCFullYear()).toBeGreaterThanOrEqual(2025);
    expect(Date.now() - built.getTime()).toBeLessThan(10 * 60_000);
    const atom = await (await get('/topics/nothing-yet.atom')).text();
    expect(/<updated>([^<]+)<\/updated>/.exec(atom)![1]).not.toMatch(/^1970/);
  });

  it('serves /sources only when publish.showSources says so; off by default on a database reached by URL', async () => {
    withSourcesPage(undefined);
    expect(app.database.engine).toBe('postgres');
    const off = await get('/sources.json');
    expect(off.status).toBe(404);
    expect(await off.text()).toContain('publish.showSources');
    expect((await get('/sources')).status).toBe(404);
    const index = await (await get('/')).text();
    expect(index).toContain('3 sources, 1 failing: ');
    expect(index).not.toMatch(/href="[^"]*\/sources"/); // no link to a page that is not served
  });

  it('lists every source with its state, counts and items per day, as HTML and JSON', async () => {
    withSourcesPage(true);
    // A source an earlier config had keeps its row, failing: neither the page nor the index lists or counts it.
    await app.database.db.execute(
      sql`insert into sources (id, url, poll_seconds, error_count, last_error, last_fetched_at) values ('taken-out', 'https://old.example/rss', 900, 3, 'HTTP 500', now()) on conflict do nothing`,
    );
    const json = (await (await get('/sources.json')).json()) as {
      summary: string;
      sources: Array<{
        id: string;
        kind: string | null;
        fullText: boolean | null;
        state: string;
        items: number;
        errorCount: number;
        lastError: string | null;
        itemsPerDay: number[];
      }>;
    };
    expect(json.summary).toMatch(/^3 sources, 1 failing: /);
    expect(json.sources.map((source) => [source.id, source.state, source.errorCount])).toEqual([
      ['gone-missing', 'failing', 1],
      ['jiji', 'ok', 0],
      ['kyodo', 'ok', 0],
    ]);
    expect(json.sources.find((source) => source.id === 'jiji')!.items).toBeGreaterThan(0);
    expect(json.sources.find((source) => source.id === 'gone-missing')!.lastError).toMatch(/missing\.xml/);
    for (const source of json.sources) expect(source.itemsPerDay).toHaveLength(14);
    // What each source reads, from the config.
    expect(json.sources.map((source) => [source.id, source.kind, source.fullText])).toEqual([
      ['gone-missing', 'json', true],
      ['jiji', 'feed', false],
      ['kyodo', 'feed', false],
    ]);

    const response = await get('/sources');
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await response.text();
    expect(html).toContain('JIJI Press &lt;wire&gt;'); // a title is text, never markup
    expect(html.match(/<tr id="source-/g)).toHaveLength(3);
    expect(html).toMatch(/<a class="state state-failing" href="[^"]+\/sources\/gone-missing">failing<\/a>/);
    expect(html).toMatch(/gone-missing<\/a> <span class="meta">JSON listing · full text<\/span><\/th>/);
    const index = await (await get('/')).text();
    expect(index).toMatch(/3 sources, 1 failing: [^<]+ — see <a href="[^"]+\/sources">sources<\/a>/);
  });
});
