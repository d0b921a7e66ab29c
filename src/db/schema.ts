/** The one place Wirefeed's tables are defined. `npm run db:generate` turns changes into a migration. */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { AlertState } from '../model/alerts.js';
import type { DocumentItemHashes, FeedSchedule } from '../model/source.js';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Sorted 32-bit hashes as bytea (little-endian int32s): read back as a Buffer with no per-element parsing, where an
 * int4[] is parsed from text one number at a time.
 */
const hashes = customType<{ data: Int32Array; driverData: Buffer }>({
  dataType: () => 'bytea',
  toDriver: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  fromDriver: (value) => {
    const out = new Int32Array(value.byteLength >> 2);
    new Uint8Array(out.buffer).set(value.subarray(0, out.byteLength)); // a copy, aligned and our own
    return out;
  },
});

/** A feed the operator listed in YAML; config fields are synced at start, the rest is fetch state. */
export const sources = pgTable(
  'sources',
  {
    id: text('id').primaryKey(),
    url: text('url').notNull(),
    title: text('title'),
    siteUrl: text('site_url'),
    pollSeconds: integer('poll_seconds').notNull(),
    /** Config `priority`: a story's representative item comes from the highest-priority outlet carrying it. */
    priority: integer('priority').notNull().default(0),
    /** Where we fetch now: null means `url`; set after a permanent redirect has been seen on several fetches. */
    fetchUrl: text('fetch_url'),
    /** Target of the permanent (301/308) redirect chain seen on the last `redirect_count` fetches in a row. */
    redirectTarget: text('redirect_target'),
    redirectCount: integer('redirect_count').notNull().default(0),
    /** Set when the source answered 410 Gone: it is not polled again until its URL changes in the config. */
    goneAt: timestamptz('gone_at'),
    etag: text('etag'),
    lastModified: text('last_modified'),
    nextCheckAt: timestamptz('next_check_at').notNull().defaultNow(),
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamptz('lease_until'),
    lastFetchedAt: timestamptz('last_fetched_at'),
    lastStatus: text('last_status'),
    errorCount: integer('error_count').notNull().default(0),
    lastError: text('last_error'),
    /**
     * Hash of the last document stored whole, with what its reading depended on: the same bytes again are not parsed
     * (most news sites send no validators). Its item count and schedule hints stand in for the parse.
     */
    documentHash: text('document_hash'),
    documentItems: integer('document_items').notNull().default(0),
    documentSchedule: jsonb('document_schedule').$type<FeedSchedule>(),
    documentItemHashes: jsonb('document_item_hashes').$type<DocumentItemHashes>(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    /** What `worker.alerts` last said of the source (failing, quiet, gone); null: ok, or never alerted. */
    alertedState: text('alerted_state').$type<AlertState>(),
  },
  (table) => [index('sources_next_check_idx').on(table.nextCheckAt)],
);

/** A cluster of items that report the same story; for now each item starts its own story. */
export const stories = pgTable(
  'stories',
  {
    id: text('id').primaryKey(),
    representativeItemId: bigint('representative_item_id', { mode: 'number' }),
    publishedAt: timestamptz('published_at').notNull(),
    /** When the story last changed as readers see it (its newest revision), not when a row was written. */
    updatedAt: timestamptz('updated_at').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (table) => [index('stories_published_idx').on(table.publishedAt)],
);

/**
 * One report as one outlet published it, identified by dedup_key. A later version (a newer timestamp or changed
 * content) updates the row in place and counts a revision.
 */
export const items = pgTable(
  'items',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    storyId: text('story_id')
      .notNull()
      .references(() => stories.id),
    /** Short URL, else canonical URL, else source-scoped guid, else a hash of source and title. */
    dedupKey: text('dedup_key').notNull(),
    /** Source and normalized title: recognizes an item whose guid changes on every fetch. */
    titleKey: text('title_key').notNull(),
    /** Hash of the title and text, to tell a revision from a refetch. */
    contentHash: text('content_hash').notNull(),
    /**
     * Hash of the item as parsed (and its source): a refetch carrying the same bytes is known as a duplicate before it
     * is normalized. Null for items stored before it existed.
     */
    rawHash: text('raw_hash'),
    revision: integer('revision').notNull().default(0),
    publishedAt: timestamptz('published_at').notNull(),
    /** True when the feed gave no usable date and published_at is the time we first saw the item. */
    dateEstimated: boolean('date_estimated').notNull().default(false),
    guid: text('guid'),
    url: text('url'),
    shortUrl: text('short_url'),
    title: text('title').notNull(),
    summary: text('summary'),
    contentHtml: text('content_html'),
    /**
     * The item's plain text where it is not content_html's own (a JSON Feed content_text, say): null when it is, and
     * readers work it out from content_html (normalize's storedContentText). Rows stored before keep theirs.
     */
    contentText: text('content_text'),
    author: text('author'),
    categories: text('categories').array().notNull().default(sql`'{}'::text[]`),
    language: text('language'),
    imageUrl: text('image_url'),
    /** Media attached to the item (podcast audio, video, documents): [{ url, type?, length? }]. */
    enclosures: jsonb('enclosures').$type<Array<{ url: string; type?: string; length?: number }>>().notNull().default(sql`'[]'::jsonb`),
    /**
     * MinHash signatures of the headline's words and of the text's word 3-grams (see src/dedup/fingerprint.ts), for
     * items stored without shingles; empty for those stored with them, which are compared by their shingles.
     */
    titleSignature: integer('title_signature').array().notNull(),
    bodySignature: integer('body_signature').array().notNull(),
    shingleCount: integer('shingle_count').notNull(),
    /** The text's 3-grams as sorted 32-bit hashes, for exact overlap with candidates; null for items stored before. */
    shingles: hashes('shingles'),
    firstSeenAt: timestamptz('first_seen_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('items_identity_idx').on(table.dedupKey),
    index('items_url_idx').on(table.url),
    index('items_short_url_idx').on(table.shortUrl),
    index('items_title_key_idx').on(table.titleKey, table.publishedAt),
    index('items_story_idx').on(table.storyId),
    index('items_source_published_idx').on(table.sourceId, table.publishedAt),
    index('items_first_seen_idx').on(table.firstSeenAt),
    index('items_raw_hash_idx').on(table.rawHash),
  ],
);

/**
 * LSH bands of each item's fingerprints: items sharing a band within the clustering window are compared, so finding
 * a story's other outlets is an index lookup whatever the store's size.
 */
export const itemBands = pgTable(
  'item_bands',
  {
    /** hashtextextended() of the band key, computed by the server on insert and probe. */
    band: bigint('band', { mode: 'bigint' }).notNull(),
    // No foreign key (an archived item's bands are deleted with it; a revision replaces its item's bands): its check
    // would lock the item's row once per band.
    itemId: bigint('item_id', { mode: 'number' }).notNull(),
    publishedAt: timestamptz('published_at').notNull(),
  },
  (table) => [
    // With the item id, a candidate lookup reads the index alone (no heap page per band probe).
    index('item_bands_window_idx').on(table.band, table.publishedAt, table.itemId),
    index('item_bands_item_idx').on(table.itemId),
  ],
);

/**
 * WebSub subscriptions to sources' hubs (fetch.websub): one per source, its id the last part of the callback URL the
 * hub calls. A verified push makes its source due at once.
 */
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    id: text('id').primaryKey(),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    hub: text('hub').notNull(),
    topic: text('topic').notNull(),
    secret: text('secret').notNull(),
    /** requested, active or denied (model/source.ts PushSubscription). */
    state: text('state').notNull(),
    requestedAt: timestamptz('requested_at').notNull(),
    leaseUntil: timestamptz('lease_until'),
    /** Why the hub denied it, or why the request failed. */
    reason: text('reason'),
    /** The last push whose signature held. */
    pushedAt: timestamptz('pushed_at'),
  },
  (table) => [uniqueIndex('push_subscriptions_source_idx').on(table.sourceId)],
);

/**
 * The identities of items deleted past `retention.items`: an item whose feed still carries it would otherwise come
 * back as new at the next fetch that reads it. Narrow on purpose (a key, not an item's text and indexes).
 */
export const archivedItems = pgTable(
  'archived_items',
  {
    dedupKey: text('dedup_key').primaryKey(),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    archivedAt: timestamptz('archived_at').notNull().defaultNow(),
  },
  // The newest archiving is part of a search feed's version: its cached renders must drop archived stories.
  (table) => [index('archived_items_archived_idx').on(table.archivedAt)],
);

/** Topic definitions as last synced from config. */
export const topics = pgTable('topics', {
  slug: text('slug').primaryKey(),
  title: text('title').notNull(),
  description: text('description'),
  query: text('query').notNull(),
  /** Hash of what decides membership (query, exclude, sources, language): a change triggers a backfill. */
  definitionHash: text('definition_hash').notNull(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  /** Bumped whenever the topic's entries may have changed: feed servers compare it to their cached renders. */
  changedAt: timestamptz('changed_at').notNull().defaultNow(),
  /** Whether the topic has a webhook: its new memberships are queued in webhook_deliveries as they are filed. */
  notifies: boolean('notifies').notNull().default(false),
  /** The names of its webhooks ('' for an unnamed one): each has a queue of its own in webhook_deliveries. */
  webhooks: text('webhooks').array().notNull().default(sql`'{}'::text[]`),
});

/** Materialized membership, decided at ingest: serving a topic is a range scan on (topic, published_at). */
export const topicStories = pgTable(
  'topic_stories',
  {
    // No foreign keys: each would cost every membership a lookup and a row lock of its topic and its story (the
    // largest share of storing an item that matches many topics). The code that deletes topics or stories
    // (syncTopics, mergeStories, refreshStatements) deletes their memberships in the same transaction.
    topicSlug: text('topic_slug').notNull(),
    storyId: text('story_id').notNull(),
    publishedAt: timestamptz('published_at').notNull(),
    matchedAt: timestamptz('matched_at').notNull().defaultNow(),
  },
  (table) => [
    // Story first: the key also finds a story's memberships (refreshing its time, merging, marking its topics
    // changed) without scanning them all, so a membership costs two index entries, not three.
    primaryKey({ columns: [table.storyId, table.topicSlug] }),
    // DESC NULLS FIRST is what ORDER BY … DESC means: only an exact match lets the planner read the index in order.
    index('topic_stories_feed_idx').on(table.topicSlug, table.publishedAt.desc().nullsFirst(), table.storyId.desc().nullsFirst()),
  ],
);

/**
 * The outbox of topic webhooks: a row per story new to a topic with a webhook, written in the transaction that files
 * it, deleted once the webhook took it. A row is claimed by moving its due time past the delivery's timeout, so a
 * worker that dies mid-delivery leaves it to another.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    topicSlug: text('topic_slug').notNull(),
    /** Which of the topic's webhooks ('' for its unnamed one, as rows queued before webhooks had names). */
    webhook: text('webhook').notNull().default(''),
    storyId: text('story_id').notNull(),
    queuedAt: timestamptz('queued_at').notNull().defaultNow(),
    dueAt: timestamptz('due_at').notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (table) => [index('webhook_deliveries_queue_idx').on(table.topicSlug, table.webhook, table.id)],
);

/** One row per fetch attempt of a source. */
export const fetchLog = pgTable(
  'fetch_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    startedAt: timestamptz('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    outcome: text('outcome').notNull(),
    httpStatus: integer('http_status'),
    bytes: integer('bytes'),
    itemsNew: integer('items_new').notNull().default(0),
    itemsDuplicate: integer('items_duplicate').notNull().default(0),
    error: text('error'),
  },
  (table) => [index('fetch_log_source_idx').on(table.sourceId, table.startedAt)],
);
