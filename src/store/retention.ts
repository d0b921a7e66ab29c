/**
 * Deletes what the store no longer needs: stories past `retention.items` with their items (each item's identity kept
 * as a tombstone), fetch attempts past their retention, and the LSH band rows of items too old to be clustering
 * candidates. Left alone, the items and their indexes grow with every new report, the band index (24 rows per item,
 * each with two index entries) outgrows the server's memory, and every store step's inserts and probes slow with it.
 */
import { type SQL, sql } from 'drizzle-orm';
import { arrayLiteral, type Database, pipelinedRows, rowsOf, textArray } from '../db/client.js';
import { type Progress, type ProgressFactory, silentProgress } from '../model/progress.js';
import type { RetentionSettings, SourceRetention } from '../model/settings.js';

/** Taken per chunk: while one worker prunes, the others skip their turn instead of deleting the same rows. */
export const PRUNE_LOCK_KEY = 0x5769_7265_7072;

export interface PruneOptions {
  now?: Date;
  /** Items whose band rows one statement deletes at most (about 24 rows each). */
  chunkItems?: number;
  /** Sources whose old fetch attempts one statement deletes. */
  chunkSources?: number;
  /** Archived identities one statement deletes. */
  chunkKeys?: number;
  /** Checked between chunks: a stopping worker does not wait for a long first prune. */
  signal?: AbortSignal;
  /** Progress of each part, for a command run by hand (`wirefeed prune`). */
  progress?: ProgressFactory;
}

export interface PruneResult {
  /** Items archived (deleted, their identities kept), and the stories that went with them. */
  itemRows: number;
  storyRows: number;
  bandRows: number;
  fetchLogRows: number;
  /** Archived items' identities deleted past `retention.archivedKeys`. */
  archivedKeyRows: number;
  /** Another process held the prune lock: what this one had not done yet is left to it (or to the next turn). */
  skipped: boolean;
}

/** What one table's prune deleted, and whether it stopped because another process held the lock. */
interface Pruned {
  rows: number;
  skipped: boolean;
}

/** One chunk in its own transaction under the prune lock: the rows it deleted, or undefined when the lock was taken. */
async function underPruneLock(db: Database, remove: (tx: Database) => Promise<number>): Promise<number | undefined> {
  return db.transaction(async (tx) => {
    const [lock] = await rowsOf<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${PRUNE_LOCK_KEY}) as locked`);
    return lock?.locked ? remove(tx) : undefined;
  });
}

/** A deletion as a statement answering how many rows it deleted (as `count`). */
const counted = (deletion: SQL) => sql`with gone as (${deletion} returning 1) select count(*)::float8 as count from gone`;

async function countDeleted(tx: Database, deletion: SQL): Promise<number> {
  const [row] = await rowsOf<{ count: number }>(tx, counted(deletion));
  return row?.count ?? 0;
}

/** Band row `b` of item `i` is past the clustering retention ending at `at`: first seen and dated before it. */
const expiredBand = (at: SQL) => sql`b.published_at < ${at} and i.first_seen_at < ${at}`;

/** The first id after `after` in the walk's table: ranges with no rows are skipped, not read. */
type NextId = (after: number) => SQL;

/** How a part of the prune runs: its stop signal, and its progress under `label`. */
interface WalkOptions {
  signal?: AbortSignal | undefined;
  progress?: ProgressFactory | undefined;
  label: string;
}

/**
 * Runs `remove` over the ids from the walk's first up to `lastId`, `chunk` ids per statement, each chunk in its own
 * transaction under the prune lock. Ids grow with first-seen times, to within a transaction's length: an item that
 * lags is pruned at a later turn.
 */
async function walkIds(
  db: Database,
  walk: { lastId: number; chunk: number; nextId: NextId; options: WalkOptions },
  remove: (tx: Database, first: number, last: number) => Promise<number>,
): Promise<Pruned> {
  const { signal, progress = silentProgress, label } = walk.options;
  let deleted = 0;
  let after = 0;
  let shown: Progress | undefined;
  while (!signal?.aborted) {
    const [next] = await rowsOf<{ first: number | null }>(db, walk.nextId(after));
    if (next?.first == null || next.first > walk.lastId) break;
    shown ??= progress(label, walk.lastId - next.first + 1, 'ids');
    const end = Math.min(next.first + walk.chunk - 1, walk.lastId);
    const removed = await underPruneLock(db, (tx) => remove(tx, next.first!, end));
    if (removed === undefined) {
      shown.finish();
      return { rows: deleted, skipped: true };
    }
    deleted += removed;
    shown.advance(end - Math.max(after, next.first - 1));
    after = end;
  }
  shown?.finish();
  return { rows: deleted, skipped: false };
}

/** The last item first seen before `at`: no item after it can be pruned by a cutoff of `at`. */
async function lastItemSeenBefore(db: Database, at: SQL): Promise<number | undefined> {
  const [last] = await rowsOf<{ id: number }>(
    db,
    sql`select id::float8 as id from items where first_seen_at < ${at} order by first_seen_at desc, id desc limit 1`,
  );
  return last?.id;
}

/**
 * Band rows of items first seen before `cutoff` whose time is before it too. A new item is compared with items within
 * 48 hours of its own time, so such rows only served items dated a retention ago. The first-seen test keeps the bands
 * of a new source's old items for a retention (other outlets' copies of them may still arrive); the time test keeps
 * those of an old item revised to a recent time.
 */
async function pruneBands(db: Database, cutoff: Date, chunkItems: number, options: PruneOptions): Promise<Pruned> {
  const at = sql`${cutoff.toISOString()}::timestamptz`;
  const lastId = await lastItemSeenBefore(db, at);
  if (lastId === undefined) return { rows: 0, skipped: false };
  const nextId: NextId = (after) => sql`select min(item_id)::float8 as first from item_bands where item_id > ${after}`;
  const walk = { lastId, chunk: chunkItems, nextId, options: { ...options, label: 'clustering bands' } };
  return walkIds(db, walk, (tx, first, last) =>
    countDeleted(
      tx,
      // The id range on both sides: the planner does not carry a range across the join, and would read the items
      // from the first id on.
      sql`delete from item_bands b using items i
        where b.item_id between ${first} and ${last} and i.id between ${first} and ${last}
          and i.id = b.item_id and ${expiredBand(at)}`,
    ),
  );
}

/**
 * When items may go: the store's cutoff (`retention.items` ago; none for never) and the cutoffs of sources with a
 * retention of their own (-infinity for never).
 */
interface ItemCutoffs {
  store: string;
  sourceIds: string[];
  ats: string[];
  /** The latest of them: no item first seen after it can go. Undefined when every cutoff is never. */
  latest?: Date;
}

function itemCutoffs(retention: RetentionSettings, now: Date): ItemCutoffs {
  const before = (seconds: number | null) => (seconds === null ? undefined : new Date(now.getTime() - seconds * 1000));
  const own = (retention.sources ?? []).filter((source) => source.itemsSeconds !== undefined);
  const store = before(retention.itemsSeconds);
  const dates = [store, ...own.map((source) => before(source.itemsSeconds!))].filter((date): date is Date => date !== undefined);
  const text = (date: Date | undefined) => date?.toISOString() ?? '-infinity';
  return {
    store: text(store),
    sourceIds: own.map((source) => source.sourceId),
    ats: own.map((source) => text(before(source.itemsSeconds!))),
    ...(dates.length > 0 ? { latest: new Date(Math.max(...dates.map((date) => date.getTime()))) } : {}),
  };
}

/** Whether the retention archives anything: the store's `items`, or a source's own, is not `never`. */
export const archivesItems = (retention: RetentionSettings): boolean => itemCutoffs(retention, new Date()).latest !== undefined;

/** Item `alias` was first seen, dated or revised at or after `at`: its story stays. */
function recentItem(alias: 'i' | 'j', at: SQL): SQL {
  const row = sql.raw(alias);
  return sql`(${row}.first_seen_at >= ${at} or ${row}.published_at >= ${at} or ${row}.updated_at >= ${at})`;
}

/**
 * The stories of the items in `range` (all items without one) archived now: neither an item of theirs nor any other
 * of their items is recent by its source's cutoff. Sources' own cutoffs are joined by hash, so that a prune with many
 * of them costs about what one without does (none: an empty join, as fast as the store's cutoff alone).
 */
function archivableStories(cutoffs: ItemCutoffs, range?: { first: number; last: number }): SQL {
  const store = sql`${cutoffs.store}::timestamptz`;
  const inRange = range ? sql`i.id between ${range.first} and ${range.last} and` : sql``;
  const own = (alias: 'ci' | 'cj') => sql`coalesce(${sql.raw(alias)}.at, ${store})`;
  return sql`with cutoffs as materialized (
      select * from unnest(${textArray(cutoffs.sourceIds)}, ${textArray(cutoffs.ats)}::timestamptz[]) as c(source_id, at))
    select distinct i.story_id from items i left join cutoffs ci on ci.source_id = i.source_id
    where ${inRange} not ${recentItem('i', own('ci'))}
      and not exists (select 1 from items j left join cutoffs cj on cj.source_id = j.source_id
        where j.story_id = i.story_id and ${recentItem('j', own('cj'))})`;
}

/** Where each listed source's newest items begin (sources not listed have fewer: all their items are kept). */
interface KeepCutoffs {
  sourceIds: string[];
  since: string[];
}

/**
 * Each source's `keep`-th newest item's time (a source's own keepPerSource, else the store's), read from the (source,
 * time) index once per prune rather than per chunk; none at all when no source keeps any. A source keeping none keeps
 * nothing by it (infinity). Read before the walk, a cutoff can only be older than the source's current one, which
 * keeps more, never less.
 */
async function keepCutoffs(db: Database, keep: number, sources: readonly SourceRetention[] = []): Promise<KeepCutoffs | undefined> {
  const own = sources.filter((source) => source.keepPerSource !== undefined);
  if (keep === 0 && own.every((source) => source.keepPerSource === 0)) return undefined;
  const ids = textArray(own.map((source) => source.sourceId));
  const counts = sql`${arrayLiteral(own.map((source) => source.keepPerSource!))}::int[]`;
  const rows = await rowsOf<{ id: string; since: string }>(
    db,
    sql`with keeps as (select s.id, coalesce(o.keep, ${keep}) as keep from sources s left join unnest(${ids}, ${counts}) as o(id, keep) using (id))
      select k.id, case when k.keep = 0 then 'infinity' else to_json(c.since) #>> '{}' end as since from keeps k
      left join lateral (select i.published_at as since from items i where i.source_id = k.id and k.keep > 0
        order by i.published_at desc offset greatest(k.keep - 1, 0) limit 1) c on true
      where k.keep = 0 or c.since is not null`,
  );
  return { sourceIds: rows.map((row) => row.id), since: rows.map((row) => row.since) };
}

/** The stories of `candidates` (a select of story_id) but those holding one of their sources' newest items. */
function beyondKeep(candidates: SQL, cutoffs: KeepCutoffs | undefined): SQL {
  if (!cutoffs) return candidates;
  return sql`with candidates as (${candidates}),
    members as (select m.story_id, m.source_id, m.published_at from items m where m.story_id in (select story_id from candidates)),
    cutoffs as (select * from unnest(${textArray(cutoffs.sourceIds)}, ${textArray(cutoffs.since)}::timestamptz[]) as c(source_id, since)),
    kept as (select m.story_id from members m left join cutoffs c using (source_id) where c.since is null or m.published_at >= c.since)
    select story_id from candidates except select story_id from kept`;
}

/** The rows one chunk of the item walk archived. */
interface Archived {
  items: number;
  stories: number;
}

/**
 * Archives the stories of this id range's items none of whose items was first seen, dated or revised after `at`
 * (nor is among its source's newest `keep`): their items are deleted and their dedup keys kept (archived_items), then
 * their topic entries (the topics marked changed, so feed servers render them again) and the stories themselves.
 */
async function archiveChunk(tx: Database, cutoffs: ItemCutoffs, keep: KeepCutoffs | undefined, first: number, last: number): Promise<Archived> {
  const stories = await rowsOf<{ story_id: string }>(tx, beyondKeep(archivableStories(cutoffs, { first, last }), keep));
  if (stories.length === 0) return { items: 0, stories: 0 };
  const ids = textArray(stories.map((row) => row.story_id));
  const [items, , gone] = await pipelinedRows(tx, [
    sql`with doomed as (select id, source_id, dedup_key from items where story_id = any(${ids})),
      kept as (insert into archived_items (dedup_key, source_id) select dedup_key, source_id from doomed on conflict do nothing),
      bands as (delete from item_bands where item_id in (select id from doomed)),
      gone as (delete from items where id in (select id from doomed) returning 1)
    select count(*)::float8 as count from gone`,
    sql`with entries as (delete from topic_stories where story_id = any(${ids}) returning topic_slug)
      update topics set changed_at = now() where slug in (select topic_slug from entries)`,
    counted(sql`delete from stories where id = any(${ids})`),
  ]);
  return { items: Number(items![0]!.count), stories: Number(gone![0]!.count) };
}

/** Archives stories past their items' cutoffs, walking their items' ids a chunk at a time (see archiveChunk). */
async function pruneItems(
  db: Database,
  retention: RetentionSettings,
  cutoffs: ItemCutoffs,
  chunkItems: number,
  options: PruneOptions,
): Promise<Pruned & { stories: number }> {
  let stories = 0;
  const lastId = cutoffs.latest && (await lastItemSeenBefore(db, sql`${cutoffs.latest.toISOString()}::timestamptz`));
  if (lastId === undefined) return { rows: 0, skipped: false, stories };
  const keep = await keepCutoffs(db, retention.keepPerSource, retention.sources);
  const nextId: NextId = (after) => sql`select min(id)::float8 as first from items where id > ${after}`;
  const walk = { lastId, chunk: chunkItems, nextId, options: { ...options, label: 'old stories' } };
  const pruned = await walkIds(db, walk, async (tx, first, last) => {
    const archived = await archiveChunk(tx, cutoffs, keep, first, last);
    stories += archived.stories;
    return archived.items;
  });
  return { ...pruned, stories };
}

/** Fetch attempts started before `cutoff`, a chunk of sources per statement (the log's index leads with the source). */
async function pruneFetchLog(db: Database, cutoff: Date, chunkSources: number, { signal, progress = silentProgress }: PruneOptions): Promise<Pruned> {
  const ids = (await rowsOf<{ id: string }>(db, sql`select id from sources order by id`)).map((row) => row.id);
  const shown = progress('fetch log', ids.length, 'sources');
  let deleted = 0;
  for (let start = 0; start < ids.length && !signal?.aborted; start += chunkSources) {
    const chunk = ids.slice(start, start + chunkSources);
    const removed = await underPruneLock(db, (tx) =>
      countDeleted(tx, sql`delete from fetch_log where source_id = any(${textArray(chunk)}) and started_at < ${cutoff.toISOString()}::timestamptz`),
    );
    if (removed === undefined) {
      shown.finish();
      return { rows: deleted, skipped: true };
    }
    deleted += removed;
    shown.advance(chunk.length);
  }
  shown.finish();
  return { rows: deleted, skipped: false };
}

/** Archived items' identities archived before `cutoff`, oldest first, `chunk` a statement (by the archive-time index). */
async function pruneArchivedKeys(db: Database, cutoff: Date, chunk: number, { signal, progress }: PruneOptions): Promise<Pruned> {
  const before = sql`archived_at < ${cutoff.toISOString()}::timestamptz`;
  // Counted only for a progress bar (`wirefeed prune`): the hourly housekeeping deletes without it.
  const due = progress ? await rowsOf<{ count: number }>(db, sql`select count(*)::float8 as count from archived_items where ${before}`) : [];
  const shown = (progress ?? silentProgress)('archived keys', due[0]?.count ?? 0, 'keys');
  let deleted = 0;
  while (!signal?.aborted) {
    const removed = await underPruneLock(db, (tx) =>
      countDeleted(
        tx,
        sql`delete from archived_items where dedup_key in (select dedup_key from archived_items where ${before} order by archived_at limit ${chunk})`,
      ),
    );
    if (removed === undefined) {
      shown.finish();
      return { rows: deleted, skipped: true };
    }
    deleted += removed;
    shown.advance(removed);
    if (removed < chunk) break;
  }
  shown.finish();
  return { rows: deleted, skipped: false };
}

/** What pruneStore would delete now, counted without deleting anything (`wirefeed prune --dry-run`). */
export async function pruneEstimate(db: Database, retention: RetentionSettings, now = new Date()): Promise<Omit<PruneResult, 'skipped'>> {
  const at = (seconds: number) => sql`${new Date(now.getTime() - seconds * 1000).toISOString()}::timestamptz`;
  const clustering = at(retention.clusteringSeconds);
  const cutoffs = itemCutoffs(retention, now);
  const archived = !cutoffs.latest
    ? sql`select 0::float8 as items, 0::float8 as stories`
    : sql`select count(*)::float8 as items, count(distinct story_id)::float8 as stories from items
          where story_id in (${beyondKeep(archivableStories(cutoffs), await keepCutoffs(db, retention.keepPerSource, retention.sources))})`;
  const keys =
    retention.archivedKeysSeconds === null
      ? sql`0::float8`
      : sql`(select count(*)::float8 from archived_items where archived_at < ${at(retention.archivedKeysSeconds)})`;
  const [row] = await rowsOf<{ items: number; stories: number; bands: number; fetches: number; keys: number }>(
    db,
    sql`select archived.items, archived.stories,
      (select count(*)::float8 from item_bands b join items i on i.id = b.item_id where ${expiredBand(clustering)}) as bands,
      (select count(*)::float8 from fetch_log where started_at < ${at(retention.fetchLogSeconds)}) as fetches,
      ${keys} as keys
    from (${archived}) as archived`,
  );
  return { itemRows: row!.items, storyRows: row!.stories, bandRows: row!.bands, fetchLogRows: row!.fetches, archivedKeyRows: row!.keys };
}

/**
 * Prunes the store by `retention`: old stories with their items, then the clustering bands, then the fetch log, then
 * the oldest archived identities (when `archivedKeys` says).
 */
export async function pruneStore(db: Database, retention: RetentionSettings, options: PruneOptions = {}): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const before = (seconds: number) => new Date(now.getTime() - seconds * 1000);
  const chunkItems = options.chunkItems ?? 2_000;
  const result: PruneResult = { itemRows: 0, storyRows: 0, bandRows: 0, fetchLogRows: 0, archivedKeyRows: 0, skipped: false };
  const cutoffs = itemCutoffs(retention, now);
  if (cutoffs.latest) {
    const items = await pruneItems(db, retention, cutoffs, chunkItems, options);
    Object.assign(result, { itemRows: items.rows, storyRows: items.stories, skipped: items.skipped });
    if (items.skipped) return result;
  }
  const bands = await pruneBands(db, before(retention.clusteringSeconds), chunkItems, options);
  Object.assign(result, { bandRows: bands.rows, skipped: bands.skipped });
  if (bands.skipped) return result;
  const fetchLog = await pruneFetchLog(db, before(retention.fetchLogSeconds), options.chunkSources ?? 100, options);
  Object.assign(result, { fetchLogRows: fetchLog.rows, skipped: fetchLog.skipped });
  if (fetchLog.skipped || retention.archivedKeysSeconds === null) return result;
  const keys = await pruneArchivedKeys(db, before(retention.archivedKeysSeconds), options.chunkKeys ?? 10_000, options);
  return { ...result, archivedKeyRows: keys.rows, skipped: keys.skipped };
}
