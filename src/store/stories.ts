import { type SQL, sql } from 'drizzle-orm';
import { type Database, pipelinedRows, rowsOf, textArray } from '../db/client.js';
import type { StoryListing } from '../model/story.js';

/**
 * The statements that recompute what depends on a story's items after they changed, to run in this order (none for
 * no stories): its representative (the highest-priority outlet, then the earliest version), its first-published and
 * last-updated times, and, where its time moved, the time its topic entries sort by (entries are filed at their
 * story's time: membershipStatement). Stories left without items (a concurrent writer stored the item first) are
 * deleted.
 */
export function refreshStatements(storyIds: readonly string[]): SQL[] {
  if (storyIds.length === 0) return [];
  const ids = textArray(storyIds);
  // `before` is the story's row as the statement found it: what the entries were filed at.
  return [
    sql`
    with refreshed as (
      update stories set
        published_at = agg.first_published,
        updated_at = agg.last_updated,
        representative_item_id = (
          select i.id from items i join sources s on s.id = i.source_id
          where i.story_id = stories.id
          order by s.priority desc, i.published_at asc, i.id asc
          limit 1)
      from (
        select story_id, min(published_at) as first_published, max(updated_at) as last_updated
        from items where story_id = any(${ids}) group by story_id
      ) as agg
      join stories before on before.id = agg.story_id
      where stories.id = agg.story_id
      returning stories.id, stories.published_at, before.published_at as was)
    update topic_stories set published_at = refreshed.published_at
    from refreshed
    where topic_stories.story_id = refreshed.id and refreshed.published_at <> refreshed.was`,
    sql`
    with gone as (delete from stories where id = any(${ids}) and not exists (select 1 from items where items.story_id = stories.id) returning id)
    delete from topic_stories where story_id in (select id from gone)`,
  ];
}

/** Runs refreshStatements. */
export async function refreshStories(db: Database, storyIds: readonly string[]): Promise<void> {
  await pipelinedRows(db, refreshStatements(storyIds));
}

/** The newest stories (of one topic, or of all) with every outlet's version: for `wirefeed stories`. */
export async function recentStories(db: Database, options: { topic?: string; limit: number }): Promise<StoryListing[]> {
  const topicFilter = options.topic ? sql`where s.id in (select story_id from topic_stories where topic_slug = ${options.topic})` : sql``;
  const list = await rowsOf(
    db,
    sql`
    with recent as (
      select s.id, s.published_at, s.updated_at, s.representative_item_id from stories s ${topicFilter}
      order by s.published_at desc, s.id desc limit ${options.limit})
    select r.id as story_id, r.published_at as story_published, r.updated_at as story_updated,
           i.source_id, i.title, i.url, i.guid, i.published_at, i.revision, (i.id = r.representative_item_id) as representative
    from recent r join items i on i.story_id = r.id
    order by r.published_at desc, r.id desc, representative desc, i.published_at asc, i.id asc`,
  );
  const byStory = new Map<string, StoryListing>();
  for (const row of list) {
    const id = String(row.story_id);
    let story = byStory.get(id);
    if (!story) {
      story = { storyId: id, publishedAt: new Date(row.story_published as string), updatedAt: new Date(row.story_updated as string), versions: [] };
      byStory.set(id, story);
    }
    story.versions.push({
      sourceId: String(row.source_id),
      title: String(row.title),
      url: (row.url as string | null) ?? null,
      guid: (row.guid as string | null) ?? null,
      publishedAt: new Date(row.published_at as string),
      revision: Number(row.revision),
    });
  }
  return [...byStory.values()];
}
