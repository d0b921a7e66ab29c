/**
 * Deletes what only Wirefeed's own work reads once it is too old to matter: fetch attempts past their retention, and
 * the LSH band rows of items too old to be clustering candidates. Both grow with every fetch and every item (24 band
 * rows per item, each with two index entries); left alone, the band index outgrows the server's memory and every
 * store step's inserts and candidate probes slow down with it.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type Database, rowsOf, textArray } from '../db/client.js';
import type { RetentionSettings } from '../model/settings.js';

/** Taken per chunk: while one worker prunes, the others skip their turn instead of deleting the same rows. */
export const PRUNE_LOCK_KEY = 0x5769_7265_7072;

export interface PruneOptions {
  now?: Date;
  /** Items whose band rows one statement deletes at most (about 24 rows each). */
  chunkItems?: number;
  /** Sources whose old fetch attempts one statement deletes. */
  chunkSources?: number;
  /** Checked between chunks: a stopping worker does not wait for a long first prune. */
  signal?: AbortSignal;
}

export interface PruneResult {
  bandRows: number;
  fetchLogRows: number;
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

async function countDeleted(tx: Database, deletion: SQL): Promise<number> {
  const [row] = await rowsOf<{ count: number }>(tx, sql`with gone as (${deletion} returning 1) select count(*)::float8 as count from gone`);
  return row?.count ?? 0;
}

/**
 * Band rows of items first seen before `cutoff` whose time is before it too. A new item is compared with items within
 * 48 hours of its own time, so such rows only served items dated a retention ago. The first-seen test keeps the bands
 * of a new source's old items for a retention (other outlets' copies of them may still arrive); the time test keeps
 * those of an old item revised to a recent time. Walks the items' ids upward through the band index, one chunk of
 * items per statement, skipping ranges with no rows, up to the last item first seen before `cutoff` (ids grow with
 * first-seen times, to within a transaction's length: one that lags is pruned at a later turn).
 */
async function pruneBands(db: Database, cutoff: Date, chunkItems: number, signal?: AbortSignal): Promise<Pruned> {
  const at = sql`${cutoff.toISOString()}::timestamptz`;
  const [last] = await rowsOf<{ id: number }>(db, sql`select id::float8 as id from items where first_seen_at < ${at} order by first_seen_at desc limit 1`);
  if (!last) return { rows: 0, skipped: false };
  let deleted = 0;
  let after = 0;
  while (!signal?.aborted) {
    const [next] = await rowsOf<{ first: number | null }>(db, sql`select min(item_id)::float8 as first from item_bands where item_id > ${after}`);
    if (next?.first == null || next.first > last.id) break;
    const end = Math.min(next.first + chunkItems - 1, last.id);
    const removed = await underPruneLock(db, (tx) =>
      countDeleted(
        tx,
        // The id range on both sides: the planner does not carry a range across the join, and would read the items
        // from the first id on.
        sql`delete from item_bands b using items i
          where b.item_id between ${next.first} and ${end} and i.id between ${next.first} and ${end}
            and b.published_at < ${at} and i.id = b.item_id and i.first_seen_at < ${at}`,
      ),
    );
    if (removed === undefined) return { rows: deleted, skipped: true };
    deleted += removed;
    after = end;
  }
  return { rows: deleted, skipped: false };
}

/** Fetch attempts started before `cutoff`, a chunk of sources per statement (the log's index leads with the source). */
async function pruneFetchLog(db: Database, cutoff: Date, chunkSources: number, signal?: AbortSignal): Promise<Pruned> {
  const ids = (await rowsOf<{ id: string }>(db, sql`select id from sources order by id`)).map((row) => row.id);
  let deleted = 0;
  for (let start = 0; start < ids.length && !signal?.aborted; start += chunkSources) {
    const chunk = ids.slice(start, start + chunkSources);
    const removed = await underPruneLock(db, (tx) =>
      countDeleted(tx, sql`delete from fetch_log where source_id = any(${textArray(chunk)}) and started_at < ${cutoff.toISOString()}::timestamptz`),
    );
    if (removed === undefined) return { rows: deleted, skipped: true };
    deleted += removed;
  }
  return { rows: deleted, skipped: false };
}

/** Prunes the fetch log and the clustering bands by `retention`. */
export async function pruneStore(db: Database, retention: RetentionSettings, options: PruneOptions = {}): Promise<PruneResult> {
  const now = options.now ?? new Date();
  const before = (seconds: number) => new Date(now.getTime() - seconds * 1000);
  const bands = await pruneBands(db, before(retention.clusteringSeconds), options.chunkItems ?? 2_000, options.signal);
  if (bands.skipped) return { bandRows: bands.rows, fetchLogRows: 0, skipped: true };
  const fetchLog = await pruneFetchLog(db, before(retention.fetchLogSeconds), options.chunkSources ?? 100, options.signal);
  return { bandRows: bands.rows, fetchLogRows: fetchLog.rows, skipped: fetchLog.skipped };
}
