import type { Database } from '../db/client.js';
import type { HttpClient } from '../fetch/index.js';
import type { Metrics } from '../metrics/index.js';
import type { Config } from '../model/settings.js';
import type { PageReader } from '../normalize/page-reader.js';
import type { TopicMatcher } from '../topics/topics.js';
import type { IngestContext } from './ingest.js';
import { StoreQueue } from './store-queue.js';
import { pushSubscriber } from './subscriptions.js';
import { announceToHub } from './websub.js';

/** What the worker needs of an app; read on every tick, since a config reload replaces config and matcher. */
export interface WorkerApp {
  config: Config;
  database: { db: Database };
  matcher: TopicMatcher;
  http: HttpClient;
  /** Reads web pages (articles for fullText, listings for scrape) in a thread of its own. */
  pages: PageReader;
  metrics: Metrics;
}

/**
 * What the ingest pipeline needs from an app: its store, compiled topics, HTTP client, metrics and limits. Topics
 * that gained or changed stories are announced to the WebSub hub, if one is configured, and passed to
 * `onTopicsChanged`. A long-running worker passes its one store queue; a one-shot pass gets a queue of its own.
 */
export function ingestContext(app: WorkerApp, onTopicsChanged?: (slugs: string[]) => void, store = new StoreQueue(app.database.db)): IngestContext {
  return {
    db: app.database.db,
    topics: app.matcher,
    http: app.http,
    pages: app.pages,
    metrics: app.metrics,
    store,
    fetchLimits: app.config.fetch,
    documentLimits: app.config.fetch,
    minPollSeconds: app.config.worker.minIntervalSeconds,
    onTopicsChanged: (slugs) => {
      onTopicsChanged?.(slugs);
      void announceToHub({ http: app.http, proxy: app.config.fetch.proxy }, app.config.publish, slugs);
    },
    ...(app.config.fetch.websub && app.config.publish.publicUrl ? { push: subscriberOf(app, app.config.publish.publicUrl) } : {}),
  };
}

/** The worker's side of sources' WebSub subscriptions, calling back to `publicUrl`. */
export const subscriberOf = (app: Pick<WorkerApp, 'database' | 'http' | 'metrics'>, publicUrl: string | undefined) =>
  pushSubscriber({ db: app.database.db, http: app.http, metrics: app.metrics, publicUrl });
