import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from './config/load.js';
import { type DatabaseHandle, type DatabaseOptions, databaseOptionsFromEnv, isDatabaseUnavailable, openMigratedDatabase } from './db/client.js';
import { HttpClient } from './fetch/index.js';
import { log } from './log.js';
import { createMetrics, type Metrics } from './metrics/index.js';
import type { ProgressFactory } from './model/progress.js';
import type { Config } from './model/settings.js';
import { PageReader } from './normalize/page-reader.js';
import { syncSources } from './store/sources.js';
import { backfillTopic, syncTopics } from './store/topics.js';
import { type CompiledTopic, compileTopics, type TopicMatcher, topicMatcher } from './topics/topics.js';

export interface App {
  config: Config;
  database: DatabaseHandle;
  topics: CompiledTopic[];
  matcher: TopicMatcher;
  /** The process's HTTP client (connection pools, per-host limit); closed with the app. */
  http: HttpClient;
  /** Reads web pages (articles for fullText, listings for scrape) in a thread of its own; closed with the app. */
  pages: PageReader;
  metrics: Metrics;
  /**
   * Reads the config folder again and applies it (sources and topics synced, new or changed topics backfilled). An
   * invalid config throws ConfigError and changes nothing: the last good config keeps running.
   */
  reload(): Promise<Config>;
  close(): Promise<void>;
}

/** A stop (SIGTERM, SIGINT) was asked for while the app was starting; what was done so far is committed whole. */
export class StartAborted extends Error {
  constructor() {
    super('stopped while starting');
    this.name = 'StartAborted';
  }
}

/** An app whose database may not be reachable yet (see startApp). */
export interface StartingApp {
  ready: Promise<App>;
  /** What the start is waiting for, for /readyz; undefined before the first failed attempt. */
  waitingFor(): string | undefined;
  /** The registry the app will count into, already served while it starts. */
  metrics: Metrics;
}

const START_RETRY_MAX_MS = 30_000;

/**
 * Opens the app, retrying with exponential backoff (1 s doubling to 30 s) while the database is unreachable, as when
 * Postgres starts after us. Config errors and other failures are not retried. `signal` gives up waiting (shutdown).
 */
export function startApp(options: AppOptions & { signal?: AbortSignal }): StartingApp {
  let problem: string | undefined;
  const metrics = options.metrics ?? createMetrics();
  const ready = (async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await openApp({ ...options, metrics });
      } catch (error) {
        if (!isDatabaseUnavailable(error) || options.signal?.aborted) throw error;
        const delayMs = Math.min(START_RETRY_MAX_MS, 1000 * 2 ** (attempt - 1));
        const reason = (error as Error).message.split('\n')[0];
        problem = `database unavailable (${reason}); attempt ${attempt} failed, next in ${delayMs / 1000}s`;
        log.warn({ attempt, retryInSeconds: delayMs / 1000, error: reason }, 'database unavailable at start; retrying');
        await sleep(delayMs, undefined, { signal: options.signal });
      }
    }
  })();
  return { ready, waitingFor: () => problem, metrics };
}

export interface AppOptions {
  configDir: string;
  /** Where to connect (default: from DATABASE_URL / DATA_DIR), or an open handle that the caller keeps owning. */
  database?: DatabaseOptions | DatabaseHandle;
  /** Progress of topic backfills (the command line shows it; services log each backfill instead). */
  progress?: ProgressFactory;
  /** A stop asked for while starting: the start gives up between steps (each step commits whole, or not at all). */
  signal?: AbortSignal;
  /** The metrics registry to count into (default: a new one). */
  metrics?: Metrics;
}

/**
 * Loads and validates the config (throwing ConfigError before anything else happens), opens and migrates the
 * database, syncs sources and topics into it and backfills topics that are new or whose query changed.
 */
export async function openApp(options: AppOptions): Promise<App> {
  const config = loadConfig(options.configDir);
  const given = options.database && 'db' in options.database ? options.database : undefined;
  const database = given ?? (await openMigratedDatabase((options.database as DatabaseOptions) ?? databaseOptionsFromEnv()));
  const stopAsked = () => {
    if (options.signal?.aborted) throw new StartAborted();
  };
  const http = new HttpClient({ perHost: config.fetch.perHost });
  const pages = new PageReader();
  const close = async () => {
    await http.close();
    await pages.close();
    if (!given) await database.close();
  };
  try {
    stopAsked();
    const app: App = {
      config,
      database,
      http,
      pages,
      metrics: options.metrics ?? createMetrics(),
      ...(await applyConfig(database, config, options.progress, options.signal).catch((error: unknown) => {
        if (options.signal?.aborted) throw new StartAborted();
        throw error;
      })),
      async reload() {
        const next = loadConfig(options.configDir);
        http.setPerHostLimit(next.fetch.perHost);
        Object.assign(app, { config: next, ...(await applyConfig(database, next, options.progress)) });
        log.info({ sources: next.sources.length, topics: next.topics.length }, 'config reloaded');
        return next;
      },
      close,
    };
    return app;
  } catch (error) {
    await close();
    throw error;
  }
}

/** Compiles the topics and brings the database in line with a config: sources, topics, backfills. */
async function applyConfig(
  database: DatabaseHandle,
  config: Config,
  progress?: ProgressFactory,
  signal?: AbortSignal,
): Promise<{ topics: CompiledTopic[]; matcher: TopicMatcher }> {
  const topics = compileTopics(config.topics, config.sources);
  const matcher = topicMatcher(topics, config.sources);
  await syncSources(database.db, config.sources);
  const changed = await syncTopics(database.db, config.topics);
  for (const topic of topics.filter((candidate) => changed.includes(candidate.slug))) {
    const members = await backfillTopic(database.db, topic, matcher, progress, signal);
    log.info({ topic: topic.slug, members, days: topic.backfillDays }, 'topic backfilled');
  }
  return { topics, matcher };
}
