import { and, asc, count, desc, eq, gt, gte, inArray, lt, notInArray, or, type SQL, sql } from 'drizzle-orm';
import { arrayLiteral, type Database, pipelinedRows, preparedRows, rowsOf } from '../db/client.js';
import { items, sources, stories, topicStories, topics } from '../db/schema.js';
import { type ProgressFactory, silentProgress } from '../model/progress.js';
import type { FeedCursor, FeedEntry, Headline, Outlet } from '../model/story.js';
import type { Topic } from '../model/topic.js';
import { storedContentText } from '../normalize/item.js';
import { type CompiledTopic, type TopicMatcher, topicDefinitionHash } from '../topics/topics.js';

/**
 * A story to file under the topics an item of it matched, and who proposed it (a document's place in its batch: a
 * membership two documents propose counts for the first). Its entries sort by the story's time (see addMemberships).
 */
export interface Filing {
  storyId: string;
  /** Distinct. */
  topicSlugs: readonly string[];
  proposer: number;
  /** The story was created by the caller's transaction and absorbed no other (StoredItem.startedStory). */
  startedStory?: boolean;
}

/**
 * Makes the topics table match the config. Returns the slugs that are new or whose definition (query, exclude,
 * sources, language) changed: their membership must be rebuilt by backfillTopic. Topics no longer configured are
 * dropped with their membership.
 */
export async function syncTopics(db: Database, configured: readonly Topic[]): Promise<string[]> {
  const stored = await db.select({ slug: topics.slug, definitionHash: topics.definitionHash }).from(topics);
  const storedHash = new Map(stored.map((row) => [row.slug, row.definitionHash]));
  const changed = configured.filter((topic) => storedHash.get(topic.slug) !== topicDefinitionHash(topic)).map((topic) => topic.slug);
  const configuredSlugs = configured.map((topic) => topic.slug);
  await db.transaction(async (tx) => {
    // Memberships first: they have no foreign key to cascade from their topic (see the schema).
    if (configuredSlugs.length > 0) {
      await tx.delete(topicStories).where(notInArray(topicStories.topicSlug, configuredSlugs));
      await tx.delete(topics).where(notInArray(topics.slug, configuredSlugs));
    } else {
      await tx.delete(topicStories);
      await tx.delete(topics);
    }
    for (const topic of configured) {
      // A changed topic keeps its old definition hash until its backfill commits (backfillTopic writes it): a start
      // stopped before then backfills it again next time instead of leaving it half-filled.
      const webhooks = (topic.webhooks ?? []).map((webhook) => webhook.name);
      const values = { title: topic.title, description: topic.description ?? null, query: topic.query, notifies: webhooks.length > 0, webhooks };
      await tx
        .insert(topics)
        .values({ slug: topic.slug, ...values, definitionHash: '' })
        .onConflictDoUpdate({ target: topics.slug, set: { ...values, updatedAt: sql`now()`, changedAt: sql`now()` } });
    }
    // A webhook taken away or renamed (or its topic) takes its queue with it.
    await tx.execute(sql`delete from webhook_deliveries
      where not exists (select from topics where slug = webhook_deliveries.topic_slug and webhook_deliveries.webhook = any(webhooks))`);
  });
  return changed;
}

/**
 * Marks topics as changed: the given ones, and every topic holding one of the given stories (a story that gained an
 * outlet or a revision changes its entry). Feed servers re-render a topic when its changed_at moves.
 */
export async function touchTopics(db: Database, changes: TopicChanges): Promise<void> {
  const statement = touchStatement(changes);
  if (statement) await preparedRows(db, statement);
}

export interface TopicChanges {
  slugs?: readonly string[];
  storyIds?: readonly string[];
}

/** touchTopics' statement; none when nothing changed. */
export function touchStatement({ slugs = [], storyIds = [] }: TopicChanges): SQL | undefined {
  if (slugs.length === 0 && storyIds.length === 0) return undefined;
  // One statement shape for every call, prepared: the store step runs it in every round.
  return sql`update topics set changed_at = now()
    where slug = any(${arrayLiteral(slugs)}::text[])
      or slug in (select topic_slug from topic_stories where story_id = any(${arrayLiteral(storyIds)}::text[]))`;
}

/** When each topic last changed, for feed caches. */
export async function topicVersion(db: Database, slug: string): Promise<Date | undefined> {
  const [row] = await db.select({ changedAt: topics.changedAt }).from(topics).where(eq(topics.slug, slug));
  return row?.changedAt;
}

/**
 * Files stories under topics (a statement or two, any number of rows), each entry at its story's time as stored now
 * (run after refreshStatements: a story's time only moves there, which moves its entries); a story gone meanwhile
 * files nothing. Returns how many memberships were new, by proposer.
 */
export async function addMemberships(db: Database, filings: readonly Filing[], webhooks: WebhookQueueing): Promise<Map<number, number>> {
  const statements = membershipStatements(filings, webhooks);
  return addedByProposer(filings, (await pipelinedRows(db, statements)).flat());
}

/**
 * Whether new memberships are queued for their topics' webhooks: yes for stories the store step files, no for a
 * backfill's (stories already published elsewhere, which a webhook consumer did not ask to hear of again).
 */
export type WebhookQueueing = 'queue' | 'skip';

/**
 * addMemberships' statements (none for no memberships); addedByProposer reads their rows. Stories the caller's
 * transaction started are filed without a conflict check (a fifth of the insert's time), their topics made distinct
 * here; any other story's entries may exist already or be filed by another writer at the same moment.
 */
export function membershipStatements(filings: readonly Filing[], webhooks: WebhookQueueing): SQL[] {
  const started: Filing[] = [];
  const others: Filing[] = [];
  const filedOfStarted = new Map<string, Set<string>>();
  // Least proposer first: where two filings of a started story share a topic, the entry is the first one's.
  for (const filing of [...filings].sort((a, b) => a.proposer - b.proposer)) {
    if (filing.topicSlugs.length === 0) continue;
    if (!filing.startedStory) {
      others.push(filing);
      continue;
    }
    const filed = filedOfStarted.get(filing.storyId);
    if (!filed) {
      filedOfStarted.set(filing.storyId, new Set(filing.topicSlugs));
      started.push(filing);
      continue;
    }
    const topicSlugs = filing.topicSlugs.filter((slug) => !filed.has(slug));
    for (const slug of topicSlugs) filed.add(slug);
    if (topicSlugs.length > 0) started.push({ ...filing, topicSlugs });
  }
  return [
    ...(started.length > 0 ? [membershipStatement(started, false, webhooks)] : []),
    ...(others.length > 0 ? [membershipStatement(others, true, webhooks)] : []),
  ];
}

/**
 * Each topic is sent as its position in a list of the slugs, with the position of its story: a story's id travels
 * once however many topics it matched (a broad topic set files a dozen memberships per item), and the new
 * memberships come back a row per story.
 */
function membershipStatement(filings: readonly Filing[], mayConflict: boolean, webhooks: WebhookQueueing): SQL {
  const slugs = new Map<string, number>();
  const topics: number[] = [];
  const owners: number[] = [];
  for (const [index, { topicSlugs }] of filings.entries()) {
    for (const slug of topicSlugs) {
      if (!slugs.has(slug)) slugs.set(slug, slugs.size + 1);
      topics.push(slugs.get(slug)!);
      owners.push(index + 1);
    }
  }
  // Where entries may exist, a membership proposed twice (two items of one story) is one row: the conflict check skips the second.
  return sql`
    with added as (
      insert into topic_stories (topic_slug, story_id, published_at)
      select (${arrayLiteral([...slugs.keys()])}::text[])[t.topic], f.story_id, s.published_at
      from unnest(${arrayLiteral(topics)}::int[], ${arrayLiteral(owners)}::int[]) as t(topic, owner)
      join unnest(${arrayLiteral(filings.map((filing) => filing.storyId))}::text[]) with ordinality as f(story_id, position) on f.position = t.owner
      join stories s on s.id = f.story_id
      ${mayConflict ? sql`on conflict do nothing` : sql``}
      returning topic_slug, story_id)${webhooks === 'queue' ? webhookQueue : sql``}
    select story_id, array_agg(topic_slug) as topic_slugs from added group by story_id`;
}

/** The new memberships of topics with webhooks, queued for each webhook in the filing's own transaction (an outbox). */
const webhookQueue = sql`,
    queued as (
      insert into webhook_deliveries (topic_slug, webhook, story_id)
      select added.topic_slug, webhook.name, added.story_id
      from added join topics on topics.slug = added.topic_slug and topics.notifies, unnest(topics.webhooks) as webhook(name))`;

/**
 * The memberships membershipStatements' rows say were new, counted by proposer: a membership several filings proposed
 * counts for the first proposer (the least).
 */
export function addedByProposer(filings: readonly Filing[], rows: ReadonlyArray<Record<string, unknown>>): Map<number, number> {
  const byStory = new Map<string, Filing[]>();
  for (const filing of filings) {
    const proposals = byStory.get(filing.storyId);
    if (proposals) proposals.push(filing);
    else byStory.set(filing.storyId, [filing]);
  }
  const added = new Map<number, number>();
  const count = (proposer: number, memberships: number) => added.set(proposer, (added.get(proposer) ?? 0) + memberships);
  for (const row of rows as ReadonlyArray<{ story_id: string; topic_slugs: string[] }>) {
    const proposals = byStory.get(row.story_id) ?? [];
    if (proposals.length === 1) count(proposals[0]!.proposer, row.topic_slugs.length);
    else {
      for (const slug of row.topic_slugs) {
        count(Math.min(...proposals.filter((filing) => filing.topicSlugs.includes(slug)).map((filing) => filing.proposer)), 1);
      }
    }
  }
  return added;
}

const PAGE = 1000;

/** An item as topic matching sees it, with its story. */
export interface RecentItem {
  id: number;
  storyId: string;
  sourceId: string;
  url: string | null;
  publishedAt: Date;
  title: string;
  summary: string | null;
  contentText: string | null;
  author: string | null;
  categories: string[];
  language: string | null;
}

/** The columns of an item topic matching reads (recentItemOf makes the RecentItem). */
export const RECENT_ITEM_COLUMNS = {
  id: items.id,
  storyId: items.storyId,
  sourceId: items.sourceId,
  url: items.url,
  publishedAt: items.publishedAt,
  title: items.title,
  summary: items.summary,
  contentHtml: items.contentHtml,
  contentText: items.contentText,
  author: items.author,
  categories: items.categories,
  language: items.language,
};

export const recentItemOf = ({ contentHtml, contentText, ...row }: RecentItem & { contentHtml: string | null }): RecentItem => ({
  ...row,
  contentText: storedContentText(contentHtml, contentText),
});

/** Calls `onPage` with the items first seen since `since`, a page at a time by id, so memory stays flat. */
export async function forEachRecentItem(db: Database, since: Date, onPage: (page: RecentItem[]) => void): Promise<void> {
  for (let afterId = 0; ; ) {
    const page = await db
      .select(RECENT_ITEM_COLUMNS)
      .from(items)
      .where(and(gt(items.id, afterId), gte(items.firstSeenAt, since)))
      .orderBy(asc(items.id))
      .limit(PAGE);
    onPage(page.map(recentItemOf));
    if (page.length < PAGE) return;
    afterId = page[page.length - 1]!.id;
  }
}

/**
 * Rebuilds a topic's membership from the items first seen in its backfill window. Stories that no longer match are
 * removed.
 */
export async function backfillTopic(
  db: Database,
  topic: CompiledTopic,
  matcher: TopicMatcher,
  progress: ProgressFactory = silentProgress,
  signal?: AbortSignal,
): Promise<number> {
  const only = matcher.restrictedTo([topic]);
  const matched = new Set<string>();
  const since = new Date(Date.now() - topic.backfillDays * 86_400_000);
  const [counted] = await db.select({ items: count() }).from(items).where(gte(items.firstSeenAt, since));
  const bar = progress(`backfill ${topic.slug}`, Number(counted?.items ?? 0), 'items');
  await forEachRecentItem(db, since, (page) => {
    signal?.throwIfAborted();
    for (const row of page) if (only.match(row, row.sourceId).length > 0) matched.add(row.storyId);
    bar.advance(page.length);
  });
  bar.finish();
  signal?.throwIfAborted();
  await db.transaction(async (tx) => {
    await tx.delete(topicStories).where(eq(topicStories.topicSlug, topic.slug));
    const filings = [...matched].map((storyId) => ({ storyId, topicSlugs: [topic.slug], proposer: 0 }));
    for (let start = 0; start < filings.length; start += PAGE) await addMemberships(tx, filings.slice(start, start + PAGE), 'skip');
    await touchTopics(tx, { slugs: [topic.slug] });
    await tx.update(topics).set({ definitionHash: topic.definitionHash }).where(eq(topics.slug, topic.slug));
  });
  return matched.size;
}

/** The other versions of each story, one query for all of them. */
async function otherOutlets(db: Database, entries: Array<{ storyId: string; representativeId: number }>): Promise<Map<string, Outlet[]>> {
  const byStory = new Map<string, Outlet[]>();
  if (entries.length === 0) return byStory;
  const representatives = new Set(entries.map((entry) => entry.representativeId));
  const rows = await db
    .select({ id: items.id, storyId: items.storyId, sourceId: items.sourceId, sourceTitle: sources.title, title: items.title, url: items.url })
    .from(items)
    .innerJoin(sources, eq(sources.id, items.sourceId))
    .where(
      inArray(
        items.storyId,
        entries.map((entry) => entry.storyId),
      ),
    )
    .orderBy(asc(items.publishedAt), asc(items.id));
  for (const { id, storyId, ...outlet } of rows) {
    if (representatives.has(id)) continue;
    byStory.set(storyId, [...(byStory.get(storyId) ?? []), outlet]);
  }
  return byStory;
}

/** What a feed entry shows of a story: its representative item's columns, the story's times, the outlet's name. */
const ENTRY_COLUMNS = {
  representativeId: items.id,
  storyId: stories.id,
  publishedAt: stories.publishedAt,
  updatedAt: stories.updatedAt,
  title: items.title,
  url: items.url,
  summary: items.summary,
  contentHtml: items.contentHtml,
  author: items.author,
  categories: items.categories,
  language: items.language,
  imageUrl: items.imageUrl,
  enclosures: items.enclosures,
  sourceId: items.sourceId,
  sourceTitle: sources.title,
};

/**
 * The newest stories of a topic (older than `before`, for paging) with their representative item: an index range
 * scan on topic_stories.
 */
export async function topicEntries(db: Database, slug: string, limit: number, before?: FeedCursor, since?: Date): Promise<FeedEntry[]> {
  const rows = await db
    .select({ ...ENTRY_COLUMNS, publishedAt: topicStories.publishedAt })
    .from(topicStories)
    .innerJoin(stories, eq(stories.id, topicStories.storyId))
    .innerJoin(items, eq(items.id, stories.representativeItemId))
    .innerJoin(sources, eq(sources.id, items.sourceId))
    .where(
      and(
        eq(topicStories.topicSlug, slug),
        before
          ? or(
              lt(topicStories.publishedAt, before.publishedAt),
              and(eq(topicStories.publishedAt, before.publishedAt), lt(topicStories.storyId, before.storyId)),
            )
          : undefined,
        since ? gte(topicStories.publishedAt, since) : undefined,
      ),
    )
    .orderBy(desc(topicStories.publishedAt), desc(topicStories.storyId))
    .limit(limit);
  return withOutlets(db, rows);
}

/** How many stories a topic holds on each day between consecutive `dayStarts` (ms, ascending): day start to count. */
export async function topicDayCounts(db: Database, slug: string, dayStarts: readonly number[]): Promise<Map<number, number>> {
  const bounds = dayStarts.map((start) => new Date(start).toISOString());
  // width_bucket numbers the day holding each entry: 1 for the first of the bounds' days.
  const rows = await rowsOf<{ day: number; stories: number }>(
    db,
    sql`select width_bucket(published_at, ${arrayLiteral(bounds)}::timestamptz[]) as day, count(*)::int as stories
      from topic_stories where topic_slug = ${slug} and published_at >= ${bounds[0]}::timestamptz and published_at < ${bounds.at(-1)}::timestamptz
      group by 1`,
  );
  return new Map(rows.map((row) => [dayStarts[Number(row.day) - 1]!, row.stories]));
}

type EntryRow = Omit<FeedEntry, 'alsoReportedBy'> & { representativeId: number };

/** The rows as feed entries, each with the story's other outlets. */
async function withOutlets(db: Database, rows: EntryRow[]): Promise<FeedEntry[]> {
  const outlets = await otherOutlets(db, rows);
  return rows.map(({ representativeId: _representative, ...row }) => ({ ...row, alsoReportedBy: outlets.get(row.storyId) ?? [] }));
}

/** Feed entries of the given stories, in the order given (stories that no longer exist are left out). */
export async function storyEntries(db: Database, storyIds: readonly string[]): Promise<FeedEntry[]> {
  if (storyIds.length === 0) return [];
  const rows = await db
    .select(ENTRY_COLUMNS)
    .from(stories)
    .innerJoin(items, eq(items.id, stories.representativeItemId))
    .innerJoin(sources, eq(sources.id, items.sourceId))
    .where(inArray(stories.id, [...storyIds]));
  const byId = new Map(rows.map((row) => [row.storyId, row]));
  return withOutlets(
    db,
    storyIds.flatMap((id) => byId.get(id) ?? []),
  );
}

/** What the index page shows of a story. */

/**
 * The newest `perTopic` stories of every topic in one statement (one short index range scan per topic through a
 * lateral join): the index page costs one round trip whether there are 5 topics or 5,000.
 */
export async function topicHeadlines(db: Database, slugs: readonly string[], perTopic: number): Promise<Map<string, Headline[]>> {
  const byTopic = new Map<string, Headline[]>(slugs.map((slug) => [slug, []]));
  if (slugs.length === 0) return byTopic;
  const wanted = db
    .select({ slug: topics.slug })
    .from(topics)
    .where(inArray(topics.slug, [...slugs]))
    .as('wanted');
  const newest = db
    .select({ storyId: topicStories.storyId, publishedAt: topicStories.publishedAt })
    .from(topicStories)
    .where(eq(topicStories.topicSlug, wanted.slug))
    .orderBy(desc(topicStories.publishedAt), desc(topicStories.storyId))
    .limit(perTopic)
    .as('newest');
  const rows = await db
    .select({
      slug: wanted.slug,
      storyId: newest.storyId,
      publishedAt: newest.publishedAt,
      title: items.title,
      url: items.url,
      sourceId: items.sourceId,
      sourceTitle: sources.title,
    })
    .from(wanted)
    .innerJoinLateral(newest, sql`true`)
    .innerJoin(stories, eq(stories.id, newest.storyId))
    .innerJoin(items, eq(items.id, stories.representativeItemId))
    .innerJoin(sources, eq(sources.id, items.sourceId))
    .orderBy(wanted.slug, desc(newest.publishedAt), desc(newest.storyId));
  for (const { slug, ...headline } of rows) byTopic.get(slug)?.push(headline);
  return byTopic;
}

/** When any topic last changed: the version of pages that show them all. */
export async function topicsVersion(db: Database): Promise<Date> {
  const [row] = await db.select({ changedAt: sql<Date | string | null>`max(${topics.changedAt})` }).from(topics);
  return row?.changedAt ? new Date(row.changedAt) : new Date(0);
}

export async function topicMemberCounts(db: Database): Promise<Map<string, number>> {
  const rows = await db.select({ slug: topicStories.topicSlug, count: sql<number>`count(*)::int` }).from(topicStories).groupBy(topicStories.topicSlug);
  return new Map(rows.map((row) => [row.slug, Number(row.count)]));
}
