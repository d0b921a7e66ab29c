/**
 * Topic-feed query time as the store grows: the newest 50 entries of a topic holding a tenth of all stories, read
 * the way the feed server reads them (topicEntries), at 10k, 100k and 1M stored items. The store is grown with
 * set-based SQL (setup, not measured). Baseline: the same query at the smallest size; headline: p50 at the largest
 * size over p50 at the smallest, which stays near 1 while serving is an index range scan. Beside it, a search feed
 * at each size (searchStories with the server's matcher and default depth): a query every story matches (it stops
 * after 50) and one none matches (it reads the whole depth, its worst case), against the topic query.
 */
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../src/db/client.js';
import { DEFAULT_PUBLISH_SETTINGS } from '../src/model/settings.js';
import { searchMatcher } from '../src/server/search.js';
import { searchStories } from '../src/store/search.js';
import { topicEntries } from '../src/store/topics.js';
import type { Figure } from './figures.js';

async function grow(database: DatabaseHandle, from: number, to: number): Promise<void> {
  const { db } = database;
  const CHUNK = 100_000;
  for (let start = from + 1; start <= to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK - 1);
    await db.transaction(async (tx) => {
      await tx.execute(sql`
        insert into stories (id, published_at, updated_at)
        select 'scale-' || g, now() - make_interval(secs => g * 30), now() - make_interval(secs => g * 30)
        from generate_series(${start}::int, ${end}::int) g`);
      await tx.execute(sql`
        insert into items (source_id, story_id, dedup_key, title_key, content_hash, published_at, updated_at, url, title,
                           summary, content_html, content_text, categories, language, title_signature, body_signature, shingle_count)
        select 'scale', 'scale-' || g, 'url:https://scale.example/' || g, 'title:scale:' || g, md5(g::text),
               now() - make_interval(secs => g * 30), now() - make_interval(secs => g * 30), 'https://scale.example/' || g,
               'Story number ' || g || ' about Japan and the United States', 'A summary of story ' || g || '.',
               '<p>The body of story ' || g || ' as an outlet printed it, a few sentences long.</p>',
               'The body of story ' || g || ' as an outlet printed it, a few sentences long.', '{Politics}', 'en', '{}', '{}', 0
        from generate_series(${start}::int, ${end}::int) g`);
      await tx.execute(sql`
        update stories set representative_item_id = items.id from items
        where items.story_id = stories.id and stories.id like 'scale-%' and stories.representative_item_id is null`);
      await tx.execute(sql`
        insert into topic_stories (topic_slug, story_id, published_at)
        select 'scale-topic', 'scale-' || g, now() - make_interval(secs => g * 30)
        from generate_series(${start}::int, ${end}::int) g where g % 10 = 0`);
    });
  }
  await db.execute(sql`analyze`);
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

/** Times of `runs` calls of `query` (after a few to warm up), sorted. */
async function timed(runs: number, query: () => Promise<unknown>): Promise<number[]> {
  for (let warm = 0; warm < Math.min(20, runs); warm++) await query();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await query();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

/** A search feed's query at this size: the p50 of one every story matches and of one none does (the whole depth read). */
async function searchFigures(database: DatabaseHandle, size: number, runs: number, topicP50: number): Promise<Figure[]> {
  const depth = DEFAULT_PUBLISH_SETTINGS.searchDepth;
  const figures: Figure[] = [];
  for (const [name, q] of [
    ['every story matches', 'japan'],
    [`none matches, ${depth} stories read`, 'zanzibar'],
  ] as const) {
    const matches = searchMatcher(q, []);
    const times = await timed(Math.max(5, Math.floor(runs / 10)), () => searchStories(database.db, matches, { limit: 50, depth }));
    const p50 = percentile(times, 0.5);
    figures.push(
      { benchmark: 'scale', metric: `search feed query p50 @ ${size} items (${name})`, value: p50, unit: 'ms', size },
      {
        benchmark: 'scale',
        metric: `search (${name}) / topic feed query @ ${size} items`,
        value: p50 / topicP50,
        unit: 'x',
        baseline: 'topic feed query',
        size,
      },
    );
  }
  return figures;
}

export async function scaleBench(database: DatabaseHandle, sizes: number[], runs: number, progress: (line: string) => void): Promise<Figure[]> {
  const { db } = database;
  await db.execute(sql`truncate topic_stories, item_bands, items, stories, fetch_log, topics, sources cascade`);
  await db.execute(sql`insert into sources (id, url, poll_seconds) values ('scale', 'https://scale.example/feed', 900)`);
  await db.execute(sql`insert into topics (slug, title, query, definition_hash) values ('scale-topic', 'Scale', 'japan', 'bench')`);
  const figures: Figure[] = [];
  const medians: number[] = [];
  let stored = 0;
  for (const size of sizes) {
    progress(`scale: growing the store to ${size} items`);
    await grow(database, stored, size);
    stored = size;
    const times = await timed(runs, async () => {
      const entries = await topicEntries(db, 'scale-topic', 50);
      if (entries.length !== 50) throw new Error(`expected 50 entries, got ${entries.length}`);
    });
    const p50 = percentile(times, 0.5);
    medians.push(p50);
    progress(`scale: ${size} items: topic feed query p50 ${p50.toFixed(2)} ms, p99 ${percentile(times, 0.99).toFixed(2)} ms`);
    figures.push(
      { benchmark: 'scale', metric: `topic feed query p50 @ ${size} items`, value: p50, unit: 'ms', size },
      { benchmark: 'scale', metric: `topic feed query p99 @ ${size} items`, value: percentile(times, 0.99), unit: 'ms', size },
      ...(await searchFigures(database, size, runs, p50)),
    );
    progress(
      `scale: ${size} items: ${figures
        .filter((figure) => figure.size === size && figure.unit === 'ms' && figure.metric.startsWith('search'))
        .map((figure) => `${figure.metric.replace(/ @.*\(/, ' (')} ${figure.value.toFixed(1)} ms`)
        .join(', ')}`,
    );
  }
  figures.push({
    benchmark: 'scale',
    metric: `query p50 ratio ${sizes.at(-1)} vs ${sizes[0]} items`,
    value: medians.at(-1)! / medians[0]!,
    unit: 'x',
    baseline: `${sizes[0]} items`,
    headline: true,
  });
  return figures;
}
