import { and, between, eq, inArray, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { itemBands, items, stories, topicStories } from '../db/schema.js';
import { CLUSTER_WINDOW_MS, type ClusterCandidate } from '../dedup/cluster.js';
import { type Fingerprint, fingerprint, fingerprintBands, titleTerms } from '../dedup/fingerprint.js';
import { type Incoming, incomingOf, needsWriting, type Prepared, planClusters, planIdentities, prepare, textOf } from '../dedup/plan.js';
import type { NormalizedItem } from '../model/item.js';

export interface StoredItem {
  id: number;
  storyId: string;
  item: NormalizedItem;
}

export interface StoreResult {
  /** Items seen for the first time. */
  stored: StoredItem[];
  /** Items whose newer version updated their row in place. */
  revised: StoredItem[];
  duplicates: number;
  /** Stories that gained, changed or absorbed items: their representative and times need a refresh. */
  touchedStories: string[];
}

type ExistingRow = {
  id: number;
  storyId: string;
  sourceId: string;
  dedupKey: string;
  url: string | null;
  shortUrl: string | null;
  titleKey: string;
  publishedAt: Date;
  updatedAt: Date;
  contentHash: string;
};

/** Advisory lock serializing the store step of concurrent ingests (any fixed 64-bit number unique to Wirefeed). */
export const CLUSTER_LOCK_KEY = 0x5769_7265_6665;

const anyOf = (conditions: Array<SQL | undefined>) => or(...conditions.filter((condition): condition is SQL => condition !== undefined));
const inList = <T extends string>(column: Parameters<typeof inArray>[0], values: T[]) => (values.length ? inArray(column, values) : undefined);

/** Finds the stored row an incoming item is a version of: same key, same page, same short link, or a guid that moved. */
async function loadExisting(db: Database, sourceId: string, incoming: Incoming[]): Promise<(row: Incoming) => ExistingRow | undefined> {
  const urls = incoming.map((entry) => entry.item.url).filter((url): url is string => !!url);
  const shorts = incoming.map((entry) => entry.item.shortUrl).filter((url): url is string => !!url);
  const rows: ExistingRow[] = await db
    .select({
      id: items.id,
      storyId: items.storyId,
      sourceId: items.sourceId,
      dedupKey: items.dedupKey,
      url: items.url,
      shortUrl: items.shortUrl,
      titleKey: items.titleKey,
      publishedAt: items.publishedAt,
      updatedAt: items.updatedAt,
      contentHash: items.contentHash,
    })
    .from(items)
    .where(
      anyOf([
        inList(
          items.dedupKey,
          incoming.map((entry) => entry.key),
        ),
        inList(items.url, urls),
        inList(items.shortUrl, shorts),
        inList(
          items.titleKey,
          incoming.map((entry) => entry.titleKey),
        ),
      ]),
    );
  const byKey = new Map(rows.map((row) => [row.dedupKey, row]));
  const byUrl = new Map(rows.filter((row) => row.url).map((row) => [row.url!, row]));
  const byShort = new Map(rows.filter((row) => row.shortUrl).map((row) => [row.shortUrl!, row]));
  return ({ key, item, titleKey: movedGuidKey }) =>
    byKey.get(key) ??
    (item.url ? byUrl.get(item.url) : undefined) ??
    (item.shortUrl ? byShort.get(item.shortUrl) : undefined) ??
    // A guid that changes on every fetch: same source, same title, same timestamp.
    rows.find(
      (row) => !item.dateEstimated && row.sourceId === sourceId && row.titleKey === movedGuidKey && row.publishedAt.getTime() === item.publishedAt.getTime(),
    );
}

function versionColumns(entry: Incoming, print: Fingerprint) {
  const { item } = entry;
  return {
    title: item.title,
    summary: item.summary ?? null,
    contentHtml: item.contentHtml ?? null,
    contentText: item.contentText ?? null,
    author: item.author ?? null,
    categories: item.categories,
    language: item.language ?? null,
    imageUrl: item.imageUrl ?? null,
    enclosures: item.enclosures ?? [],
    contentHash: entry.hash,
    titleSignature: print.titleSignature,
    bodySignature: print.bodySignature,
    shingleCount: print.shingleCount,
    shingles: print.shingles ?? null,
  };
}

/**
 * Writes band rows as three array parameters unnested by the server: two dozen rows per item make a row-per-VALUES
 * insert costly to build and to parse.
 */
export async function insertBands(db: Database, rows: Array<{ band: string; itemId: number; publishedAt: Date }>): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into ${itemBands} (band, item_id, published_at)
    select * from unnest(${arrayLiteral(rows.map((row) => row.band))}::text[], ${arrayLiteral(rows.map((row) => row.itemId))}::bigint[],
                         ${arrayLiteral(rows.map((row) => row.publishedAt.toISOString()))}::timestamptz[])
    on conflict do nothing`);
}

/** A Postgres array literal ('{"a","b"}') sent as one text parameter; both drivers pass text through unchanged. */
function arrayLiteral(values: Array<string | number>): string {
  return `{${values.map((value) => `"${String(value).replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * The most candidates one band contributes. A band shared by hundreds of items in the window (a headline of common
 * words) says little about any of them, and loading all their fingerprints was the largest single cost of storing
 * a feed; the versions of one story share several bands, so the nearest ones in time of a crowded band suffice.
 */
export const MAX_CANDIDATES_PER_BAND = 64;

function candidateOf(row: {
  storyId: string;
  publishedAt: Date;
  language: string | null;
  title: string;
  titleSignature: number[];
  bodySignature: number[];
  shingleCount: number;
  shingles: Int32Array | null;
}): ClusterCandidate {
  const { titleSignature, bodySignature, shingleCount, shingles } = row;
  return {
    storyId: row.storyId,
    publishedAt: row.publishedAt,
    language: row.language,
    print: { titleTerms: titleTerms(row.title), titleSignature, bodySignature, shingleCount, ...(shingles ? { shingles } : {}) },
  };
}

/** Stored items sharing an LSH band with any of `bands` inside [from, to]: the only ones worth comparing. */
async function loadCandidates(db: Database, bands: string[], from: Date, to: Date): Promise<Map<string, ClusterCandidate[]>> {
  const byBand = new Map<string, ClusterCandidate[]>();
  if (bands.length === 0) return byBand;
  const middle = new Date((from.getTime() + to.getTime()) / 2).toISOString();
  const shared = db.$with('shared').as(
    db
      .select({
        band: itemBands.band,
        itemId: itemBands.itemId,
        rank: sql<number>`row_number() over (partition by ${itemBands.band} order by abs(extract(epoch from ${itemBands.publishedAt} - ${middle}::timestamptz)))`.as(
          'rank',
        ),
      })
      .from(itemBands)
      .where(and(sql`${itemBands.band} = any(${arrayLiteral(bands)}::text[])`, between(itemBands.publishedAt, from, to))),
  );
  // One row per candidate item with the bands it shares: its columns (the shingles are the largest) travel once.
  const near = db.$with('near').as(
    db
      .select({ itemId: shared.itemId, bands: sql<string[]>`array_agg(${shared.band})`.as('bands') })
      .from(shared)
      .where(lte(shared.rank, MAX_CANDIDATES_PER_BAND))
      .groupBy(shared.itemId),
  );
  const rows = await db
    .with(shared, near)
    .select({
      bands: near.bands,
      storyId: items.storyId,
      publishedAt: items.publishedAt,
      language: items.language,
      title: items.title,
      titleSignature: items.titleSignature,
      bodySignature: items.bodySignature,
      shingleCount: items.shingleCount,
      shingles: items.shingles,
    })
    .from(near)
    .innerJoin(items, eq(items.id, near.itemId));
  for (const { bands: shared, ...row } of rows) {
    // One candidate object per item, however many bands it shares: comparisons dedupe by identity.
    const candidate = candidateOf(row);
    for (const band of shared) {
      const list = byBand.get(band);
      if (list) list.push(candidate);
      else byBand.set(band, [candidate]);
    }
  }
  return byBand;
}

/** Story start times, to choose which of several matching stories survives a merge (the oldest keeps its id). */
async function storyStarts(db: Database, ids: string[]): Promise<Map<string, Date>> {
  const rows = await db.select({ id: stories.id, publishedAt: stories.publishedAt }).from(stories).where(inArray(stories.id, ids));
  return new Map(rows.map((row) => [row.id, row.publishedAt]));
}

/** Moves the items and topic memberships of `drop` stories into `keep` and deletes them. */
async function mergeStories(db: Database, keep: string, drop: string[]): Promise<void> {
  await db.update(items).set({ storyId: keep }).where(inArray(items.storyId, drop));
  await db.execute(sql`
    insert into ${topicStories} (topic_slug, story_id, published_at, matched_at)
    select topic_slug, ${keep}, published_at, matched_at from ${topicStories} where ${inArray(topicStories.storyId, drop)}
    on conflict do nothing`);
  await db.delete(stories).where(inArray(stories.id, drop));
}

/**
 * Stores the items of one fetch inside the caller's transaction, as dedup/plan.ts decides: duplicates write
 * nothing, revisions update their row in place, new items join the story of every stored or incoming item that is
 * the same report (found through LSH bands within the clustering window), merging stories they bridge, or start
 * their own. Concurrent writers are settled by the unique dedup_key index.
 */
export async function storeItems(db: Database, sourceId: string, batch: NormalizedItem[], now = new Date()): Promise<StoreResult> {
  const result: StoreResult = { stored: [], revised: [], duplicates: 0, touchedStories: [] };
  if (batch.length === 0) return result;
  const { incoming, repeats } = incomingOf(batch, sourceId);
  result.duplicates += repeats;
  // Identity first, without the cluster lock: a refetch whose items are all stored unchanged (the common case)
  // writes nothing and waits on no other writer.
  let storedOf = await loadExisting(db, sourceId, incoming);
  if (!incoming.some((entry) => needsWriting(entry, storedOf(entry), now))) {
    result.duplicates += incoming.length;
    return result;
  }
  // Writers of new items and revisions take turns (until their transaction ends): two outlets of one story stored at
  // the same moment by two workers must see each other, or each would start its own story. Under the lock the
  // identities are read again, for what another writer stored meanwhile. Fetching and parsing stay parallel.
  await db.execute(sql`select pg_advisory_xact_lock(${CLUSTER_LOCK_KEY})`);
  storedOf = await loadExisting(db, sourceId, incoming);
  const identities = planIdentities(incoming, storedOf, now);
  result.duplicates += identities.duplicates;
  const touched = new Set<string>();
  for (const { entry, stored, updatedAt } of identities.revisions) {
    await reviseItem(db, entry, stored, updatedAt);
    result.revised.push({ id: stored.id, storyId: stored.storyId, item: entry.item });
    touched.add(stored.storyId);
  }
  if (identities.fresh.length > 0) {
    const stored = await storeNewItems(db, sourceId, prepare(identities.fresh));
    result.duplicates += stored.raced;
    result.stored.push(...stored.items);
    for (const storyId of stored.touched) touched.add(storyId);
  }
  return { ...result, touchedStories: [...touched] };
}

/** A newer version of a stored item: its row updated in place, its bands replaced. */
async function reviseItem(db: Database, entry: Incoming, stored: ExistingRow, updatedAt: Date): Promise<void> {
  const print = fingerprint(entry.item.title, textOf(entry.item));
  await db
    .update(items)
    .set({ ...versionColumns(entry, print), updatedAt, revision: sql`${items.revision} + 1` })
    .where(eq(items.id, stored.id));
  await db.delete(itemBands).where(eq(itemBands.itemId, stored.id));
  await insertBands(
    db,
    fingerprintBands(print).map((band) => ({ band, itemId: stored.id, publishedAt: stored.publishedAt })),
  );
}

/**
 * New items: candidates and their stories' start times read in two statements, the stories decided by the plan,
 * then stories, items and bands written in one statement each and merged stories folded.
 */
async function storeNewItems(db: Database, sourceId: string, prepared: Prepared[]): Promise<{ items: StoredItem[]; touched: string[]; raced: number }> {
  const times = prepared.map(({ entry }) => entry.item.publishedAt.getTime());
  const candidatesByBand = await loadCandidates(
    db,
    [...new Set(prepared.flatMap(({ bands }) => bands))],
    new Date(times.reduce((min, time) => Math.min(min, time)) - CLUSTER_WINDOW_MS),
    new Date(times.reduce((max, time) => Math.max(max, time)) + CLUSTER_WINDOW_MS),
  );
  const candidateStories = new Set([...candidatesByBand.values()].flatMap((list) => list.map((candidate) => candidate.storyId)));
  const plan = planClusters(prepared, candidatesByBand, await storyStarts(db, [...candidateStories]));
  if (plan.newStories.length) {
    await db
      .insert(stories)
      .values(plan.newStories.map(({ id, publishedAt }) => ({ id, publishedAt, updatedAt: publishedAt })))
      .onConflictDoNothing();
  }
  const inserted = await db
    .insert(items)
    .values(
      prepared.map(({ entry, print }, index) => ({
        ...versionColumns(entry, print),
        sourceId,
        storyId: plan.storyOf[index]!,
        dedupKey: entry.key,
        titleKey: entry.titleKey,
        publishedAt: entry.item.publishedAt,
        updatedAt: entry.item.publishedAt,
        dateEstimated: entry.item.dateEstimated,
        guid: entry.item.guid ?? null,
        url: entry.item.url ?? null,
        shortUrl: entry.item.shortUrl ?? null,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: items.id, key: items.dedupKey, storyId: items.storyId });
  const insertedByKey = new Map(inserted.map((row) => [row.key, row]));
  await insertBands(
    db,
    prepared.flatMap(({ entry, bands }) => {
      const row = insertedByKey.get(entry.key);
      return row ? bands.map((band) => ({ band, itemId: row.id, publishedAt: entry.item.publishedAt })) : [];
    }),
  );
  for (const [keep, absorbed] of plan.merges) await mergeStories(db, keep, absorbed);
  const stored = prepared.flatMap(({ entry }) => {
    const row = insertedByKey.get(entry.key);
    return row ? [{ id: row.id, storyId: row.storyId, item: entry.item }] : []; // none: another worker stored it first
  });
  return { items: stored, touched: [...new Set(plan.storyOf)], raced: prepared.length - stored.length };
}
