/**
 * The store's housekeeping: stories past retention.items go with their items (whose identities stay, so a feed that
 * still carries one does not bring it back), band rows of items past clustering and fetch attempts past their
 * retention are deleted, in chunks, by one process at a time; everything recent stays as it was.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type Database, rowsOf } from '../src/db/client.js';
import { sources } from '../src/db/schema.js';
import type { RetentionSettings } from '../src/model/settings.js';
import { storeItems } from '../src/store/items.js';
import { PRUNE_LOCK_KEY, type PruneResult, pruneEstimate, pruneStore } from '../src/store/retention.js';
import { type FetchRecord, recordFetches } from '../src/store/sources.js';
import { startWorker } from '../src/worker/scheduler.js';
import { normalizedRewrite, REWRITE_ITEMS } from './fixtures/wire-rewrites.js';
import { DEMO_CONFIG, demoConfigWith, openTestApp } from './helpers/app.js';
import { runCli, waitFor } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';

const testDatabase = useTestDatabase();
const DAY_MS = 86_400_000;
/** The time rules alone: no source's newest items are kept past them (keepPerSource has tests of its own). */
const RETENTION: RetentionSettings = {
  clusteringSeconds: 30 * 86_400,
  fetchLogSeconds: 30 * 86_400,
  itemsSeconds: 180 * 86_400,
  keepPerSource: 0,
  archivedKeysSeconds: null,
};

/** A prune that found nothing to delete. */
const NOTHING_PRUNED: PruneResult = { itemRows: 0, storyRows: 0, bandRows: 0, fetchLogRows: 0, archivedKeyRows: 0, skipped: false };

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
    expect(result).toEqual({ ...NOTHING_PRUNED, bandRows: before[old.guid] });
    expect(await bandCounts(db)).toEqual({ [old.guid]: 0, [revised.guid]: before[revised.guid], [backfilled.guid]: before[backfilled.guid] });
    expect(await counts()).toEqual(stored);
    expect(await pruneStore(db, RETENTION, { now })).toEqual(NOTHING_PRUNED);
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

  /** Rows of each table the item prune touches. */
  async function tableCounts(db: Database) {
    const [row] = await rowsOf<Record<string, number>>(
      db,
      sql`select (select count(*)::int from items) as items, (select count(*)::int from stories) as stories,
        (select count(*)::int from item_bands) as bands, (select count(*)::int from topic_stories) as entries,
        (select count(*)::int from archived_items) as archived`,
    );
    return row!;
  }

  /**
   * Two outlets' copies of each of three events, stored as one story each, all under one topic: `gone` first seen and
   * dated 200 days before now; `late`, the same age but for its second outlet's copy, first seen a day ago (a new
   * source's first fetch); `revised`, the same age but its first copy revised a day ago.
   */
  async function storeOldStories(db: Database) {
    const [gone, late, revised] = events;
    await addSources(db, ['wire', 'outlet']);
    await storeItems(db, 'wire', [gone![0]!, late![0]!, revised![0]!].map(normalizedRewrite));
    await storeItems(db, 'outlet', [gone![1]!, late![1]!, revised![1]!].map(normalizedRewrite));
    const shift = (guid: string, column: string, at: Date) =>
      db.execute(sql`update items set ${sql.raw(column)} = ${at.toISOString()}::timestamptz where guid = ${guid}`);
    for (const version of events.flat()) {
      for (const column of ['first_seen_at', 'published_at', 'updated_at']) await shift(version.guid, column, daysBefore(200));
    }
    await shift(late![1]!.guid, 'first_seen_at', daysBefore(1));
    await shift(revised![0]!.guid, 'updated_at', daysBefore(1));
    await db.execute(
      sql`insert into topics (slug, title, query, definition_hash, changed_at) values ('wire', 'Wire', 'japan', 'x', ${daysBefore(2).toISOString()}::timestamptz)`,
    );
    await db.execute(
      sql`insert into topic_stories (topic_slug, story_id, published_at) select distinct 'wire', story_id, ${daysBefore(200).toISOString()}::timestamptz from items`,
    );
    return { gone: gone!, late: late!, revised: revised! };
  }

  it('archives the stories none of whose items was first seen, dated or revised within retention.items', async () => {
    const { db } = testDatabase().handle;
    const { gone, late, revised } = await storeOldStories(db);
    const storyOf = async (guid: string) => (await rowsOf<{ story_id: string }>(db, sql`select story_id from items where guid = ${guid}`))[0]?.story_id;
    // Each event's two copies are one story.
    for (const versions of [gone, late, revised]) expect(await storyOf(versions[1]!.guid)).toBe(await storyOf(versions[0]!.guid));
    const before = await tableCounts(db);
    expect(before).toMatchObject({ items: 6, stories: 3, entries: 3, archived: 0 });

    // A chunk of one item per statement: a story is archived whole when its first item's chunk is reached.
    const result = await pruneStore(db, RETENTION, { now, chunkItems: 1 });
    expect(result).toMatchObject({ itemRows: 2, storyRows: 1, skipped: false });
    expect(await storyOf(gone[0]!.guid)).toBeUndefined();
    expect(await storyOf(gone[1]!.guid)).toBeUndefined();
    const after = await tableCounts(db);
    expect(after).toMatchObject({ items: 4, stories: 2, entries: 2, archived: 2 });
    // Their band rows went with them, and those of the kept items past clustering; the late copy keeps its own.
    const owners = await rowsOf<{ guid: string | null }>(db, sql`select distinct i.guid from item_bands b left join items i on i.id = b.item_id`);
    expect(owners).toEqual([{ guid: late[1]!.guid }]);
    const archived = await rowsOf<{ dedup_key: string; source_id: string }>(db, sql`select dedup_key, source_id from archived_items order by source_id`);
    expect(archived.map((row) => row.source_id)).toEqual(['outlet', 'wire']);
    // The topic that lost an entry is marked changed, so feed servers render it again.
    const [topic] = await rowsOf<{ changed: boolean }>(db, sql`select changed_at > now() - interval '1 hour' as changed from topics`);
    expect(topic!.changed).toBe(true);
    expect(await pruneStore(db, RETENTION, { now })).toMatchObject({ itemRows: 0, storyRows: 0 });
  });

  it('does not bring an archived item back when its feed still carries it, nor store a new copy of it', async () => {
    const { db } = testDatabase().handle;
    const { gone } = await storeOldStories(db);
    await pruneStore(db, RETENTION, { now });
    const before = await tableCounts(db);
    const refetch = await storeItems(db, 'wire', [normalizedRewrite(gone[0]!), normalizedRewrite({ ...gone[0]!, published: daysBefore(0) })]);
    expect(refetch).toMatchObject({ stored: [], revised: [], duplicates: 2 });
    // Another outlet linking the same page is the same item: its key is archived too.
    const other = await storeItems(db, 'outlet', [normalizedRewrite(gone[0]!)]);
    expect(other).toMatchObject({ stored: [], duplicates: 1 });
    expect(await tableCounts(db)).toEqual(before);
  });

  it('deletes archived keys past retention.archivedKeys, oldest first: an item its feed still carries then comes back', async () => {
    const { db } = testDatabase().handle;
    const { gone } = await storeOldStories(db);
    await pruneStore(db, RETENTION, { now });
    // The two archived copies' keys: one archived 400 days before now, the other 10.
    const keys = (await rowsOf<{ dedup_key: string }>(db, sql`select dedup_key from archived_items order by dedup_key`)).map((row) => row.dedup_key);
    expect(keys).toHaveLength(2);
    for (const [key, days] of [
      [keys[0]!, 400],
      [keys[1]!, 10],
    ] as const) {
      await db.execute(sql`update archived_items set archived_at = ${daysBefore(days).toISOString()}::timestamptz where dedup_key = ${key}`);
    }
    const retention = { ...RETENTION, archivedKeysSeconds: 365 * 86_400 };
    expect(await pruneEstimate(db, retention, now)).toMatchObject({ archivedKeyRows: 1 });
    expect(await pruneStore(db, RETENTION, { now })).toMatchObject({ archivedKeyRows: 0 }); // never, by default
    expect(await pruneStore(db, retention, { now, chunkKeys: 1 })).toMatchObject({ archivedKeyRows: 1, skipped: false });
    expect((await rowsOf<{ dedup_key: string }>(db, sql`select dedup_key from archived_items`)).map((row) => row.dedup_key)).toEqual([keys[1]]);
    // The feeds still carry both copies: the one whose key went is stored again, the other is still known.
    const wire = await storeItems(db, 'wire', [normalizedRewrite(gone[0]!)]);
    const outlet = await storeItems(db, 'outlet', [normalizedRewrite(gone[1]!)]);
    expect(wire.stored.length + outlet.stored.length).toBe(1);
    expect(wire.duplicates + outlet.duplicates).toBe(1);
  });

  // storeOldStories' items are all dated 200 days ago; these date some older, so that each source's newest differ.
  it.each([
    ['archives a story none of whose items is among its source newest', 2, { 'gone/0': 210, 'gone/1': 210 }, { items: 2, stories: 1 }],
    ['keeps a story one of whose copies is among its outlet newest', 2, { 'gone/0': 210, 'revised/1': 220 }, { items: 0, stories: 0 }],
    ['keeps every story of a source with fewer items than keepPerSource', 4, { 'gone/0': 210, 'gone/1': 210 }, { items: 0, stories: 0 }],
    ['keeps ties with the cutoff item', 3, { 'gone/0': 210, 'gone/1': 210 }, { items: 0, stories: 0 }],
    ['archives by time alone with keepPerSource 0', 0, {}, { items: 2, stories: 1 }],
  ])('keepPerSource: %s', async (_case, keepPerSource, olderDays: Record<string, number>, archived) => {
    const { db } = testDatabase().handle;
    const stories = await storeOldStories(db);
    for (const [version, days] of Object.entries(olderDays)) {
      const [event, copy] = version.split('/') as ['gone' | 'revised', string];
      const guid = stories[event][Number(copy)]!.guid;
      await db.execute(sql`update items set published_at = ${daysBefore(days).toISOString()}::timestamptz where guid = ${guid}`);
    }
    const retention = { ...RETENTION, keepPerSource };
    const estimate = await pruneEstimate(db, retention, now);
    expect(await pruneStore(db, retention, { now, chunkItems: 2 })).toMatchObject({ itemRows: archived.items, storyRows: archived.stories });
    expect(estimate).toMatchObject({ itemRows: archived.items, storyRows: archived.stories });
    expect(await tableCounts(db)).toMatchObject({ items: 6 - archived.items, stories: 3 - archived.stories, archived: archived.items });
  });

  // A source's own retention replaces the store's for its items; a story goes once every item of it may.
  it.each<[string, Partial<RetentionSettings>, Record<string, number | 'never'>, { items: number; stories: number }]>([
    ['both outlets by their own 180d, the store keeping all', { itemsSeconds: null }, { wire: 180, outlet: 180 }, { items: 2, stories: 1 }],
    ['one outlet by its own 180d, the other kept by the store', { itemsSeconds: null }, { wire: 180 }, { items: 0, stories: 0 }],
    ['an outlet that keeps everything holds its stories', {}, { outlet: 'never' }, { items: 0, stories: 0 }],
    ['an outlet kept longer than the store holds its stories', {}, { wire: 365 }, { items: 0, stories: 0 }],
    ['both outlets by their own 180d inside the store 365d', { itemsSeconds: 365 * 86_400 }, { wire: 180, outlet: 180 }, { items: 2, stories: 1 }],
    ['a source keeping its newest 3 holds them', {}, { 'wire:keep': 3 }, { items: 0, stories: 0 }],
    ['sources keeping none where the store keeps 4', { keepPerSource: 4 }, { 'wire:keep': 0, 'outlet:keep': 0 }, { items: 2, stories: 1 }],
    ['one source keeping none where the store keeps 4', { keepPerSource: 4 }, { 'wire:keep': 0 }, { items: 0, stories: 0 }],
  ])('a source retention: %s', async (_case, store, own, archived) => {
    const { db } = testDatabase().handle;
    await storeOldStories(db);
    const sources = ['wire', 'outlet'].flatMap((sourceId) => {
      const days = own[sourceId];
      const keep = own[`${sourceId}:keep`];
      if (days === undefined && keep === undefined) return [];
      return [
        {
          sourceId,
          ...(days !== undefined ? { itemsSeconds: days === 'never' ? null : days * 86_400 } : {}),
          ...(keep !== undefined ? { keepPerSource: Number(keep) } : {}),
        },
      ];
    });
    const retention: RetentionSettings = { ...RETENTION, ...store, sources };
    const estimate = await pruneEstimate(db, retention, now);
    expect(await pruneStore(db, retention, { now, chunkItems: 2 })).toMatchObject({ itemRows: archived.items, storyRows: archived.stories });
    expect(estimate).toMatchObject({ itemRows: archived.items, storyRows: archived.stories });
    expect(await tableCounts(db)).toMatchObject({ items: 6 - archived.items, stories: 3 - archived.stories, archived: archived.items });
  });

  it('keeps everything when retention.items is never', async () => {
    const { db } = testDatabase().handle;
    await storeOldStories(db);
    const before = await tableCounts(db);
    expect(await pruneStore(db, { ...RETENTION, itemsSeconds: null }, { now })).toMatchObject({ itemRows: 0, storyRows: 0 });
    expect(await tableCounts(db)).toMatchObject({ items: before.items, stories: before.stories, entries: before.entries, archived: 0 });
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
    expect(result).toEqual({ ...NOTHING_PRUNED, fetchLogRows: 3 });
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
    expect(await pruneStore(db, RETENTION, { now })).toEqual({ ...NOTHING_PRUNED, skipped: true });
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
    expect(await pruneStore(db, RETENTION, { now, signal: stopping.signal })).toEqual(NOTHING_PRUNED);
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

  /** The demo with each source's newest items archived like the rest (it has a few a source, all from 2024). */
  const archivingDemo = () => demoConfigWith({ 'retention.yml': 'retention:\n  keepPerSource: 0\n' });

  it('archives through ingest --once, and a later run reading the same feeds again stores nothing new', async () => {
    const { db } = testDatabase().handle;
    const config = archivingDemo();
    const ingest = async () => {
      const cli = runCli(['ingest', '--once', '--config', config], { DATABASE_URL: testDatabase().url, LOG_LEVEL: 'silent' });
      expect(await cli.exited, cli.output().stderr).toBe(0);
    };
    // The feeds' next fetches read every item again, as if each document had changed.
    const forgetDocuments = () => db.execute(sql`update sources set document_hash = null, document_item_hashes = null, etag = null, last_modified = null`);
    await ingest();
    const stored = (await tableCounts(db)).items;
    expect(stored).toBeGreaterThan(0);
    // The demo's items are dated 2024: first seen 200 days ago, every one is past the default retention of 180 days.
    await db.execute(sql`update items set first_seen_at = now() - interval '200 days'`);
    await forgetDocuments();
    await ingest();
    expect(await tableCounts(db)).toMatchObject({ items: 0, stories: 0, entries: 0, archived: stored });
    await forgetDocuments();
    await ingest();
    expect(await tableCounts(db)).toMatchObject({ items: 0, archived: stored });
    const [last] = await rowsOf<{ new: number; duplicates: number }>(
      db,
      sql`select sum(items_new)::int as new, sum(items_duplicate)::int as duplicates from fetch_log
        where started_at = (select max(started_at) from fetch_log l where l.source_id = fetch_log.source_id)`,
    );
    expect(last).toEqual({ new: 0, duplicates: stored });
  });

  it('is run at once by wirefeed prune, with progress, after --dry-run has said what would go', async () => {
    const { db } = testDatabase().handle;
    const env = { DATABASE_URL: testDatabase().url, LOG_LEVEL: 'silent' };
    const config = archivingDemo();
    const cli = async (args: string[]) => {
      const run = runCli([...args, '--config', config], env);
      expect(await run.exited, run.output().stderr).toBe(0);
      return run.output();
    };
    await cli(['ingest', '--once']);
    // The demo's items, dated 2024, first seen 200 days ago; a fetch attempt from 40 days ago.
    await db.execute(sql`update items set first_seen_at = now() - interval '200 days'`);
    await recordFetches(db, [fetchRecord('jiji-press', new Date(Date.now() - 40 * DAY_MS))]);
    const before = await tableCounts(db);

    const estimate = JSON.parse((await cli(['prune', '--dry-run', '--json'])).stdout);
    expect(estimate).toEqual({ itemRows: before.items, storyRows: before.stories, bandRows: before.bands, fetchLogRows: 1, archivedKeyRows: 0 });
    expect((await cli(['prune', '--dry-run'])).stdout).toBe(
      `would archive ${before.items} items of ${before.stories} stories; would delete ${before.bands} clustering band rows (the archived items' among them) and 1 fetch attempts\n`,
    );
    expect(await tableCounts(db)).toEqual(before);

    const pruned = await cli(['prune']);
    expect(pruned.stdout).toMatch(
      new RegExp(`^archived ${before.items} items of ${before.stories} stories; deleted 0 clustering band rows and 1 fetch attempts in \\d+\\.\\ds\\n$`),
    );
    expect(pruned.stderr).toMatch(/^old stories: 0\/\d+ ids/m);
    expect(await tableCounts(db)).toMatchObject({ items: 0, stories: 0, bands: 0, archived: before.items });
    expect(JSON.parse((await cli(['prune', '--json'])).stdout)).toMatchObject(NOTHING_PRUNED);

    // With retention.archivedKeys, the identities archived longer ago go too, and the line says how many.
    await db.execute(sql`update archived_items set archived_at = now() - interval '2 days'`);
    const keyed = runCli(['prune', '--config', demoConfigWith({ 'retention.yml': 'retention:\n  keepPerSource: 0\n  archivedKeys: 1d\n' })], env);
    expect(await keyed.exited, keyed.output().stderr).toBe(0);
    expect(keyed.output().stdout).toMatch(
      new RegExp(`^archived 0 items of 0 stories; deleted 0 clustering band rows, 0 fetch attempts and ${before.items} archived keys in \\d+\\.\\ds\\n$`),
    );
    expect(await tableCounts(db)).toMatchObject({ archived: 0 });
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
