/**
 * Clustering cost per new item as the store grows: the same batches of new items (a third of them other outlets'
 * versions of stored stories) stored into a store of 10k and of 100k items. The LSH band index should keep the two
 * close; the ratio is the headline (issue: within 2x).
 */
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../src/db/client.js';
import { items, sources, stories } from '../src/db/schema.js';
import { fingerprint, fingerprintBands } from '../src/dedup/fingerprint.js';
import { contentHash, itemKey, newStoryId, titleKey } from '../src/dedup/key.js';
import type { NormalizedItem } from '../src/model/item.js';
import { insertBands, storeItems } from '../src/store/items.js';
import { Corpus } from './corpus.js';
import type { Figure } from './figures.js';

const DAY = 86_400_000;
const SPAN_DAYS = 30;

/** Fills the store with `count` items spread over the last 30 days, written in bulk (setup, not measured). */
async function fill(database: DatabaseHandle, corpus: Corpus, count: number, now: number, onProgress: (done: number) => void): Promise<NormalizedItem[]> {
  const { db } = database;
  await db
    .insert(sources)
    .values([
      { id: 'bench', url: 'https://bench.example/feed', pollSeconds: 900 },
      { id: 'bench-copy', url: 'https://bench.example/copy', pollSeconds: 900 },
    ])
    .onConflictDoNothing();
  const recent: NormalizedItem[] = [];
  const BATCH = 500;
  for (let start = 0; start < count; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - start) }, (_, index) =>
      corpus.story(start + index, new Date(now - SPAN_DAYS * DAY * ((start + index) / count))),
    );
    const rows = batch.map((item) => {
      const key = itemKey(item, 'bench');
      const print = fingerprint(item.title, item.contentText ?? '');
      return { item, key, print, storyId: newStoryId(key, item.publishedAt) };
    });
    await db.transaction(async (tx) => {
      await tx.insert(stories).values(rows.map((row) => ({ id: row.storyId, publishedAt: row.item.publishedAt, updatedAt: row.item.publishedAt })));
      const inserted = await tx
        .insert(items)
        .values(
          rows.map(({ item, key, print, storyId }) => ({
            sourceId: 'bench',
            storyId,
            dedupKey: key,
            titleKey: titleKey(item, 'bench'),
            contentHash: contentHash(item),
            publishedAt: item.publishedAt,
            updatedAt: item.publishedAt,
            url: item.url ?? null,
            title: item.title,
            summary: item.summary ?? null,
            contentText: item.contentText ?? null,
            contentHtml: item.contentHtml ?? null,
            categories: [],
            language: 'en',
            titleSignature: print.titleSignature,
            bodySignature: print.bodySignature,
            shingleCount: print.shingleCount,
            shingles: print.shingles ?? null,
          })),
        )
        .returning({ id: items.id });
      await insertBands(
        tx,
        rows.map((row, index) => ({ itemId: inserted[index]!.id, publishedAt: row.item.publishedAt, bands: fingerprintBands(row.print) })),
      );
    });
    for (const item of batch) if (item.publishedAt.getTime() > now - 2 * DAY) recent.push(item);
    onProgress(Math.min(start + BATCH, count));
  }
  // As autovacuum leaves a live store: statistics fresh, and the visibility map set, so the band index's
  // index-only probes need not visit the heap.
  await db.execute(sql`vacuum analyze`);
  return recent;
}

export async function clusterBench(database: DatabaseHandle, sizes: number[], batches: number, progress: (line: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  const perItem: number[] = [];
  const now = Date.now();
  for (const size of sizes) {
    await database.db.execute(sql`truncate topic_stories, item_bands, items, stories, fetch_log, sources cascade`);
    const corpus = new Corpus(size);
    const recent = await fill(database, corpus, size, now, (done) => progress(`cluster: filling ${done}/${size} items`));
    const BATCH = 50;
    let nextId = size;
    let elapsed = 0;
    let stored = 0;
    for (let batch = 0; batch < batches; batch++) {
      const items = Array.from({ length: BATCH }, (_, index) =>
        index % 3 === 0 && recent.length
          ? corpus.copy(corpus.pick(recent), nextId++, 'bench-copy')
          : corpus.story(nextId++, new Date(now - Math.random() * DAY), 'bench-copy'),
      );
      const started = performance.now();
      const result = await database.db.transaction((tx) => storeItems(tx, 'bench-copy', items));
      elapsed += performance.now() - started;
      stored += result.stored.length;
    }
    const ms = elapsed / stored;
    perItem.push(ms);
    progress(`cluster: ${size} stored items: ${ms.toFixed(2)} ms per new item (${stored} new items)`);
    figures.push({ benchmark: 'cluster', metric: `store + cluster per item @ ${size} items`, value: ms, unit: 'ms', size });
  }
  if (perItem.length >= 2) {
    figures.push({
      benchmark: 'cluster',
      metric: `cost ratio ${sizes.at(-1)} vs ${sizes[0]} items`,
      value: perItem.at(-1)! / perItem[0]!,
      unit: 'x',
      baseline: `${sizes[0]} items`,
      headline: true,
    });
  }
  return figures;
}
