import { type SQL, sql } from 'drizzle-orm';
import { arrayLiteral, columnArrays, type Database, pipelinedRows, preparedRows, rowsOf, textArray } from '../db/client.js';
import { CLUSTER_WINDOW_MS, type ClusterCandidate } from '../dedup/cluster.js';
import { type Fingerprint, titleTerms } from '../dedup/fingerprint.js';
import {
  type DocumentItems,
  type FingerprintOf,
  fingerprintNow,
  type Incoming,
  type ItemWork,
  identityNow,
  incomingOf,
  type Prepared,
  planClusters,
  planIdentities,
  prepare,
  type StoredVersion,
} from '../dedup/plan.js';
import type { NormalizedItem } from '../model/item.js';
import { byCodeUnits } from '../model/text.js';
import { ownContentText, storedContentText } from '../normalize/item.js';

export interface StoredItem {
  id: number;
  storyId: string;
  item: NormalizedItem;
  /**
   * The item's story was created by this store step and absorbed no other: until the step's transaction commits, no
   * other writer can file that story under a topic (membershipStatements files it without a conflict check).
   */
  startedStory?: boolean;
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

interface ExistingRow extends StoredVersion {
  sourceId: string;
  dedupKey: string;
  url: string | null;
  shortUrl: string | null;
  titleKey: string;
  rawHash: string | null;
}

/**
 * Advisory lock key (the bigint form) of clustering as a whole: store steps hold it shared while they hold the
 * locks of their bands, and exclusively when they have too many bands to lock one by one.
 */
export const CLUSTER_LOCK_KEY = 0x5769_7265_6665;
/** First key of the two-int advisory locks on single bands (a space apart from CLUSTER_LOCK_KEY's). */
const BAND_LOCK_SPACE = 0x5769_7265;
/**
 * Band locks one store step may take before it locks clustering as a whole instead. Advisory locks live in the
 * server's shared lock table (max_locks_per_transaction x max_connections entries, 6,400 by default); the store
 * queue sizes this from the server's settings.
 */
const DEFAULT_BAND_LOCK_BUDGET = 400;

/**
 * Fresh planner statistics for the tables the store step reads: a new store grows from nothing faster than
 * autovacuum looks (once a minute), and plans made for empty tables scan them whole.
 */
export async function analyzeStore(db: Database): Promise<void> {
  await db.execute(sql`analyze items, item_bands, stories, topic_stories`);
}

/** Which of these parsed-item hashes (parsedItemHasher) a stored item carries: those items are stored as they are. */
export async function knownParsedHashes(db: Database, hashes: readonly string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await preparedRows<{ raw_hash: string }>(db, sql`select raw_hash from items where raw_hash = any(${textArray(hashes)})`);
  return new Set(rows.map((row) => row.raw_hash));
}

/** The latest time a Date holds: an archived item's "last change", than which no version is newer. */
const END_OF_TIME = new Date(8.64e15);

/**
 * When each stored item of these dedup keys last changed (its newest version's time); keys not stored are absent, and
 * archived items (retention.items) are never older than a version of them that comes back.
 */
export async function storedVersionTimes(db: Database, keys: readonly string[]): Promise<Map<string, Date>> {
  if (keys.length === 0) return new Map();
  const rows = await rowsOf<{ dedup_key: string; updated_at: string | null }>(
    db,
    sql`select dedup_key, updated_at from items where dedup_key = any(${textArray(keys)})
      union all select dedup_key, null from archived_items where dedup_key = any(${textArray(keys)})`,
  );
  return new Map(rows.map((row) => [row.dedup_key, row.updated_at === null ? END_OF_TIME : new Date(row.updated_at)]));
}

/** A stored item as the pipeline made it, with its row's id and dedup key: what reading it again starts from. */
export interface KeptItem {
  id: number;
  dedupKey: string;
  /** The stored version's content hash: storing the item read again asks that it is still the one stored. */
  contentHash: string;
  item: NormalizedItem;
}

type KeptRecord = {
  id: string;
  dedup_key: string;
  content_hash: string;
  guid: string | null;
  url: string | null;
  short_url: string | null;
  title: string;
  summary: string | null;
  content_html: string | null;
  content_text: string | null;
  author: string | null;
  categories: string[];
  language: string | null;
  image_url: string | null;
  enclosures: NormalizedItem['enclosures'];
  published_at: string;
  date_estimated: boolean;
  raw_hash: string | null;
};

const keptItemOf = (row: KeptRecord): KeptItem => ({
  id: Number(row.id),
  dedupKey: row.dedup_key,
  contentHash: row.content_hash,
  item: {
    guid: row.guid ?? undefined,
    url: row.url ?? undefined,
    shortUrl: row.short_url ?? undefined,
    title: row.title,
    summary: row.summary ?? undefined,
    contentHtml: row.content_html ?? undefined,
    contentText: storedContentText(row.content_html, row.content_text) ?? undefined,
    textFromHtml: row.content_text === null,
    author: row.author ?? undefined,
    categories: row.categories,
    language: row.language ?? undefined,
    imageUrl: row.image_url ?? undefined,
    enclosures: row.enclosures,
    publishedAt: new Date(row.published_at),
    dateEstimated: row.date_estimated,
    parsedHash: row.raw_hash ?? undefined,
  },
});

/** A source's newest stored items (by their time), as the pipeline made them. */
export async function newestItemsOf(db: Database, sourceId: string, limit: number): Promise<KeptItem[]> {
  const rows = await rowsOf<KeptRecord>(
    db,
    sql`select id, dedup_key, content_hash, guid, url, short_url, title, summary, content_html, content_text, author, categories, language, image_url,
      enclosures, published_at, date_estimated, raw_hash
    from items where source_id = ${sourceId} order by published_at desc, id desc limit ${limit}`,
  );
  return rows.map(keptItemOf);
}

interface ExistingRecord {
  id: string;
  story_id: string;
  source_id: string;
  dedup_key: string;
  url: string | null;
  short_url: string | null;
  title_key: string;
  published_at: string;
  updated_at: string;
  content_hash: string;
  raw_hash: string | null;
}

/** The stored rows incoming items may be versions of: same key, same page, same short link, or a guid that moved. */
function existingQuery(incoming: readonly Incoming[]): SQL {
  const present = (values: Array<string | undefined>) => values.filter((value): value is string => !!value);
  return sql`select id, story_id, source_id, dedup_key, url, short_url, title_key, published_at, updated_at, content_hash, raw_hash from items
        where dedup_key = any(${textArray(incoming.map((entry) => entry.key))})
           or url = any(${textArray(present(incoming.map((entry) => entry.item.url)))})
           or short_url = any(${textArray(present(incoming.map((entry) => entry.item.shortUrl)))})
           or title_key = any(${textArray(incoming.map((entry) => entry.titleKey))})`;
}

/**
 * The stored rows incoming items may be versions of, with the items whose identity an archived item left behind
 * (retention.items) taken out and counted as duplicates: a feed that still carries an archived item is refetching it.
 */
async function readStored(db: Database, incoming: Incoming[], results: StoreResult[]) {
  if (incoming.length === 0) return { incoming, stored: [] };
  const keys = textArray(incoming.map((entry) => entry.key));
  const [stored, archived] = await pipelinedRows(db, [existingQuery(incoming), sql`select dedup_key from archived_items where dedup_key = any(${keys})`]);
  if (archived!.length === 0) return { incoming, stored: stored! };
  const archivedKeys = new Set(archived!.map((row) => row.dedup_key as string));
  for (const entry of incoming) if (archivedKeys.has(entry.key)) results[entry.document]!.duplicates++;
  return { incoming: incoming.filter((entry) => !archivedKeys.has(entry.key)), stored: stored! };
}

/** Finds, among existingQuery's rows, the stored row each incoming item is a version of. */
function existingOf(records: ReadonlyArray<Record<string, unknown>>): (entry: Incoming) => ExistingRow | undefined {
  const rows = records as unknown as readonly ExistingRecord[];
  const existing: ExistingRow[] = rows.map((row) => ({
    id: Number(row.id),
    storyId: row.story_id,
    sourceId: row.source_id,
    dedupKey: row.dedup_key,
    url: row.url,
    shortUrl: row.short_url,
    titleKey: row.title_key,
    publishedAt: new Date(row.published_at),
    updatedAt: new Date(row.updated_at),
    contentHash: row.content_hash,
    rawHash: row.raw_hash,
  }));
  const byKey = new Map(existing.map((row) => [row.dedupKey, row]));
  const byUrl = new Map(existing.filter((row) => row.url).map((row) => [row.url!, row]));
  const byShort = new Map(existing.filter((row) => row.shortUrl).map((row) => [row.shortUrl!, row]));
  const byTitle = new Map<string, ExistingRow[]>();
  for (const row of existing) byTitle.set(row.titleKey, [...(byTitle.get(row.titleKey) ?? []), row]);
  return ({ key, item, titleKey: movedGuidKey, sourceId }) =>
    byKey.get(key) ??
    (item.url ? byUrl.get(item.url) : undefined) ??
    (item.shortUrl ? byShort.get(item.shortUrl) : undefined) ??
    // A guid that changes on every fetch: same source, same title, same timestamp.
    byTitle.get(movedGuidKey)?.find((row) => !item.dateEstimated && row.sourceId === sourceId && row.publishedAt.getTime() === item.publishedAt.getTime());
}

/**
 * The columns a version of an item sets, as columnArrays sends them (bytea as base64: two thirds of hex's size).
 * An item stored with its shingles is compared by them, never by its signatures: those are written empty (the body's
 * can be worked out from the shingles, the headline's from the title).
 */
function versionColumns(item: NormalizedItem, hash: string, print: Fingerprint) {
  const shingles = print.shingles ? Buffer.from(print.shingles.buffer, print.shingles.byteOffset, print.shingles.byteLength).toString('base64') : null;
  return {
    title: item.title,
    summary: item.summary ?? null,
    content_html: item.contentHtml ?? null,
    // The text of the HTML is read back from it (storedContentText): nearly the same characters, sent and kept once.
    content_text: ownContentText(item) ?? null,
    author: item.author ?? null,
    categories: item.categories,
    language: item.language ?? null,
    image_url: item.imageUrl ?? null,
    enclosures: JSON.stringify(item.enclosures ?? []),
    content_hash: hash,
    title_signature: shingles === null ? print.titleSignature : [],
    body_signature: shingles === null ? print.bodySignature : [],
    shingle_count: print.shingleCount,
    raw_hash: item.parsedHash ?? null,
    shingles,
  };
}

/** The columns of a version of an item, in order. */
const VERSION_COLUMNS = [
  'title',
  'summary',
  'content_html',
  'content_text',
  'author',
  'categories',
  'language',
  'image_url',
  'enclosures',
  'content_hash',
  'title_signature',
  'body_signature',
  'shingle_count',
  'raw_hash',
  'shingles',
];
/** How a column that is not text is read from the text columnArrays sends (the shingles: decoded from base64). */
const COLUMN_CASTS: Record<string, string> = {
  published_at: '::timestamptz',
  updated_at: '::timestamptz',
  date_estimated: '::boolean',
  categories: '::text[]',
  enclosures: '::jsonb',
  title_signature: '::int[]',
  body_signature: '::int[]',
  shingle_count: '::int',
  id: '::bigint',
};
const columnValue = (column: string) => (column === 'shingles' ? `decode(r.shingles, 'base64')` : `r.${column}${COLUMN_CASTS[column] ?? ''}`);

/** The bands of items, every band with the position of its item (from 1): each item's own columns are sent once. */
function bandColumns(items: ReadonlyArray<{ bands: readonly string[] }>) {
  return {
    bands: textArray(items.flatMap(({ bands }) => bands)),
    owners: sql`${arrayLiteral(items.flatMap(({ bands }, index) => bands.map(() => index + 1)))}::int[]`,
  };
}

/** A timestamptz[] parameter. */
const timestampArray = (dates: readonly Date[]) => sql`${arrayLiteral(dates.map((date) => date.toISOString()))}::timestamptz[]`;

/**
 * The bands of a step's new items as parameters, built once for both statements that send them (the candidate probe
 * and the insert): every band with the position of its item in `keys` and `ats`, the items' keys and times.
 */
interface BatchBands {
  bands: SQL;
  owners: SQL;
  keys: SQL;
  ats: SQL;
  /** Whether any item has a band (an item with an empty text and title has none). */
  any: boolean;
}

function batchBands(prepared: readonly Prepared[]): BatchBands {
  return {
    ...bandColumns(prepared),
    keys: textArray(prepared.map(({ entry }) => entry.key)),
    ats: timestampArray(prepared.map(({ entry }) => entry.item.publishedAt)),
    any: prepared.some(({ bands }) => bands.length > 0),
  };
}

/**
 * Writes band rows, two dozen per item, as array parameters unnested by the server: the bands with their item's
 * position, and each item's id and time once (a row-per-VALUES insert was costly to build and to parse, and a
 * timestamp per band was 24 dates to format and parse per item).
 */
export async function insertBands(db: Database, entries: ReadonlyArray<{ itemId: number; publishedAt: Date; bands: readonly string[] }>): Promise<void> {
  if (entries.length > 0) await preparedRows(db, bandsStatement(entries));
}

function bandsStatement(entries: ReadonlyArray<{ itemId: number; publishedAt: Date; bands: readonly string[] }>): SQL {
  const { bands, owners } = bandColumns(entries);
  const ats = timestampArray(entries.map(({ publishedAt }) => publishedAt));
  return sql`
    insert into item_bands (band, item_id, published_at)
    select hashtextextended(b.band, 0), i.item_id, i.published_at
    from unnest(${bands}, ${owners}) as b(band, owner)
    join unnest(${arrayLiteral(entries.map(({ itemId }) => itemId))}::bigint[], ${ats}) with ordinality as i(item_id, published_at, position)
      on i.position = b.owner`;
}

/**
 * The most candidates one band contributes to one item. A band shared by hundreds of items in the window (a headline
 * of common words) says little about any of them, and loading all their fingerprints was the largest single cost of
 * storing a feed; the versions of one story share several bands, so the nearest ones in time of a crowded band
 * suffice.
 */
const MAX_CANDIDATES_PER_BAND = 64;

interface CandidateRow {
  bands: string[];
  story_id: string;
  story_published_at: string;
  published_at: string;
  language: string | null;
  title: string;
  /** Only for an item stored without its shingles (compared by its signature). */
  body_signature: number[] | null;
  shingle_count: number;
  shingles: Buffer | null;
}

function candidateOf(row: CandidateRow): ClusterCandidate {
  let shingles: Int32Array | undefined;
  if (row.shingles) {
    shingles = new Int32Array(row.shingles.byteLength >> 2);
    new Uint8Array(shingles.buffer).set(row.shingles.subarray(0, shingles.byteLength)); // aligned and our own
  }
  return {
    storyId: row.story_id,
    publishedAt: new Date(row.published_at),
    language: row.language,
    print: {
      titleTerms: titleTerms(row.title),
      bodySignature: row.body_signature ?? [],
      shingleCount: row.shingle_count,
      ...(shingles ? { shingles } : {}),
    },
  };
}

/** Candidates by band, and the start times of their stories (the oldest story survives a merge). */
interface Candidates {
  byBand: Map<string, ClusterCandidate[]>;
  starts: Map<string, Date>;
}

/**
 * Stored items sharing an LSH band with a new item within the clustering window around that item: the only ones
 * worth comparing, and their stories' start times (candidatesOf reads the rows). One statement for the whole batch:
 * each (band, time) probe keeps its nearest candidates in time. None when no item has bands.
 */
function candidatesQuery({ bands, owners, ats, any }: BatchBands): SQL | undefined {
  if (!any) return undefined;
  const windowSeconds = CLUSTER_WINDOW_MS / 1000;
  // One row per candidate item with the bands it shares: its columns (the shingles are the largest) travel once.
  return sql`
    with probe as (
      select distinct b.band, hashtextextended(b.band, 0) as key, i.at
      from unnest(${bands}, ${owners}) as b(band, owner)
      join unnest(${ats}) with ordinality as i(at, position) on i.position = b.owner),
    near as (
      select n.item_id, probe.band from probe
      cross join lateral (
        select b.item_id from item_bands b
        where b.band = probe.key and b.published_at between probe.at - make_interval(secs => ${windowSeconds}) and probe.at + make_interval(secs => ${windowSeconds})
        order by abs(extract(epoch from b.published_at - probe.at))
        limit ${MAX_CANDIDATES_PER_BAND}) n),
    shared as (select item_id, array_agg(distinct band) as bands from near group by item_id)
    select shared.bands, i.story_id, s.published_at as story_published_at, i.published_at, i.language, i.title,
      case when i.shingles is null then i.body_signature end as body_signature, i.shingle_count, i.shingles
    from shared join items i on i.id = shared.item_id join stories s on s.id = i.story_id`;
}

function candidatesOf(records: ReadonlyArray<Record<string, unknown>>): Candidates {
  const byBand = new Map<string, ClusterCandidate[]>();
  const starts = new Map<string, Date>();
  for (const { bands, ...row } of records as unknown as readonly CandidateRow[]) {
    starts.set(row.story_id, new Date(row.story_published_at));
    // One candidate object per item, however many bands it shares: comparisons dedupe by identity.
    const candidate = candidateOf({ bands, ...row });
    for (const band of bands) {
      const list = byBand.get(band);
      if (list) list.push(candidate);
      else byBand.set(band, [candidate]);
    }
  }
  return { byBand, starts };
}

async function loadCandidates(db: Database, bands: BatchBands): Promise<Candidates> {
  const query = candidatesQuery(bands);
  return candidatesOf(query ? await preparedRows(db, query) : []);
}

/**
 * Moves the items and topic memberships of absorbed stories into the ones that absorb them, and deletes them. A moved
 * entry takes the time of the story absorbing it (entries are filed at their story's time; refreshStatements move them
 * if the merge moved it).
 */
async function mergeStories(db: Database, merges: ReadonlyMap<string, string[]>): Promise<void> {
  const pairs = [...merges].flatMap(([keep, absorbed]) => absorbed.map((drop) => ({ keep, drop })));
  if (pairs.length === 0) return;
  const moves = sql`unnest(${textArray(pairs.map((pair) => pair.drop))}, ${textArray(pairs.map((pair) => pair.keep))}) as m(drop_id, keep_id)`;
  const dropped = textArray(pairs.map((pair) => pair.drop));
  await pipelinedRows(db, [
    sql`update items set story_id = m.keep_id from ${moves} where items.story_id = m.drop_id`,
    sql`
    insert into topic_stories (topic_slug, story_id, published_at, matched_at)
    select t.topic_slug, m.keep_id, keep.published_at, t.matched_at
    from topic_stories t join ${moves} on t.story_id = m.drop_id join stories keep on keep.id = m.keep_id
    on conflict do nothing`,
    sql`delete from topic_stories where story_id = any(${dropped})`,
    // A story absorbed before its webhook delivery is delivered as the story that absorbed it.
    sql`update webhook_deliveries set story_id = m.keep_id from ${moves} where webhook_deliveries.story_id = m.drop_id`,
    sql`delete from stories where id = any(${dropped})`,
  ]);
}

/**
 * Makes the new items of this store step wait only for other store steps that may cluster with them: those holding a
 * lock on one of the same bands (two items can only join one story through a shared band). Locks are taken in one
 * order, so two steps never wait on each other. A step with more bands than `budget` locks clustering as a whole.
 * The statements to run first.
 */
function clusteringLocks(bands: readonly string[], budget: number): SQL[] {
  const distinct = new Set<string>();
  for (const band of bands) if (distinct.add(band).size > budget) break;
  if (distinct.size > budget) return [sql`select pg_advisory_xact_lock(${CLUSTER_LOCK_KEY})`];
  return [
    sql`select pg_advisory_xact_lock_shared(${CLUSTER_LOCK_KEY})`,
    sql`
    select count(pg_advisory_xact_lock(${BAND_LOCK_SPACE}, key))
    from (select distinct hashtext(band) as key from unnest(${textArray([...distinct])}) as band order by key) as keys`,
  ];
}

/**
 * Band locks one store step may take on this server: a sixteenth of its shared lock table, so that many workers'
 * steps and the server's other locks fit at once.
 */
export async function bandLockBudget(db: Database): Promise<number> {
  const [row] = await rowsOf<{ slots: number }>(
    db,
    sql`select current_setting('max_locks_per_transaction')::int * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int) as slots`,
  );
  return Math.floor(Number(row?.slots ?? 0) / 16);
}

export interface StoreOptions {
  now?: Date;
  /** Items' work done before the transaction (see StoreQueue and itemWork); an item without is worked out here. */
  workOf?: (item: NormalizedItem) => ItemWork | undefined;
  /** Band locks a store step may take (see DEFAULT_BAND_LOCK_BUDGET). */
  bandLockBudget?: number;
}

const emptyResult = (): StoreResult => ({ stored: [], revised: [], duplicates: 0, touchedStories: [] });

/**
 * Gives refetched items stored without a parsed-item hash (before migration 0003) the hash of their parsed form, so
 * their next refetch is known before normalizing. Only where none is kept: an item whose parsed form changes on every
 * fetch is not rewritten each time. Rows another writer holds are skipped, never waited on.
 */
async function recordParsedHashes(db: Database, duplicates: readonly Incoming[], storedOf: (entry: Incoming) => ExistingRow | undefined): Promise<void> {
  const missing = duplicates.flatMap((entry) => {
    const stored = storedOf(entry);
    // A hash is scoped by source: another outlet's copy of the page says nothing about this row's own refetches.
    const own = stored && stored.sourceId === entry.sourceId && stored.rawHash === null;
    return own && entry.item.parsedHash ? [{ id: stored.id, hash: entry.item.parsedHash }] : [];
  });
  if (missing.length === 0) return;
  const ids = sql`${arrayLiteral(missing.map((row) => row.id))}::bigint[]`;
  await db.execute(sql`
    update items set raw_hash = r.hash
    from unnest(${ids}, ${textArray(missing.map((row) => row.hash))}) as r(id, hash)
    where items.id = r.id
      and items.id in (select id from items where id = any(${ids}) and raw_hash is null for update skip locked)`);
}

/**
 * Stores the items of one or more fetched documents inside the caller's transaction, as dedup/plan.ts decides:
 * duplicates write nothing (but a missing parsed-item hash), revisions update their row in place, new items join the story of every stored or incoming
 * item that is the same report (found through LSH bands within the clustering window), merging stories they bridge,
 * or start their own. A fixed number of statements whatever the number of items; concurrent writers are settled by
 * the unique dedup_key index and by band locks. Returns one result per document.
 */
export async function storeDocuments(db: Database, documents: readonly DocumentItems[], options: StoreOptions = {}): Promise<StoreResult[]> {
  const now = options.now ?? new Date();
  const results = documents.map(emptyResult);
  const workOf = options.workOf ?? (() => undefined);
  const batch = incomingOf(documents, (item, sourceId) => workOf(item) ?? identityNow(item, sourceId));
  for (const [index, count] of batch.repeats.entries()) results[index]!.duplicates += count;
  // Identity first, without any lock: a refetch whose items are all stored unchanged (the common case) writes nothing
  // (but parsed-item hashes its items lack) and waits on no other writer.
  const { incoming, stored } = await readStored(db, batch.incoming, results);
  if (incoming.length === 0) return results;
  let storedOf = existingOf(stored);
  let identities = planIdentities(incoming, storedOf, now);
  const settleDuplicates = async () => {
    for (const entry of identities.duplicates) results[entry.document]!.duplicates++;
    await recordParsedHashes(db, identities.duplicates, storedOf);
  };
  if (identities.duplicates.length === incoming.length) {
    await settleDuplicates();
    return results;
  }
  const fingerprintOf: FingerprintOf = (item) => workOf(item) ?? fingerprintNow(item);
  const fresh = prepare(identities.fresh, fingerprintOf);
  const stepBands = batchBands(fresh);
  let candidates: Candidates | undefined;
  if (fresh.length > 0) {
    // Writers of new items that could share a story take turns until their transaction ends: two outlets of one story
    // stored at the same moment by two workers must see each other, or each would start its own story. Pipelined
    // behind the locks, the identities are read again once they are held (for what another writer stored meanwhile),
    // and the candidates with them, unless items are revised: a revision rewrites its item's bands and shingles, which
    // the probe must see, so then the probe follows the revisions.
    const locks = clusteringLocks(
      fresh.flatMap(({ bands }) => bands),
      options.bandLockBudget ?? DEFAULT_BAND_LOCK_BUDGET,
    );
    const probe = identities.revisions.length === 0 ? candidatesQuery(stepBands) : undefined;
    const answers = await pipelinedRows(db, [...locks, existingQuery(incoming), ...(probe ? [probe] : [])]);
    storedOf = existingOf(answers[locks.length]!);
    identities = planIdentities(incoming, storedOf, now);
    if (probe && identities.revisions.length === 0) candidates = candidatesOf(answers.at(-1)!);
  }
  await settleDuplicates();
  const touched = documents.map(() => new Set<string>());
  for (const revision of await reviseItems(db, identities.revisions, fingerprintOf)) {
    results[revision.document]!.revised.push(revision.stored);
    touched[revision.document]!.add(revision.stored.storyId);
  }
  // Identities read again under the locks: what another writer stored meanwhile is left out.
  const stillFresh = new Set(identities.fresh);
  const toStore = fresh.length === identities.fresh.length ? fresh : fresh.filter(({ entry }) => stillFresh.has(entry));
  for (const outcome of await storeNewItems(db, toStore, stepBands, candidates)) {
    if (outcome.stored) {
      results[outcome.document]!.stored.push(outcome.stored);
      touched[outcome.document]!.add(outcome.stored.storyId);
    } else results[outcome.document]!.duplicates++; // another writer stored it first
  }
  return results.map((result, index) => ({ ...result, touchedStories: [...touched[index]!] }));
}

/** Stores one document's items: storeDocuments for a batch of one. */
export async function storeItems(db: Database, sourceId: string, items: readonly NormalizedItem[], options: StoreOptions = {}): Promise<StoreResult> {
  const [result] = await storeDocuments(db, [{ sourceId, items }], options);
  return result!;
}

/** Newer versions of stored items: their rows updated in place and their bands replaced, in three statements. */
async function reviseItems(
  db: Database,
  revisions: ReadonlyArray<{ entry: Incoming; stored: ExistingRow; updatedAt: Date }>,
  fingerprintOf: FingerprintOf,
): Promise<Array<{ document: number; stored: StoredItem }>> {
  if (revisions.length === 0) return [];
  const printed = revisions.map((revision) => {
    const { print, bands } = fingerprintOf(revision.entry.item);
    return { ...revision, print, bands };
  });
  const rows = printed.map(({ entry, stored, updatedAt, print }) => ({
    id: stored.id,
    updated_at: updatedAt.toISOString(),
    ...versionColumns(entry.item, entry.hash, print),
  }));
  const assignments = sql.raw(VERSION_COLUMNS.map((column) => `${column} = ${columnValue(column)}`).join(', '));
  const columns = ['id', 'updated_at', ...VERSION_COLUMNS];
  await pipelinedRows(db, [
    sql`
    update items set ${assignments}, updated_at = ${sql.raw(columnValue('updated_at'))}, revision = items.revision + 1
    from unnest(${columnArrays(rows, columns)}) as r(${sql.raw(columns.join(', '))})
    where items.id = ${sql.raw(columnValue('id'))}`,
    sql`delete from item_bands where item_id = any(${arrayLiteral(printed.map(({ stored }) => stored.id))}::bigint[])`,
    bandsStatement(printed.map(({ stored, bands }) => ({ itemId: stored.id, publishedAt: stored.publishedAt, bands }))),
  ]);
  return printed.map(({ entry, stored }) => ({ document: entry.document, stored: { id: stored.id, storyId: stored.storyId, item: entry.item } }));
}

/** A new item's row for columnArrays: its identity, its story and its version's columns. */
function itemRow({ entry, print, storyId }: { entry: Incoming; print: Fingerprint; storyId: string }) {
  return Object.assign(versionColumns(entry.item, entry.hash, print), {
    source_id: entry.sourceId,
    story_id: storyId,
    dedup_key: entry.key,
    title_key: entry.titleKey,
    published_at: entry.item.publishedAt.toISOString(),
    date_estimated: entry.item.dateEstimated,
    guid: entry.item.guid ?? null,
    url: entry.item.url ?? null,
    short_url: entry.item.shortUrl ?? null,
  });
}

const IDENTITY_COLUMNS = ['source_id', 'story_id', 'dedup_key', 'title_key', 'published_at', 'date_estimated', 'guid', 'url', 'short_url'];
const ITEM_COLUMNS = [...IDENTITY_COLUMNS, ...VERSION_COLUMNS];

/**
 * New items: candidates (with their stories' start times) read in one statement, unless read already, the stories
 * decided by the plan, then stories, items and bands written in one statement, and merged stories folded. `bands` are
 * the step's: of these items, and of any left out since (stored by another writer meanwhile; none of theirs is
 * inserted, as their rows are not).
 */
async function storeNewItems(
  db: Database,
  prepared: readonly Prepared[],
  bands: BatchBands,
  candidates?: Candidates,
): Promise<Array<{ document: number; stored?: StoredItem }>> {
  if (prepared.length === 0) return [];
  const { byBand, starts } = candidates ?? (await loadCandidates(db, bands));
  const plan = planClusters(prepared, byBand, starts);
  // In key order: two writers inserting some of the same keys meet them in the same order and never deadlock.
  const inKeyOrder = prepared.map(({ entry, print }, index) => ({ entry, print, storyId: plan.storyOf[index]! }));
  const rows = inKeyOrder.sort((a, b) => byCodeUnits(a.entry.key, b.entry.key)).map(itemRow);
  // One statement: the stories the plan starts, the items (those another writer stored first are left out) and the
  // bands of the items inserted, each joined to its item's row by the item's key (row ids are known only once inserted).
  const inserted = await preparedRows<{ id: string; dedup_key: string; story_id: string; started: boolean }>(
    db,
    sql`
    with new_stories as (
      insert into stories (id, published_at, updated_at)
      select id, at, at from unnest(${textArray(plan.newStories.map((story) => story.id))}, ${timestampArray(plan.newStories.map((story) => story.publishedAt))}) as s(id, at)
      on conflict do nothing
      returning id),
    inserted as (
      insert into items (${sql.raw(ITEM_COLUMNS.join(', '))}, updated_at)
      select ${sql.raw(ITEM_COLUMNS.map(columnValue).join(', '))}, ${sql.raw(columnValue('published_at'))}
      from unnest(${columnArrays(rows, ITEM_COLUMNS)}) as r(${sql.raw(ITEM_COLUMNS.join(', '))})
      on conflict do nothing
      returning id, dedup_key, story_id, published_at),
    positions as (select key, position from unnest(${bands.keys}) with ordinality as k(key, position)),
    new_bands as (
      insert into item_bands (band, item_id, published_at)
      select hashtextextended(b.band, 0), inserted.id, inserted.published_at
      from unnest(${bands.bands}, ${bands.owners}) as b(band, owner)
      join positions on positions.position = b.owner
      join inserted on inserted.dedup_key = positions.key)
    select id, dedup_key, story_id, story_id in (select id from new_stories) as started from inserted`,
  );
  const insertedByKey = new Map(inserted.map((row) => [row.dedup_key, row]));
  await mergeStories(db, plan.merges);
  return prepared.map(({ entry }) => {
    const row = insertedByKey.get(entry.key);
    if (!row) return { document: entry.document };
    // Not a story another writer created first (the same first item), nor one holding absorbed stories' topic entries.
    const startedStory = row.started && !plan.merges.has(row.story_id);
    return { document: entry.document, stored: { id: Number(row.id), storyId: row.story_id, item: entry.item, startedStory } };
  });
}
