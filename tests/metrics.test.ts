import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { rowsOf } from '../src/db/client.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { startWorker } from '../src/worker/scheduler.js';
import { DEMO_CONFIG as DEMO, demoConfigWith, openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { ROOT } from './helpers/cli.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';

/** Parses Prometheus text exposition into "name{labels}" -> value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    expect(match, `not a sample line: ${line}`).not.toBeNull();
    samples.set(match![1]!, Number(match![2]));
  }
  return samples;
}

const serve = (app: App, storeGaugesTtlMs = 0) => serveApp(app, { storeGaugesTtlMs });

describe('metrics and readiness', () => {
  let database: TestDatabase;
  let app: App;
  let served: ServedApp;
  let base: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    app = await openTestApp(database.handle);
    served = await serve(app);
    base = served.base;
  });
  afterAll(async () => {
    await served.stop();
    await app.close();
    await database.close();
  });

  it('exposes fetches, items, topic matches, stories, queue lag, table sizes and feed requests in Prometheus format', async () => {
    const before = parseMetrics(await (await fetch(`${base}/metrics`)).text());
    await ingestSources(ingestContext(app), app.config.sources);
    expect((await fetch(`${base}/topics/japan-us-security.rss`)).status).toBe(200);
    expect((await fetch(`${base}/topics/nope.rss`)).status).toBe(404);
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = parseMetrics(await response.text());
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect(delta('wirefeed_fetches_total{outcome="ok",status="200"}')).toBe(4);
    expect(delta('wirefeed_items_total{result="new"}')).toBe(10);
    expect(delta('wirefeed_topic_matches_total')).toBeGreaterThanOrEqual(5);
    expect(delta('wirefeed_fetch_duration_seconds_count')).toBe(4);
    expect(after.get('wirefeed_stories')).toBe(8);
    expect(after.get('wirefeed_items')).toBe(10);
    expect(after.get('wirefeed_queue_lag_seconds')).toBe(0); // every source was just fetched
    for (const table of ['items', 'item_bands', 'fetch_log', 'topic_stories'])
      expect(after.get(`wirefeed_table_bytes{table="${table}"}`)).toBeGreaterThan(8192);
    expect(delta('wirefeed_feed_requests_total{route="feed",status="200"}')).toBe(1);
    expect(delta('wirefeed_feed_requests_total{route="feed",status="404"}')).toBe(1);
    expect(after.has('wirefeed_process_resident_memory_bytes')).toBe(true);
  });

  it('reads the store-wide gauges at most once per storeGaugesTtlMs, however often it is scraped', async () => {
    const cached = await serve(app, 60_000);
    try {
      const first = parseMetrics(await (await fetch(`${cached.base}/metrics`)).text());
      await database.reset();
      const second = parseMetrics(await (await fetch(`${cached.base}/metrics`)).text());
      expect(second.get('wirefeed_items')).toBe(first.get('wirefeed_items'));
      expect(first.get('wirefeed_items')).toBeGreaterThan(0);
    } finally {
      await cached.stop();
    }
  });

  it('leaves paused sources to themselves: no worker claims them, and neither they nor sources taken out of the config count as queue lag', async () => {
    const configDir = demoConfigWith({
      'paused.yml': `sources:\n  - id: paused-wire\n    url: ${pathToFileURL(join(ROOT, 'seeds/jiji-press.atom.xml')).href}\n    paused: true\n`,
    });
    await database.reset();
    const paused = await openTestApp(database.handle, { configDir });
    const pausedServed = await serve(paused);
    try {
      // A source of an earlier config, long overdue: not this config's, so nobody's lag.
      await paused.database.db.execute(
        sql`insert into sources (id, url, poll_seconds, next_check_at) values ('taken-out', 'https://old.example/rss', 900, now() - interval '1 day')`,
      );
      const worker = startWorker(paused, { housekeeping: { firstMs: 3_600_000, everyMs: 3_600_000 } });
      try {
        await worker.tick();
      } finally {
        await worker.stop();
      }
      const fetched = await rowsOf<{ id: string; fetched: boolean }>(
        paused.database.db,
        sql`select id, last_fetched_at is not null as fetched from sources order by id`,
      );
      expect(Object.fromEntries(fetched.map((row) => [row.id, row.fetched]))).toEqual({
        'arabnews-japan': true,
        'japan-today': true,
        'jiji-press': true,
        'nippon-wire': true,
        'paused-wire': false,
        'taken-out': false,
      });
      const metrics = parseMetrics(await (await fetch(`${pausedServed.base}/metrics`)).text());
      expect(metrics.get('wirefeed_queue_lag_seconds')).toBe(0);
    } finally {
      await pausedServed.stop();
      await paused.close();
    }
  });

  it('answers /readyz with 200 while the database answers, /healthz regardless', async () => {
    expect(await (await fetch(`${base}/readyz`)).text()).toBe('ready\n');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('answers /readyz with 503 when the database is gone, while /healthz stays up', async () => {
    const lostDatabase = await openTestDatabase();
    const lost = lostDatabase.handle;
    const lonely = await openApp({ configDir: DEMO, database: lost });
    const other = await serve(lonely);
    const otherBase = other.base;
    try {
      await lost.close();
      const ready = await fetch(`${otherBase}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toMatch(/^not ready: database unavailable/);
      expect((await fetch(`${otherBase}/healthz`)).status).toBe(200);
    } finally {
      await other.stop();
      await lostDatabase.close();
    }
  });
});
