/**
 * The store's housekeeping: band rows of items past clustering and fetch attempts past their retention are deleted,
 * in chunks, by one process at a time; items, stories and everything recent stay as they were.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type Database, rowsOf } from '../src/db/client.js';
import { sources } from '../src/db/schema.js';
import type { RetentionSettings } from '../src/model/settings.js';
import { storeItems } from '../src/store/items.js';
import { PRUNE_LOCK_KEY, pruneStore } from '../src/store/retention.js';
import { type FetchRecord, recordFetches } from '../src/store/sources.js';
import { startWorker } from '../src/worker/scheduler.js';
import { normalizedRewrite, REWRITE_ITEMS } from './fixtures/wire-rewrites.js';
import { DEMO_CONFIG, openTestApp } from './helpers/app.js';
import { runCli, waitFor } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';

const testDatabase = useTestDatabase();
const DAY_MS = 86_400_000;
const RETENTION: RetentionSettings = { clusteringSeconds: 30 * 86_400, fetchLogSeconds: 30 * 86_400 };

/** The first two outlets' versions of each of the first three events that have two. */
const events = [...new Set(REWRITE_ITEMS.map((item) => item.event))]
  .map((event) => REWRITE_ITEMS.filter((item) => item.event === event))
  .filter((versions) => versions.length >= 2)
  .slice(0, 3);
/** "Now" for the prune: 40 days after the newest of those versions. */
const now = new Date(Math.max(...events.flat().map((item) => item.published.getTime())) + 40 * DAY_MS);
const daysBefore = (days: number) => new Date(now.getTime() - days * DAY_MS);

async function addSources(db: Database, ids: string[]) {
  await db.insert(sources).values(ids.map((id) => ({ id, url: `https://${id}.example/feed.xml`, pollSeconds: 900 })));
}

async function bandCounts(db: Database): Promise<Record<string, number>> {
  const rows = await rowsOf<{ guid: string; bands: number }>(
    db,
    sql`select i.guid, count(b.item_id)::int as bands from items i left join item_bands b on b.item_id = i.id group by i.guid`,
  );
  return Object.fromEntries(rows.map((row) => [row.guid, row.bands]));
}

const fetchRecord = (sourceId: string, startedAt: Date): FetchRecord => ({
  sourceId,
  startedAt,
  durationMs: 5,
  outcome: 'ok',
  itemsNew: 0,
  itemsDuplicate: 0,
  nextCheckAt: now,
  state: {},
});

describe('store retention', () => {
  /**
   * Three first versions stored: `old` first seen and dated 40 days before now; `revised` first seen then but revised
   * to a day ago; `backfilled` dated then but first seen a day ago (a new source's first fetch).
   */
  async function storeAged(db: Database) {
    const [old, revised, backfilled] = events.map((versions) => versions[0]!);
    await addSources(db, ['wire', 'outlet']);
    await storeItems(db, 'wire', [old!, revised!, backfilled!].map(normalizedRewrite));
    const age = (item: typeof old, firstSeen: Date) => sql`update items set first_seen_at = ${firstSeen.toISOString()}::timestamptz where guid = ${item!.guid}`;
    await db.execute(age(old, old!.published));
    await db.execute(age(revised, revised!.published));
    await db.execute(
      sql`update item_bands set published_at = ${daysBefore(1).toISOString()}::timestamptz where item_id = (select id from items where guid = ${revised!.guid})`,
    );
    await db.execute(age(backfilled, daysBefore(1)));
    return { old: old!, revised: revised!, backfilled: backfilled! };
  }

  it('deletes the band rows of items first seen and dated before the retention, and nothing else', async () => {
    const { db } = testDatabase().handle;
    const { old, revised, backfilled } = await storeAged(db);
    const before = await bandCounts(db);
    expect(Object.values(before).every((count) => count > 0)).toBe(true);
    const counts = async () =>
      (
        await rowsOf<{ items: number; stories: number }>(
          db,
          sql`select (select count(*)::int from items) as items, (select count(*)::int from stories) as stories`,
        )
      )[0];
    const stored = await counts();

    // A chunk of one item per statement: the walk over the ids must reach every item.
    const result = await pruneStore(db, RETENTION, { now, chunkItems: 1 });
    expect(result).toEqual({ bandRows: before[old.guid], fetchLogRows: 0, skipped: false });
    expect(await bandCounts(db)).toEqual({ [old.guid]: 0, [revised.guid]: before[revised.guid], [backfilled.guid]: before[backfilled.guid] });
    expect(await counts()).toEqual(stored);
    expect(await pruneStore(db, RETENTION, { now })).toEqual({ bandRows: 0, fetchLogRows: 0, skipped: false });
  });

  it('keeps clustering what it keeps: a backfilled story still gathers its outlets, a pruned one no longer does', async () => {
    const { db } = testDatabase().handle;
    const { old, backfilled } = await storeAged(db);
    await pruneStore(db, RETENTION, { now });
    const copyOf = (first: typeof old) => events.find((versions) => versions[0] === first)![1]!;
    const storyOf = async (guid: string) => (await rowsOf<{ story_id: string }>(db, sql`select story_id from items where guid = ${guid}`))[0]!.story_id;
    await storeItems(db, 'outlet', [copyOf(backfilled), copyOf(old)].map(normalizedRewrite));
    expect(await storyOf(copyOf(backfilled).guid)).toBe(await storyOf(backfilled.guid));
    // The price of the retention: a copy dated with a story 40 days old starts a story of its own.
    expect(await storyOf(copyOf(old).guid)).not.toBe(await storyOf(old.guid));
  });

  it('deletes fetch attempts started before the retention, source by source', async () => {
    const { db } = testDatabase().handle;
    await addSources(db, ['a', 'b', 'c']);
    await recordFetches(db, [
      fetchRecord('a', daysBefore(45)),
      fetchRecord('a', daysBefore(31)),
      fetchRecord('a', daysBefore(29)),
      fetchRecord('b', daysBefore(60)),
      fetchRecord('c', daysBefore(1)),
    ]);
    const result = await pruneStore(db, RETENTION, { now, chunkSources: 1 });
    expect(result).toEqual({ bandRows: 0, fetchLogRows: 3, skipped: false });
    const left = await rowsOf<{ source_id: string; days: number }>(
      db,
      sql`select source_id, round(extract(epoch from ${now.toISOString()}::timestamptz - started_at) / 86400)::int as days from fetch_log order by source_id`,
    );
    expect(left).toEqual([
      { source_id: 'a', days: 29 },
      { source_id: 'c', days: 1 },
    ]);
  });

  it('leaves the work to a process that is already pruning', async () => {
    const { handle } = testDatabase();
    const { db } = handle;
    const { old } = await storeAged(db);
    await recordFetches(db, [fetchRecord('wire', daysBefore(40))]);
    let release!: () => void;
    const released = new Promise<void>((done) => (release = done));
    let held!: () => void;
    const holding = new Promise<void>((done) => (held = done));
    const other = db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${PRUNE_LOCK_KEY})`);
      held();
      await released;
    });
    await holding;
    expect(await pruneStore(db, RETENTION, { now })).toEqual({ bandRows: 0, fetchLogRows: 0, skipped: true });
    release();
    await other;
    const result = await pruneStore(db, RETENTION, { now });
    expect(result.skipped).toBe(false);
    expect(result.fetchLogRows).toBe(1);
    expect((await bandCounts(db))[old.guid]).toBe(0);
  });

  it('stops before its next chunk once its signal is aborted, and a later turn finishes the work', async () => {
    const { db } = testDatabase().handle;
    const { old } = await storeAged(db);
    await recordFetches(db, [fetchRecord('wire', daysBefore(40))]);
    const stopping = new AbortController();
    stopping.abort();
    expect(await pruneStore(db, RETENTION, { now, signal: stopping.signal })).toEqual({ bandRows: 0, fetchLogRows: 0, skipped: false });
    expect((await bandCounts(db))[old.guid]).toBeGreaterThan(0);
    const finished = await pruneStore(db, RETENTION, { now });
    expect(finished.fetchLogRows).toBe(1);
    expect((await bandCounts(db))[old.guid]).toBe(0);
  });

  it('is run by ingest --once at its end', async () => {
    const { db } = testDatabase().handle;
    // The demo's sources, as the command will sync them; one has a fetch attempt from 40 days ago.
    await addSources(db, ['jiji-press']);
    await recordFetches(db, [fetchRecord('jiji-press', new Date(Date.now() - 40 * DAY_MS))]);
    const cli = runCli(['ingest', '--once', '--config', DEMO_CONFIG], { DATABASE_URL: testDatabase().url, LOG_LEVEL: 'silent' });
    expect(await cli.exited, cli.output().stderr).toBe(0);
    const [old] = await rowsOf<{ count: number }>(db, sql`select count(*)::int as count from fetch_log where started_at < now() - interval '1 day'`);
    expect(old!.count).toBe(0);
    const [recent] = await rowsOf<{ count: number }>(db, sql`select count(*)::int as count from fetch_log`);
    expect(recent!.count).toBe(4);
  });

  it('is run by a worker beside its ticks, which counts what it deleted', async () => {
    const { handle } = testDatabase();
    const app = await openTestApp(handle);
    const sourceId = app.config.sources[0]!.id;
    // Dated by the clock: the worker prunes as of now.
    await recordFetches(handle.db, [fetchRecord(sourceId, new Date(Date.now() - 40 * DAY_MS)), fetchRecord(sourceId, new Date())]);
    const worker = startWorker(app, { housekeeping: { firstMs: 10, everyMs: 60_000 } });
    const prunedFetches = async () => (await app.metrics.prunedRows.get()).values.find((value) => value.labels.table === 'fetch_log')?.value;
    try {
      expect(await waitFor(prunedFetches)).toBe(1);
    } finally {
      await worker.stop();
      await app.close();
    }
    const [old] = await rowsOf<{ count: number }>(
      handle.db,
      sql`select count(*)::int as count from fetch_log where source_id = ${sourceId} and started_at < now() - interval '1 day'`,
    );
    expect(old!.count).toBe(0);
  });
});
