import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';

/**
 * Recomputes what depends on a story's items after they changed: its representative (the highest-priority outlet,
 * then the earliest version), its first-published and last-updated times, and the time its topic entries sort by.
 * Stories left without items (a concurrent writer stored the item first) are deleted.
 */
export async function refreshStories(db: Database, storyIds: string[]): Promise<void> {
  if (storyIds.length === 0) return;
  const ids = sql.join(storyIds.map((id) => sql`${id}`), sql`, `);
  await db.execute(sql`
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
      from items where story_id in (${ids}) group by story_id
    ) as agg
    where stories.id = agg.story_id`);
  await db.execute(sql`
    update topic_stories set published_at = stories.published_at
    from stories
    where topic_stories.story_id = stories.id and stories.id in (${ids}) and topic_stories.published_at <> stories.published_at`);
  await db.execute(sql`
    delete from stories where id in (${ids}) and not exists (select 1 from items where items.story_id = stories.id)`);
}
