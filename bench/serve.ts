/**
 * Requests per second for a 50-entry topic feed through the real server (cache hit path: a PK lookup of the topic's
 * version, then cached bytes), on the 200 and the 304 (If-None-Match) path, against a bare Node HTTP server that
 * returns the same bytes (or a bare 304) from memory: the baseline. Load from autocannon on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '../src/db/client.js';
import { sources, topicStories, topics } from '../src/db/schema.js';
import { createMetrics } from '../src/metrics/index.js';
import { DEFAULT_FETCH_SETTINGS, DEFAULT_PUBLISH_SETTINGS, DEFAULT_RETENTION_SETTINGS, DEFAULT_WORKER_SETTINGS } from '../src/model/settings.js';
import { createAppServer, listen, type ServedApp } from '../src/server/http.js';
import { storeItems } from '../src/store/items.js';
import { refreshStories } from '../src/store/stories.js';
import { Corpus } from './corpus.js';
import type { Figure } from './figures.js';

const SLUG = 'bench-topic';

async function seed(database: DatabaseHandle): Promise<ServedApp> {
  const { db } = database;
  await db.execute(sql`truncate topic_stories, item_bands, items, stories, fetch_log, topics, sources cascade`);
  await db.insert(sources).values({ id: 'bench', url: 'https://bench.example/feed', pollSeconds: 900 });
  await db.insert(topics).values({ slug: SLUG, title: 'Bench topic', query: 'bench', definitionHash: 'bench' });
  const corpus = new Corpus(3);
  const now = Date.now();
  const items = Array.from({ length: 50 }, (_, index) => corpus.story(index, new Date(now - index * 600_000)));
  await db.transaction(async (tx) => {
    const result = await storeItems(tx, 'bench', items);
    await tx.insert(topicStories).values(result.stored.map((entry) => ({ topicSlug: SLUG, storyId: entry.storyId, publishedAt: entry.item.publishedAt })));
    await refreshStories(tx, result.touchedStories);
  });
  const topic = { slug: SLUG, title: 'Bench topic', query: 'bench', limit: 50 };
  return {
    config: {
      topics: [topic],
      sources: [],
      publish: DEFAULT_PUBLISH_SETTINGS,
      fetch: DEFAULT_FETCH_SETTINGS,
      worker: DEFAULT_WORKER_SETTINGS,
      retention: DEFAULT_RETENTION_SETTINGS,
    },
    database,
    metrics: createMetrics(),
  };
}

async function load(url: string, seconds: number, headers: Record<string, string> = {}) {
  const result = await autocannon({ url, connections: 16, duration: seconds, headers });
  if (result.non2xx > 0 && !headers['if-none-match']) throw new Error(`${result.non2xx} non-2xx responses from ${url}`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export async function serveBench(database: DatabaseHandle, seconds: number, progress: (line: string) => void): Promise<Figure[]> {
  const app = await seed(database);
  const server = createAppServer(app, { publicUrl: 'http://bench.example' });
  const ours = `http://127.0.0.1:${(await listen(server, 0, '127.0.0.1')).port}/topics/${SLUG}.atom`;
  const first = await fetch(ours, { headers: { 'accept-encoding': 'identity' } });
  const bytes = Buffer.from(await first.arrayBuffer());
  const etag = first.headers.get('etag')!;
  if ((bytes.toString().match(/<entry>/g) ?? []).length !== 50) throw new Error('the bench feed does not hold 50 entries');

  const bare = createServer((request, response) => {
    if (request.headers['if-none-match'] === etag) return response.writeHead(304, { etag }).end();
    response.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8', 'content-length': bytes.byteLength, etag }).end(bytes);
  });
  const baseline = `http://127.0.0.1:${(await listen(bare, 0, '127.0.0.1')).port}/`;
  const figures: Figure[] = [];
  try {
    for (const [path, headers] of [
      ['200', { 'accept-encoding': 'identity' }],
      ['304', { 'accept-encoding': 'identity', 'if-none-match': etag }],
    ] as const) {
      const wirefeed = await load(ours, seconds, headers);
      const node = await load(baseline, seconds, headers);
      progress(`serve: ${path} path: ${wirefeed.rps.toFixed(0)} req/s vs bare ${node.rps.toFixed(0)} req/s`);
      figures.push(
        { benchmark: 'serve', metric: `${path} path req/s (${bytes.byteLength} B feed, 50 entries)`, value: wirefeed.rps, unit: 'req/s' },
        { benchmark: 'serve', metric: `${path} path req/s, bare Node server, same bytes`, value: node.rps, unit: 'req/s' },
        { benchmark: 'serve', metric: `${path} path latency p50 / p99`, value: wirefeed.p50, unit: `ms (p99 ${wirefeed.p99} ms)` },
        {
          benchmark: 'serve',
          metric: `${path} path throughput vs bare server`,
          value: wirefeed.rps / node.rps,
          unit: 'x',
          baseline: 'bare Node server',
          headline: true,
        },
      );
    }
  } finally {
    await close(server);
    await close(bare);
  }
  return figures;
}
