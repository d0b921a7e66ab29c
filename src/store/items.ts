import { and, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { items, stories } from '../db/schema.js';
import { itemKey, newStoryId } from '../dedup/key.js';
import type { NormalizedItem } from '../normalize/item.js';

export interface StoredItem {
  id: number;
  storyId: string;
  item: NormalizedItem;
}

export interface StoreResult {
  stored: StoredItem[];
  duplicates: number;
}

/**
 * Stores the items of one fetch. An item whose key and date are already stored is a duplicate and writes nothing;
 * an item with an estimated date is a duplicate when its key is stored at all, so a dateless item is stored once.
 * Runs inside the caller's transaction; concurrent writers are settled by the unique (dedup_key, published_at) index.
 */
export async function storeItems(db: Database, sourceId: string, batch: NormalizedItem[]): Promise<StoreResult> {
  if (batch.length === 0) return { stored: [], duplicates: 0 };
  const keyed = batch.map((item) => ({ item, key: itemKey(item, sourceId) }));
  const existing = await db
    .select({ key: items.dedupKey, publishedAt: items.publishedAt })
    .from(items)
    .where(inArray(items.dedupKey, [...new Set(keyed.map(({ key }) => key))]));
  const storedVersions = new Set(existing.map((row) => `${row.key}\n${row.publishedAt.getTime()}`));
  const storedKeys = new Set(existing.map((row) => row.key));

  const fresh = new Map<string, { item: NormalizedItem; key: string }>();
  for (const entry of keyed) {
    const version = `${entry.key}\n${entry.item.publishedAt.getTime()}`;
    const seen = entry.item.dateEstimated ? storedKeys.has(entry.key) : storedVersions.has(version);
    // The same version twice in one document counts once.
    if (!seen && !fresh.has(version)) fresh.set(version, entry);
  }
  if (fresh.size === 0) return { stored: [], duplicates: batch.length };

  const rows = [...fresh.values()].map(({ item, key }) => ({ item, key, storyId: newStoryId(key, item.publishedAt) }));
  await db
    .insert(stories)
    .values(rows.map(({ storyId, item }) => ({ id: storyId, publishedAt: item.publishedAt, updatedAt: item.publishedAt })))
    .onConflictDoNothing();
  const inserted = await db
    .insert(items)
    .values(
      rows.map(({ item, key, storyId }) => ({
        sourceId,
        storyId,
        dedupKey: key,
        publishedAt: item.publishedAt,
        dateEstimated: item.dateEstimated,
        guid: item.guid ?? null,
        url: item.url ?? null,
        shortUrl: item.shortUrl ?? null,
        title: item.title,
        summary: item.summary ?? null,
        contentHtml: item.contentHtml ?? null,
        contentText: item.contentText ?? null,
        author: item.author ?? null,
        categories: item.categories,
        language: item.language ?? null,
        imageUrl: item.imageUrl ?? null,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: items.id, storyId: items.storyId, key: items.dedupKey, publishedAt: items.publishedAt });
  const storyIds = inserted.map((row) => row.storyId);
  if (storyIds.length > 0) {
    await db
      .update(stories)
      .set({ representativeItemId: sql`(select min(${items.id}) from ${items} where ${items.storyId} = ${stories.id})` })
      .where(and(inArray(stories.id, storyIds), isNull(stories.representativeItemId)));
  }
  const byVersion = new Map(rows.map((row) => [`${row.key}\n${row.item.publishedAt.getTime()}`, row.item]));
  const stored = inserted.map((row) => ({
    id: row.id,
    storyId: row.storyId,
    item: byVersion.get(`${row.key}\n${row.publishedAt.getTime()}`)!,
  }));
  return { stored, duplicates: batch.length - stored.length };
}
