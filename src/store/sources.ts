import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Source } from '../config/load.js';
import type { Database } from '../db/client.js';
import { fetchLog, sources } from '../db/schema.js';

/** Inserts new sources and refreshes the config fields of known ones; fetch state is kept. */
export async function syncSources(db: Database, configured: readonly Source[]): Promise<void> {
  for (const source of configured) {
    const values = { url: source.url, title: source.title ?? null, pollSeconds: source.pollSeconds };
    await db
      .insert(sources)
      .values({ id: source.id, ...values })
      .onConflictDoUpdate({ target: sources.id, set: values });
  }
}

export interface SourceState {
  etag: string | null;
  lastModified: string | null;
}

export async function sourceState(db: Database, sourceId: string): Promise<SourceState | undefined> {
  const [row] = await db
    .select({ etag: sources.etag, lastModified: sources.lastModified })
    .from(sources)
    .where(eq(sources.id, sourceId));
  return row;
}

/**
 * Leases up to `limit` due sources for `owner`. FOR UPDATE SKIP LOCKED lets any number of workers claim at once
 * without taking the same source; a lease that expires (a crashed worker) makes the source claimable again.
 */
export async function claimDueSources(
  db: Database,
  options: { owner: string; sourceIds: string[]; limit: number; leaseSeconds: number },
): Promise<string[]> {
  if (options.sourceIds.length === 0) return [];
  const due = db
    .select({ id: sources.id })
    .from(sources)
    .where(
      and(
        inArray(sources.id, options.sourceIds),
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

export interface FetchRecord {
  sourceId: string;
  startedAt: Date;
  durationMs: number;
  outcome: 'ok' | 'not-modified' | 'failed';
  httpStatus?: number;
  bytes?: number;
  itemsNew: number;
  itemsDuplicate: number;
  error?: string;
  /** Validators to remember; only passed after the items of the response are stored. */
  validators?: SourceState;
  siteUrl?: string;
  nextCheckAt: Date;
}

/** Writes the fetch-log row and the source's new state (validators, health, next check, lease released). */
export async function recordFetch(db: Database, record: FetchRecord): Promise<void> {
  const failed = record.outcome === 'failed';
  await db.insert(fetchLog).values({
    sourceId: record.sourceId,
    startedAt: record.startedAt,
    durationMs: record.durationMs,
    outcome: record.outcome,
    httpStatus: record.httpStatus ?? null,
    bytes: record.bytes ?? null,
    itemsNew: record.itemsNew,
    itemsDuplicate: record.itemsDuplicate,
    error: record.error ?? null,
  });
  await db
    .update(sources)
    .set({
      lastFetchedAt: record.startedAt,
      lastStatus: record.outcome,
      nextCheckAt: record.nextCheckAt,
      leaseOwner: null,
      leaseUntil: null,
      errorCount: failed ? sql`${sources.errorCount} + 1` : 0,
      lastError: failed ? (record.error ?? 'failed') : null,
      ...(record.validators ?? {}),
      ...(record.siteUrl ? { siteUrl: record.siteUrl } : {}),
    })
    .where(eq(sources.id, record.sourceId));
}
