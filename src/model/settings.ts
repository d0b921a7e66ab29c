import { DEFAULT_POLL_SECONDS, type ProxySetting, type Source } from './source.js';
import type { Topic, TopicWebhook } from './topic.js';

/** Limits on one fetch. */
export interface FetchLimits {
  timeoutMs: number;
  connectTimeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  timeoutMs: 20_000,
  connectTimeoutMs: 10_000,
  maxBytes: 15 * 1024 * 1024,
  maxRedirects: 5,
};

/** Limits on what is kept of one document. */
export interface DocumentLimits {
  /** Items kept from one document, in document order. */
  maxItems: number;
  /** Characters kept of each text of an item (content, summary, title). */
  maxItemChars: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = { maxItems: 1_000, maxItemChars: 256 * 1024 };

export interface FetchSettings extends FetchLimits, DocumentLimits {
  perHost: number;
  concurrency: number;
  /**
   * The proxy of every fetch of a source without its own, and of commands' fetches: `fetch.proxy`, else the
   * environment's (HTTPS_PROXY and the rest) unless `fetch.proxy: false`.
   */
  proxy?: ProxySetting;
  /** How often a source without its own `every` is fetched: seconds, or `auto` (as often as its items come). */
  every: number | 'auto';
  /** Subscribe to the WebSub hubs sources name, so a push makes its source due at once (`fetch.websub`). */
  websub: boolean;
}

export const DEFAULT_FETCH_SETTINGS: FetchSettings = {
  ...DEFAULT_FETCH_LIMITS,
  ...DEFAULT_DOCUMENT_LIMITS,
  perHost: 2,
  concurrency: 8,
  every: DEFAULT_POLL_SECONDS,
  websub: false,
};

export interface PublishSettings {
  publicUrl?: string;
  maxAgeSeconds: number;
  maxLimit: number;
  hub?: string;
  /** Serve /sources and /sources.json (they list every source); unset: on with the embedded store or a token, else off with DATABASE_URL. */
  showSources?: boolean;
  /** Serve search feeds (/search.rss?q=…, over every stored story); unset: on with the embedded store or a token, else off with DATABASE_URL. */
  search?: boolean;
  /** The most stories a search reads, newest first. */
  searchDepth: number;
  /** The time zone (IANA name) whose days daily digests list, unless a topic sets its own. */
  timeZone: string;
  /** The access tokens (one per reader, or one for all) every feed, page and /metrics asks for one of; none: open to all. */
  /** When daily digests' days start and their entries appear, in minutes after local midnight (publish.digestAt). */
  digestAtMinutes: number;
  tokens: string[];
}

export const DEFAULT_PUBLISH_SETTINGS: PublishSettings = {
  maxAgeSeconds: 300,
  maxLimit: 200,
  searchDepth: 2_000,
  timeZone: 'UTC',
  digestAtMinutes: 0,
  tokens: [],
};

export interface WorkerSettings {
  tick: string;
  leaseSeconds: number;
  batch: number;
  minIntervalSeconds: number;
  /** `worker.alerts`: the webhook told of sources' health changes (failing, quiet, gone, back). */
  alerts?: TopicWebhook;
}

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = { tick: '*/30 * * * * *', leaseSeconds: 20, batch: 100, minIntervalSeconds: 60 };

/**
 * How long the store keeps what it holds. Old items go with their stories (an archived item leaves its identity
 * behind, so a feed that still carries it does not bring it back as new); what only Wirefeed reads goes sooner.
 */
export interface RetentionSettings {
  /** Fetch attempts (the fetch log) older than this are deleted. */
  fetchLogSeconds: number;
  /** Items first seen longer ago than this are no longer candidates for clustering: their LSH band rows are deleted. */
  clusteringSeconds: number;
  /**
   * Stories whose every item was first seen and last dated longer ago than this are deleted with their items and
   * topic entries; null keeps everything.
   */
  itemsSeconds: number | null;
  /** A story holding one of its source's newest this many items stays, however old: a slow feed keeps its history. */
  keepPerSource: number;
  /** Sources whose own `retention` replaces `itemsSeconds` or `keepPerSource` for their items. */
  sources?: readonly SourceRetention[];
  /** Archived items' identities older than this are deleted (an item a feed still carries may then come back); null keeps them. */
  archivedKeysSeconds: number | null;
}

/** A source's own retention: what it sets replaces the store's for its items (a story goes once all its items may). */
export interface SourceRetention {
  sourceId: string;
  itemsSeconds?: number | null;
  keepPerSource?: number;
}

export const DEFAULT_RETENTION_SETTINGS: RetentionSettings = {
  fetchLogSeconds: 30 * 86_400,
  clusteringSeconds: 30 * 86_400,
  itemsSeconds: 180 * 86_400,
  keepPerSource: 50,
  archivedKeysSeconds: null,
};

/** Everything the config folder defines. */
export interface Config {
  /** The config folder, absolute. */
  dir: string;
  sources: Source[];
  topics: Topic[];
  fetch: FetchSettings;
  publish: PublishSettings;
  worker: WorkerSettings;
  retention: RetentionSettings;
}
