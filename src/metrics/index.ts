/**
 * Prometheus metrics (prom-client): one registry per app, created by it and passed down. The worker counts fetches
 * and items, the server counts feed requests; queue lag and story counts are read from the database when /metrics
 * is scraped.
 */

import { sql } from 'drizzle-orm';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Database, rowsOf, textArray } from '../db/client.js';
import type { Source } from '../model/source.js';
import { quietSources } from '../store/sources.js';
import { webhookBacklog } from '../store/webhooks.js';

export type Metrics = ReturnType<typeof createMetrics>;

/** The app's registry and its metrics. Why it is long: one declaration per metric, each with its help text. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'wirefeed_' });
  const registers = [registry];
  const storeGauges = createStoreGauges(registers);
  return {
    registry,
    fetches: new Counter({
      name: 'wirefeed_fetches_total',
      help: 'Source fetches by outcome (ok, not-modified, failed, gone, deferred) and HTTP status.',
      labelNames: ['outcome', 'status'] as const,
      registers,
    }),
    fetchDuration: new Histogram({
      name: 'wirefeed_fetch_duration_seconds',
      help: 'Time from request to stored items (or failure), per source fetch.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40],
      registers,
    }),
    itemsStored: new Counter({
      name: 'wirefeed_items_total',
      help: 'Items seen in fetched feeds by result: new, duplicate, revised or filtered (left out by the source keep or exclude query).',
      labelNames: ['result'] as const,
      registers,
    }),
    articlePages: new Counter({
      name: 'wirefeed_article_pages_total',
      help: 'Article pages fetched for sources with fullText, by result: article (read into the item), none (no article longer than the feed text) or failed.',
      labelNames: ['result'] as const,
      registers,
    }),
    topicMatches: new Counter({ name: 'wirefeed_topic_matches_total', help: 'Stories filed under topics at ingest.', registers }),
    prunedRows: new Counter({
      name: 'wirefeed_pruned_rows_total',
      help: 'Rows deleted by the store housekeeping past their retention, by table (items, stories, item_bands, fetch_log).',
      labelNames: ['table'] as const,
      registers,
    }),
    webhookStories: new Counter({
      name: 'wirefeed_webhook_stories_total',
      help: 'Stories sent to topic webhooks, by result: delivered, failed (to be sent again) or dropped (queued longer than a day).',
      labelNames: ['result'] as const,
      registers,
    }),
    websubRequests: new Counter({
      name: 'wirefeed_websub_requests_total',
      help: "Requests to sources' WebSub hubs, by mode (subscribe, unsubscribe) and outcome (sent, failed).",
      labelNames: ['mode', 'outcome'] as const,
      registers,
    }),
    websubPushes: new Counter({
      name: 'wirefeed_websub_pushes_total',
      help: "Pushes from sources' WebSub hubs, by outcome: accepted (the source made due), unsigned (no valid signature: ignored) or unknown (no such subscription).",
      labelNames: ['outcome'] as const,
      registers,
    }),
    leaseClaims: new Counter({ name: 'wirefeed_lease_claims_total', help: 'Sources claimed by this worker for fetching.', registers }),
    feedRequests: new Counter({
      name: 'wirefeed_feed_requests_total',
      help: 'HTTP requests served, by route kind and status.',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    /** Reads the store-wide gauges (story and item counts, queue lag, table sizes, webhook backlogs) from the database. */
    updateStoreGauges: storeGauges.update,
  };
}

/** The gauges read from the database (any process may serve them), and their reading. Why it is long: one declaration per gauge. */
function createStoreGauges(registers: Registry[]) {
  const stories = new Gauge({ name: 'wirefeed_stories', help: 'Stories in the store.', registers });
  const items = new Gauge({ name: 'wirefeed_items', help: 'Items in the store.', registers });
  const queueLag = new Gauge({
    name: 'wirefeed_queue_lag_seconds',
    help: 'How long the most overdue source has been waiting (now - oldest due next_check_at); 0 when none is due.',
    registers,
  });
  const tableBytes = new Gauge({
    name: 'wirefeed_table_bytes',
    help: 'Size on disk of each store table, with its indexes and TOAST data.',
    labelNames: ['table'] as const,
    registers,
  });
  const webhookBacklogStories = new Gauge({
    name: 'wirefeed_webhook_backlog_stories',
    help: "Stories waiting for each topic's webhooks (webhook: its name, empty for an unnamed one).",
    labelNames: ['topic', 'webhook'] as const,
    registers,
  });
  const webhookBacklogAge = new Gauge({
    name: 'wirefeed_webhook_backlog_age_seconds',
    help: "How long the oldest story waiting for each of a topic's webhooks has waited.",
    labelNames: ['topic', 'webhook'] as const,
    registers,
  });
  const quiet = new Gauge({
    name: 'wirefeed_sources_quiet',
    help: 'Sources fetched without error that have brought no new item for longer than their own pace (or quietAfter) allows.',
    registers,
  });
  /**
   * Reads the gauges; the queue lag and the quiet sources are those of `active` (the configured sources a worker
   * fetches, none paused).
   */
  async function update(db: Database, active: ReadonlyArray<Pick<Source, 'id' | 'quietAfter'>>): Promise<void> {
    const sourceIds = active.map((source) => source.id);
    const [row] = await rowsOf<{ stories: number; items: number; lag: number }>(
      db,
      sql`
      select (select count(*) from stories)::float8 as stories,
             (select count(*) from items)::float8 as items,
             coalesce(extract(epoch from now() - (select min(next_check_at) from sources
               where id = any(${textArray(sourceIds)}) and gone_at is null and next_check_at <= now())), 0)::float8 as lag`,
    );
    stories.set(Number(row?.stories ?? 0));
    items.set(Number(row?.items ?? 0));
    queueLag.set(Number(row?.lag ?? 0));
    const sizes = await rowsOf<{ table: string; bytes: number }>(
      db,
      sql`select relname as table, pg_total_relation_size(oid)::float8 as bytes from pg_class where relnamespace = current_schema()::regnamespace and relkind = 'r'`,
    );
    for (const { table, bytes } of sizes) tableBytes.set({ table }, bytes);
    quiet.set((await quietSources(db, active)).length);
    const backlog = await webhookBacklog(db);
    webhookBacklogStories.reset();
    webhookBacklogAge.reset();
    for (const [topic, webhooks] of backlog) {
      for (const [webhook, { queued, oldest }] of webhooks) {
        webhookBacklogStories.set({ topic, webhook }, queued);
        webhookBacklogAge.set({ topic, webhook }, Math.max(0, (Date.now() - oldest.getTime()) / 1000));
      }
    }
  }
  return { update };
}
