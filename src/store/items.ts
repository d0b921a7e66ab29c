import { and, between, eq, inArray, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { itemBands, items, stories, topicStories } from '../db/schema.js';
import { CLUSTER_WINDOW_MS, type ClusterCandidate, matchingStories } from '../dedup/cluster.js';
import { type Fingerprint, fingerprint, fingerprintBands, titleTerms } from '../dedup/fingerprint.js';
import { contentHash, itemKey, newStoryId, titleKey } from '../dedup/key.js';
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

interface Incoming {
  item: NormalizedItem;
  key: string;
  titleKey: string;
  hash: string;
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

const textOf = (item: NormalizedItem) => item.contentText ?? item.summary ?? '';

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

/**
 * A newer timestamp, or the same one with changed text, is a revision. An undated item (first-seen time) is revised
 * only when its text changes. Anything else is a refetch.
 */
function revisionTime(entry: Incoming, existing: ExistingRow, now: Date): Date | undefined {
  const changed = entry.hash !== existing.contentHash;
  if (entry.item.dateEstimated) return changed ? now : undefined;
  if (entry.item.publishedAt > existing.updatedAt) return entry.item.publishedAt;
  if (changed && entry.item.publishedAt.getTime() === existing.updatedAt.getTime()) return now;
  return undefined;
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

/** Whether an incoming item is new, or a revision of the stored one it matches (not a duplicate). */
function needsWriting(entry: Incoming, existing: ExistingRow | undefined, now: Date): boolean {
  return existing === undefined || revisionTime(entry, existing, now) !== undefined;
}

/**
 * Stores the items of one fetch inside the caller's transaction. Each item is a duplicate (nothing written), a
 * revision of a stored item (updated in place), or new; a new item joins the story of every stored or incoming item
 * that is the same report (found through LSH bands within the clustering window), merging stories it bridges, or
 * starts its own. Concurrent writers are settled by the unique dedup_key index. Why it is long: issue #19 splits it
 * into a pure plan and a step that applies it; until then its steps stay in one place, in order.
 */
export async function storeItems(db: Database, sourceId: string, batch: NormalizedItem[], now = new Date()): Promise<StoreResult> {
  const result: StoreResult = { stored: [], revised: [], duplicates: 0, touchedStories: [] };
  if (batch.length === 0) return result;
  const touched = new Set<string>();

  // The same key twice in one document: keep its newest version.
  const newest = new Map<string, Incoming>();
  for (const item of batch) {
    const entry = { item, key: itemKey(item, sourceId), titleKey: titleKey(item, sourceId), hash: contentHash(item) };
    const seen = newest.get(entry.key);
    if (!seen || entry.item.publishedAt > seen.item.publishedAt) newest.set(entry.key, entry);
  }
  result.duplicates += batch.length - newest.size;
  const incoming = [...newest.values()];
  // Identity first, without the cluster lock: a refetch whose items are all stored unchanged (the common case)
  // writes nothing and waits on no other writer.
  let existingOf = await loadExisting(db, sourceId, incoming);
  if (!incoming.some((entry) => needsWriting(entry, existingOf(entry), now))) {
    result.duplicates += incoming.length;
    return result;
  }
  // Writers of new items and revisions take turns (until their transaction ends): two outlets of one story stored at
  // the same moment by two workers must see each other, or each would start its own story. Under the lock the
  // identities are read again, for what another writer stored meanwhile. Fetching and parsing stay parallel.
  await db.execute(sql`select pg_advisory_xact_lock(${CLUSTER_LOCK_KEY})`);
  existingOf = await loadExisting(db, sourceId, incoming);

  const fresh: Incoming[] = [];
  for (const entry of incoming) {
    const existing = existingOf(entry);
    if (!existing) {
      fresh.push(entry);
      continue;
    }
    const updatedAt = revisionTime(entry, existing, now);
    if (!updatedAt) {
      result.duplicates++;
      continue;
    }
    const print = fingerprint(entry.item.title, textOf(entry.item));
    await db
      .update(items)
      .set({ ...versionColumns(entry, print), updatedAt, revision: sql`${items.revision} + 1` })
      .where(eq(items.id, existing.id));
    await db.delete(itemBands).where(eq(itemBands.itemId, existing.id));
    await insertBands(
      db,
      fingerprintBands(print).map((band) => ({ band, itemId: existing.id, publishedAt: existing.publishedAt })),
    );
    result.revised.push({ id: existing.id, storyId: existing.storyId, item: entry.item });
    touched.add(existing.storyId);
  }
  if (fresh.length === 0) return { ...result, touchedStories: [...touched] };

  // Cluster the new items in time order against stored candidates and against each other.
  fresh.sort((a, b) => a.item.publishedAt.getTime() - b.item.publishedAt.getTime() || a.key.localeCompare(b.key));
  const prints = fresh.map((entry) => fingerprint(entry.item.title, textOf(entry.item)));
  const bands = prints.map(fingerprintBands);
  const times = fresh.map((entry) => entry.item.publishedAt.getTime());
  const candidatesByBand = await loadCandidates(
    db,
    [...new Set(bands.flat())],
    new Date(times.reduce((min, time) => Math.min(min, time)) - CLUSTER_WINDOW_MS),
    new Date(times.reduce((max, time) => Math.max(max, time)) + CLUSTER_WINDOW_MS),
  );
  const newStories = new Map<string, Date>();
  const merges = new Map<string, string>(); // dropped story -> surviving story
  const resolve = (storyId: string): string => (merges.has(storyId) ? resolve(merges.get(storyId)!) : storyId);
  const assigned: string[] = [];

  for (const [index, entry] of fresh.entries()) {
    // An item met in several bands is compared once.
    const met = new Set(bands[index]!.flatMap((band) => candidatesByBand.get(band) ?? []));
    const candidates = [...met].map((candidate) => ({ ...candidate, storyId: resolve(candidate.storyId) }));
    const matches = [
      ...new Set(
        matchingStories(
          { title: entry.item.title, text: textOf(entry.item), publishedAt: entry.item.publishedAt, language: entry.item.language, print: prints[index] },
          candidates,
        ),
      ),
    ];
    let storyId: string;
    if (matches.length === 0) {
      storyId = newStoryId(entry.key, entry.item.publishedAt);
      newStories.set(storyId, entry.item.publishedAt);
    } else {
      const starts = new Map([
        ...(await storyStarts(
          db,
          matches.filter((id) => !newStories.has(id)),
        )),
      ]);
      for (const id of matches) if (newStories.has(id)) starts.set(id, newStories.get(id)!);
      const [keep, ...drop] = matches.sort((a, b) => (starts.get(a)?.getTime() ?? 0) - (starts.get(b)?.getTime() ?? 0) || a.localeCompare(b));
      storyId = keep!;
      for (const dropped of drop) merges.set(dropped, keep!);
    }
    assigned.push(storyId);
    const self: ClusterCandidate = { storyId, publishedAt: entry.item.publishedAt, language: entry.item.language ?? null, print: prints[index]! };
    for (const band of bands[index]!) {
      const list = candidatesByBand.get(band);
      if (list) list.push(self);
      else candidatesByBand.set(band, [self]);
    }
  }

  const storyOf = (index: number) => resolve(assigned[index]!);
  const survivingNew = [...newStories].filter(([id]) => !merges.has(id));
  if (survivingNew.length) {
    await db
      .insert(stories)
      .values(survivingNew.map(([id, publishedAt]) => ({ id, publishedAt, updatedAt: publishedAt })))
      .onConflictDoNothing();
  }
  const inserted = await db
    .insert(items)
    .values(
      fresh.map((entry, index) => ({
        ...versionColumns(entry, prints[index]!),
        sourceId,
        storyId: storyOf(index),
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
  const bandRows = fresh.flatMap((entry, index) => {
    const row = insertedByKey.get(entry.key);
    return row ? bands[index]!.map((band) => ({ band, itemId: row.id, publishedAt: entry.item.publishedAt })) : [];
  });
  await insertBands(db, bandRows);
  const dropsByKeep = new Map<string, string[]>();
  for (const dropped of merges.keys()) {
    if (newStories.has(dropped)) continue; // never written
    const keep = resolve(dropped);
    dropsByKeep.set(keep, [...(dropsByKeep.get(keep) ?? []), dropped]);
  }
  for (const [keep, drop] of dropsByKeep) await mergeStories(db, keep, drop);

  fresh.forEach((entry) => {
    const row = insertedByKey.get(entry.key);
    if (!row) {
      result.duplicates++; // another worker stored it first
      return;
    }
    result.stored.push({ id: row.id, storyId: row.storyId, item: entry.item });
  });
  for (const index of fresh.keys()) touched.add(storyOf(index));
  return { ...result, touchedStories: [...touched] };
}
