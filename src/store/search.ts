/**
 * Search feeds: the newest stories of which an item matches a query, found at request time by reading stories newest
 * first and matching their items as topic matching does. Nothing is indexed for it, so storing costs nothing more; a
 * search reads at most `depth` stories, which bounds its cost whatever the store's size.
 */
import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../db/client.js';
import { items, stories } from '../db/schema.js';
import type { FeedEntry } from '../model/story.js';
import { RECENT_ITEM_COLUMNS, type RecentItem, recentItemOf, storyEntries } from './topics.js';

/** Stories read per statement. */
const SEARCH_PAGE = 250;

export interface SearchOptions {
  /** Entries wanted. */
  limit: number;
  /** The most stories read, newest first. */
  depth: number;
}

export interface SearchResult {
  entries: FeedEntry[];
  /** Stories read. */
  scanned: number;
  /** The search stopped at `depth` before it found `limit` stories (older ones may match too). */
  truncated: boolean;
}

/** The newest stories (by their time) of which an item satisfies `matches`, reading at most `depth` stories. */
export async function searchStories(db: Database, matches: (item: RecentItem) => boolean, options: SearchOptions): Promise<SearchResult> {
  const found: string[] = [];
  let scanned = 0;
  let cursor: { publishedAt: Date; id: string } | undefined;
  while (found.length < options.limit && scanned < options.depth) {
    const page = await db
      .select({ id: stories.id, publishedAt: stories.publishedAt })
      .from(stories)
      .where(cursor ? or(lt(stories.publishedAt, cursor.publishedAt), and(eq(stories.publishedAt, cursor.publishedAt), lt(stories.id, cursor.id))) : undefined)
      .orderBy(desc(stories.publishedAt), desc(stories.id))
      .limit(Math.min(SEARCH_PAGE, options.depth - scanned));
    if (page.length === 0) break;
    const ids = page.map((story) => story.id);
    const rows = await db.select(RECENT_ITEM_COLUMNS).from(items).where(inArray(items.storyId, ids));
    const matching = new Set(rows.map(recentItemOf).flatMap((item) => (matches(item) ? [item.storyId] : [])));
    for (const id of ids) if (matching.has(id) && found.length < options.limit) found.push(id);
    scanned += page.length;
    cursor = page.at(-1)!;
    if (page.length < SEARCH_PAGE) break;
  }
  const truncated = found.length < options.limit && scanned >= options.depth;
  return { entries: await storyEntries(db, found), scanned, truncated };
}

/**
 * When search results may last have changed: the newest item first seen, the newest change of a topic's entries
 * (which a revision of a filed story makes), or the newest archiving (retention.items). A revision of a story under
 * no topic shows at the next new item.
 */
export async function searchVersion(db: Database): Promise<Date | undefined> {
  const [row] = await rowsOf<{ version: string | null }>(
    db,
    sql`select greatest((select max(first_seen_at) from items), (select max(changed_at) from topics),
      (select max(archived_at) from archived_items)) as version`,
  );
  return row?.version ? new Date(row.version) : undefined;
}
