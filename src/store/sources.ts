import { and, asc, desc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { arrayLiteral, type Database, jsonRows, pipelinedRows, rowsOf } from '../db/client.js';
import { fetchLog, sources } from '../db/schema.js';
import type { AlertState } from '../model/alerts.js';
import { stripXmlForbidden } from '../model/escape.js';
import { QUIET_RULE, type Quiet, type SourcePace, withQuiet } from '../model/quiet.js';
import type { RecentItems, Source } from '../model/source.js';
import { byCodeUnits } from '../model/text.js';

/** Rows per insert of new sources (five parameters each). */
const NEW_SOURCES_PER_INSERT = 1_000;

/** The config fields a source row keeps, as the config gives them. */
const configFields = (source: Source) => ({ url: source.url, title: source.title ?? null, pollSeconds: source.pollSeconds, priority: source.priority });

/**
 * Inserts new sources and refreshes the config fields of known ones. A source whose URL changed in the config starts
 * afresh: its validators, moved URL, gone mark and error count belong to the old URL. Sources whose config fields did
 * not change are not written (a start or a reload of a thousand sources reads one page of rows); new ones are inserted
 * in id order, a thousand a statement.
 */
export async function syncSources(db: Database, configured: readonly Source[]): Promise<void> {
  const known = new Map(
    (
      await db.select({ id: sources.id, url: sources.url, title: sources.title, pollSeconds: sources.pollSeconds, priority: sources.priority }).from(sources)
    ).map((row) => [row.id, row]),
  );
  const fresh = configured.filter((source) => !known.has(source.id)).sort((a, b) => byCodeUnits(a.id, b.id));
  const inserted = new Set<string>();
  for (let start = 0; start < fresh.length; start += NEW_SOURCES_PER_INSERT) {
    const rows = await db
      .insert(sources)
      .values(fresh.slice(start, start + NEW_SOURCES_PER_INSERT).map((source) => ({ id: source.id, ...configFields(source) })))
      .onConflictDoNothing()
      .returning({ id: sources.id });
    for (const { id } of rows) inserted.add(id);
  }
  // Known sources whose fields changed, and new ones another process inserted first: one row per statement, as a
  // worker renewing its leases meanwhile locks rows in its own order (a statement locking many could deadlock with it).
  const changed = configured.filter((source) => {
    if (inserted.has(source.id)) return false;
    const row = known.get(source.id);
    return !row || Object.entries(configFields(source)).some(([field, value]) => row[field as keyof typeof row] !== value);
  });
  for (const source of changed) {
    const values = configFields(source);
    const urlChanged = sql`${sources.url} <> excluded.url`;
    const resetIfMoved = <T>(column: unknown, fresh: T) => sql`case when ${urlChanged} then ${fresh} else ${column} end`;
    await db
      .insert(sources)
      .values({ id: source.id, ...values })
      .onConflictDoUpdate({
        target: sources.id,
        set: {
          ...values,
          fetchUrl: resetIfMoved(sources.fetchUrl, sql`null`),
          etag: resetIfMoved(sources.etag, sql`null`),
          lastModified: resetIfMoved(sources.lastModified, sql`null`),
          redirectTarget: resetIfMoved(sources.redirectTarget, sql`null`),
          redirectCount: resetIfMoved(sources.redirectCount, sql`0`),
          goneAt: resetIfMoved(sources.goneAt, sql`null`),
          errorCount: resetIfMoved(sources.errorCount, sql`0`),
          documentHash: resetIfMoved(sources.documentHash, sql`null`),
          documentItemHashes: resetIfMoved(sources.documentItemHashes, sql`null`),
          nextCheckAt: resetIfMoved(sources.nextCheckAt, sql`now()`),
        },
      });
  }
}

export type SourceState = Pick<
  typeof sources.$inferSelect,
  | 'etag'
  | 'lastModified'
  | 'fetchUrl'
  | 'redirectTarget'
  | 'redirectCount'
  | 'errorCount'
  | 'goneAt'
  | 'documentHash'
  | 'documentItems'
  | 'documentSchedule'
  | 'documentItemHashes'
>;

/** The fetch state of sources about to be fetched, read in one query. */
export async function sourceStates(db: Database, sourceIds: readonly string[]): Promise<Map<string, SourceState>> {
  if (sourceIds.length === 0) return new Map();
  const rows = await db
    .select({
      id: sources.id,
      etag: sources.etag,
      lastModified: sources.lastModified,
      fetchUrl: sources.fetchUrl,
      redirectTarget: sources.redirectTarget,
      redirectCount: sources.redirectCount,
      errorCount: sources.errorCount,
      goneAt: sources.goneAt,
      documentHash: sources.documentHash,
      documentItems: sources.documentItems,
      documentSchedule: sources.documentSchedule,
      documentItemHashes: sources.documentItemHashes,
    })
    .from(sources)
    .where(sql`${sources.id} = any(${arrayLiteral(sourceIds)}::text[])`);
  return new Map(rows.map(({ id, ...state }) => [id, state]));
}

/**
 * Each source's items dated in the `windowSeconds` up to `now` (how many, the oldest), and whether it has any: what
 * `every: auto` reads a source's pace from. Index range scans of items by source and time.
 */
export async function recentItems(db: Database, sourceIds: readonly string[], now: Date, windowSeconds: number): Promise<Map<string, RecentItems>> {
  if (sourceIds.length === 0) return new Map();
  const since = new Date(now.getTime() - windowSeconds * 1000).toISOString();
  const rows = await rowsOf<{ id: string; count: number; oldest: string | null; any_stored: boolean }>(
    db,
    sql`select s.id, r.count, r.oldest, exists (select 1 from items i where i.source_id = s.id) as any_stored
        from unnest(${arrayLiteral(sourceIds)}::text[]) as s(id)
        cross join lateral (
          select count(*)::int as count, min(i.published_at) as oldest from items i
          where i.source_id = s.id and i.published_at > ${since}::timestamptz and i.published_at <= ${now.toISOString()}::timestamptz) r`,
  );
  return new Map(rows.map((row) => [row.id, { count: row.count, oldest: row.oldest === null ? null : new Date(row.oldest), anyStored: row.any_stored }]));
}

/**
 * Each source's pace (QUIET_RULE's window of items up to its newest, by their dates), for those of `sourceIds` that
 * hold an item: two index range scans per source (its newest item, then the window), the gaps by a window function.
 */
export async function sourcePaces(db: Database, sourceIds: readonly string[]): Promise<Map<string, SourcePace>> {
  if (sourceIds.length === 0) return new Map();
  const rows = await rowsOf<{ id: string; count: number; oldest: string; newest: string; longest: number }>(
    db,
    sql`select s.id, w.count, w.oldest, n.newest, w.longest
        from unnest(${arrayLiteral(sourceIds)}::text[]) as s(id)
        cross join lateral (select max(i.published_at) as newest from items i where i.source_id = s.id) n
        cross join lateral (
          select count(*)::int as count, min(g.published_at) as oldest, coalesce(extract(epoch from max(g.gap)), 0)::float8 as longest
          from (select i.published_at, i.published_at - lag(i.published_at) over (order by i.published_at) as gap from items i
                where i.source_id = s.id and i.published_at > n.newest - make_interval(secs => ${QUIET_RULE.windowSeconds})) g) w
        where n.newest is not null`,
  );
  return new Map(
    rows.map((row) => [
      row.id,
      { count: row.count, oldest: new Date(row.oldest), newest: new Date(row.newest), longestGapSeconds: Math.round(Number(row.longest)) },
    ]),
  );
}

/**
 * Leases up to `limit` due sources for `owner`. FOR UPDATE SKIP LOCKED lets any number of workers claim at once
 * without taking the same source; a lease that expires (a crashed worker) makes the source claimable again.
 * Gone sources are never claimed.
 */
export async function claimDueSources(db: Database, options: { owner: string; sourceIds: string[]; limit: number; leaseSeconds: number }): Promise<string[]> {
  if (options.sourceIds.length === 0) return [];
  const due = db
    .select({ id: sources.id })
    .from(sources)
    .where(
      and(
        inArray(sources.id, options.sourceIds),
        isNull(sources.goneAt),
        lte(sources.nextCheckAt, sql`now()`),
        or(isNull(sources.leaseUntil), lte(sources.leaseUntil, sql`now()`)),
      ),
    )
    .orderBy(asc(sources.nextCheckAt))
    .limit(options.limit)
    .for('update', { skipLocked: true });
  const claimed = await db
    .update(sources)
    .set({ leaseOwner: options.owner, leaseUntil: sql`now() + make_interval(secs => ${options.leaseSeconds})` })
    .where(inArray(sources.id, due))
    .returning({ id: sources.id });
  return claimed.map((row) => row.id);
}

/**
 * Extends `owner`'s lease on a source it is about to fetch. False when the lease is no longer its own: it ran out
 * while the source waited, and another worker claimed the source (or it was released).
 */
export async function renewLease(db: Database, lease: { sourceId: string; owner: string; leaseSeconds: number }): Promise<boolean> {
  const renewed = await db
    .update(sources)
    .set({ leaseUntil: sql`now() + make_interval(secs => ${lease.leaseSeconds})` })
    .where(and(eq(sources.id, lease.sourceId), eq(sources.leaseOwner, lease.owner)))
    .returning({ id: sources.id });
  return renewed.length === 1;
}

/**
 * The worker's heartbeat: extends every lease `owner` still holds (sources claimed and not yet recorded, waiting or
 * in flight). Returns how many. A worker that dies stops renewing, and its sources are free a lease later.
 */
export async function renewLeases(db: Database, lease: { owner: string; leaseSeconds: number }): Promise<number> {
  // Rows a store transaction holds are skipped, never waited for: it is recording their fetch (which ends the lease),
  // and waiting while it waits on a row this statement locked would deadlock.
  const renewed = await rowsOf<{ id: string }>(
    db,
    sql`update sources set lease_until = now() + make_interval(secs => ${lease.leaseSeconds})
        where id in (select id from sources where lease_owner = ${lease.owner} for update skip locked)
        returning id`,
  );
  return renewed.length;
}

/** Gives up every lease `owner` holds (a worker shutting down), so other workers may claim those sources at once. */
export async function releaseLeases(db: Database, owner: string): Promise<number> {
  const released = await db.update(sources).set({ leaseOwner: null, leaseUntil: null }).where(eq(sources.leaseOwner, owner)).returning({ id: sources.id });
  return released.length;
}

export interface FetchRecord {
  sourceId: string;
  startedAt: Date;
  durationMs: number;
  outcome: 'ok' | 'not-modified' | 'failed' | 'gone';
  httpStatus?: number;
  bytes?: number;
  itemsNew: number;
  itemsDuplicate: number;
  error?: string;
  nextCheckAt: Date;
  /** The source's state after this fetch: validators (only once the items are stored), redirects, errors. */
  state: Partial<SourceState>;
  siteUrl?: string;
}

/** Error messages quote what a source sent: kept storable (no NUL) and short, so recording a failure cannot fail. */
const MAX_ERROR_CHARS = 2_000;
const storableMessage = (text: string | undefined) => (text === undefined ? null : stripXmlForbidden(text).slice(0, MAX_ERROR_CHARS));

/** Where each field of SourceState lives, and its type: a record's state sets only the fields it names. */
const STATE_COLUMNS: Record<keyof SourceState, [column: string, type: 'text' | 'int' | 'timestamptz' | 'jsonb']> = {
  etag: ['etag', 'text'],
  lastModified: ['last_modified', 'text'],
  fetchUrl: ['fetch_url', 'text'],
  redirectTarget: ['redirect_target', 'text'],
  redirectCount: ['redirect_count', 'int'],
  errorCount: ['error_count', 'int'],
  goneAt: ['gone_at', 'timestamptz'],
  documentHash: ['document_hash', 'text'],
  documentItems: ['document_items', 'int'],
  documentSchedule: ['document_schedule', 'jsonb'],
  documentItemHashes: ['document_item_hashes', 'jsonb'],
};
const SET_STATE = sql.raw(
  Object.entries(STATE_COLUMNS)
    .map(([key, [column, type]]) => {
      const value = type === 'jsonb' ? `nullif(r.state->'${key}', 'null')` : `(r.state->>'${key}')::${type}`;
      return `${column} = case when r.state ? '${key}' then ${value} else s.${column} end`;
    })
    .join(', '),
);

/**
 * Writes the fetch-log rows and the sources' new states, and releases their leases: two statements for any number
 * of records. Of two records of one source, the later one sets its state.
 */
export async function recordFetches(db: Database, records: readonly FetchRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map((record) => ({
    source_id: record.sourceId,
    started_at: record.startedAt,
    duration_ms: Math.round(record.durationMs),
    outcome: record.outcome,
    http_status: record.httpStatus ?? null,
    bytes: record.bytes ?? null,
    items_new: record.itemsNew,
    items_duplicate: record.itemsDuplicate,
    error: storableMessage(record.error),
    next_check_at: record.nextCheckAt,
    site_url: record.siteUrl ? stripXmlForbidden(record.siteUrl).slice(0, MAX_ERROR_CHARS) : null,
    state: record.state,
  }));
  const latest = [...new Map(rows.map((row) => [row.source_id, row])).values()];
  await pipelinedRows(db, [
    sql`
    insert into fetch_log (source_id, started_at, duration_ms, outcome, http_status, bytes, items_new, items_duplicate, error)
    select source_id, started_at, duration_ms, outcome, http_status, bytes, items_new, items_duplicate, error
    from json_to_recordset(${jsonRows(rows)}) as r(source_id text, started_at timestamptz, duration_ms int, outcome text,
      http_status int, bytes int, items_new int, items_duplicate int, error text)`,
    sql`
    update sources s set ${SET_STATE}, last_fetched_at = r.started_at, last_status = r.outcome, last_error = r.error,
      next_check_at = r.next_check_at, lease_owner = null, lease_until = null, site_url = coalesce(r.site_url, s.site_url)
    from json_to_recordset(${jsonRows(latest)}) as r(source_id text, started_at timestamptz, outcome text, error text,
      next_check_at timestamptz, site_url text, state jsonb)
    where s.id = r.source_id`,
  ]);
}

/** A source's fetch state as the index summarizes it: no counting of its items. */
export interface SourceCondition {
  id: string;
  title: string | null;
  url: string;
  fetchUrl: string | null;
  lastFetchedAt: Date | null;
  lastStatus: string | null;
  lastError: string | null;
  errorCount: number;
  nextCheckAt: Date;
  goneAt: Date | null;
}

export interface SourceHealth extends SourceCondition {
  items: number;
  /** Its WebSub subscription (fetch.websub), if it has one: its state, hub, lease and last push (ISO times). */
  push: { state: string; hub: string; leaseUntil: string | null; pushedAt: string | null } | null;
}

const CONDITION_COLUMNS = {
  id: sources.id,
  title: sources.title,
  url: sources.url,
  fetchUrl: sources.fetchUrl,
  lastFetchedAt: sources.lastFetchedAt,
  lastStatus: sources.lastStatus,
  lastError: sources.lastError,
  errorCount: sources.errorCount,
  nextCheckAt: sources.nextCheckAt,
  goneAt: sources.goneAt,
};

/** Every source's fetch state, one row each from the sources table: cheap enough for every index page. */
export async function sourceConditions(db: Database): Promise<SourceCondition[]> {
  return db.select(CONDITION_COLUMNS).from(sources).orderBy(asc(sources.id));
}

/** Every source's fetch state with what `worker.alerts` last said of it. */
async function alertConditions(db: Database): Promise<Array<SourceCondition & { alerted: AlertState | null }>> {
  return db
    .select({ ...CONDITION_COLUMNS, alerted: sources.alertedState })
    .from(sources)
    .orderBy(asc(sources.id));
}

/**
 * Records what was alerted of each source, only where its row still says what the alert was made from (ok stored as
 * null): two workers finding the same change both try, one wins and sends it. Returns the ids it set.
 */
export async function markAlerted(db: Database, changes: ReadonlyArray<{ sourceId: string; from: AlertState; to: AlertState }>): Promise<Set<string>> {
  if (changes.length === 0) return new Set();
  const rows = await rowsOf<{ id: string }>(
    db,
    sql`update sources s set alerted_state = nullif(c.to_state, 'ok')
        from json_to_recordset(${jsonRows(changes.map(({ sourceId, from, to }) => ({ source_id: sourceId, from_state: from, to_state: to })))})
          as c(source_id text, from_state text, to_state text)
        where s.id = c.source_id and coalesce(s.alerted_state, 'ok') = c.from_state
        returning s.id`,
  );
  return new Set(rows.map((row) => row.id));
}

/** Every source (or those of `ids`) with its health and item count, for `wirefeed sources` and the sources page. */
export async function sourceHealth(db: Database, ids?: readonly string[]): Promise<SourceHealth[]> {
  const rows = await db
    .select({
      ...CONDITION_COLUMNS,
      items: sql<number>`(select count(*) from items where items.source_id = sources.id)::int`,
      push: sql<SourceHealth['push']>`(select json_build_object('state', p.state, 'hub', p.hub, 'leaseUntil', p.lease_until, 'pushedAt', p.pushed_at)
        from push_subscriptions p where p.source_id = sources.id)`,
    })
    .from(sources)
    .where(ids ? inArray(sources.id, [...ids]) : undefined)
    .orderBy(asc(sources.id));
  return rows.map((row) => ({ ...row, items: Number(row.items) }));
}

/** Rows about sources, each with its pace where it holds items (what judging it quiet needs). */
async function withPaces<T extends { id: string }>(db: Database, rows: readonly T[]): Promise<Array<T & { pace?: SourcePace }>> {
  const paces = await sourcePaces(
    db,
    rows.map((row) => row.id),
  );
  return rows.map((row) => (paces.has(row.id) ? { ...row, pace: paces.get(row.id)! } : row));
}

/** sourceHealth's rows, each with its pace. */
export async function sourceHealthWithPace(db: Database, ids?: readonly string[]): Promise<Array<SourceHealth & { pace?: SourcePace }>> {
  return withPaces(db, await sourceHealth(db, ids));
}

/** One fetch attempt of a source, as the fetch log keeps it. */
export interface FetchAttempt {
  startedAt: Date;
  durationMs: number;
  outcome: string;
  httpStatus: number | null;
  bytes: number | null;
  itemsNew: number;
  itemsDuplicate: number;
  error: string | null;
}

/** A source's newest `limit` fetch attempts, newest first (the fetch log keeps `retention.fetchLog` of them). */
export async function fetchHistory(db: Database, sourceId: string, limit: number): Promise<FetchAttempt[]> {
  return db
    .select({
      startedAt: fetchLog.startedAt,
      durationMs: fetchLog.durationMs,
      outcome: fetchLog.outcome,
      httpStatus: fetchLog.httpStatus,
      bytes: fetchLog.bytes,
      itemsNew: fetchLog.itemsNew,
      itemsDuplicate: fetchLog.itemsDuplicate,
      error: fetchLog.error,
    })
    .from(fetchLog)
    .where(eq(fetchLog.sourceId, sourceId))
    .orderBy(desc(fetchLog.startedAt))
    .limit(limit);
}

/**
 * The fetch states of `active` (configured sources, none paused), each judged quiet or not by its pace or its own
 * `quietAfter`, with what `worker.alerts` last said of it.
 */
export async function judgedSources(
  db: Database,
  active: ReadonlyArray<Pick<Source, 'id' | 'quietAfter'>>,
): Promise<Array<SourceCondition & { alerted: AlertState | null; quiet?: Quiet }>> {
  const ids = new Set(active.map((source) => source.id));
  const conditions = (await alertConditions(db)).filter((row) => ids.has(row.id));
  return withQuiet(await withPaces(db, conditions), active);
}

/** The quiet ones of `active`. */
export async function quietSources(db: Database, active: ReadonlyArray<Pick<Source, 'id' | 'quietAfter'>>): Promise<Array<SourceCondition & { quiet: Quiet }>> {
  return (await judgedSources(db, active)).filter((row): row is typeof row & { quiet: Quiet } => row.quiet !== undefined);
}

/**
 * Items per day of each source over the `days` days up to `now` (UTC days, oldest first), by publication time: what
 * the sources page draws as a sparkline. One index range scan per source (items by source and time).
 */
export async function itemsPerDay(db: Database, days: number, now: Date): Promise<Map<string, number[]>> {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  const start = new Date(end.getTime() - days * 86_400_000);
  const rows = await rowsOf<{ source_id: string; day: number; items: number }>(
    db,
    sql`select source_id, floor(extract(epoch from published_at - ${start.toISOString()}::timestamptz) / 86400)::int as day, count(*)::int as items
        from items where published_at >= ${start.toISOString()}::timestamptz and published_at < ${end.toISOString()}::timestamptz
        group by 1, 2`,
  );
  const bySource = new Map<string, number[]>();
  for (const row of rows) {
    const counts = bySource.get(row.source_id) ?? new Array<number>(days).fill(0);
    counts[row.day] = row.items;
    bySource.set(row.source_id, counts);
  }
  return bySource;
}
