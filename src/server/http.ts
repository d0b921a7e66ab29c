import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { log } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { withQuiet } from '../model/quiet.js';
import type { Config } from '../model/settings.js';
import { activeSources, withReads } from '../model/source.js';
import { sourceSettings } from '../model/source-settings.js';
import { trimEndOf } from '../model/text.js';
import type { Topic } from '../model/topic.js';
import { type FeedFormat, feedUrl, topicPageUrl } from '../model/urls.js';
import { DIGEST_READ_LIMIT, digestChannel, digestEntries, digestWindows } from '../publish/digest.js';
import { CONTENT_TYPES, renderFeed, topicChannel } from '../publish/render.js';
import { searchStories, searchVersion } from '../store/search.js';
import { fetchHistory, itemsPerDay, sourceConditions, sourceHealthWithPace } from '../store/sources.js';
import { topicDayCounts, topicEntries, topicHeadlines, topicsVersion, topicVersion } from '../store/topics.js';
import { accessOf, carriesCredentials, listedTopics, routeTokens, splitTokenPath, type TopicTokens, tokenPath, topicTokens } from './access.js';
import { type CachedBody, chooseEncoding, etagFor, FeedCache, makeBody, matchesEtag } from './feed-cache.js';
import { renderTopicsOpml } from './opml.js';
import { LOCAL_TIME_SCRIPT_HASH, renderIndexPage, renderStoriesPage, renderTopicPage } from './page.js';
import { answerHub } from './push.js';
import { BadRequest, baseUrlFromHost, encodeCursor, negotiateFormat, type PageRequest, parsePageRequest, requestUrl } from './request.js';
import { Admission, parseSearchRequest, type SearchRequest, searchChannel, searchFormHtml, searchMatcher } from './search.js';
import { renderSourceJson, renderSourcePage, renderSourcesJson, renderSourcesPage, type SourceStatus, SPARKLINE_DAYS, sourcesSummary } from './sources-page.js';

/** What a worker process serves when it listens (METRICS_PORT): its health and its own metrics, no feeds. */
const OPERATIONS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export interface ServerOptions {
  /** Serve only /healthz, /readyz and /metrics (a worker process); everything else is 404. */
  operationsOnly?: boolean;
  /** Public base URL (https://feeds.example.org); when unset, publish.publicUrl, else the request's Host header. */
  publicUrl?: string;
  /**
   * How long a topic's version (topics.changed_at) is trusted before asking the database again. Changes made in
   * this process are seen at once (`invalidateTopics`); changes by other worker processes within this delay.
   */
  versionTtlMs?: number;
  /** How long /metrics reuses the store-wide gauges (story and item counts, queue lag) it read from the database. */
  storeGaugesTtlMs?: number;
  /** How long the source health shown by the index and /sources is reused. */
  sourcesTtlMs?: number;
}

const HEADLINES_ON_INDEX = 5;
const SOURCES_TTL_MS = 5_000;
/** Fetch attempts a source's page lists, newest first. */
const SOURCE_PAGE_FETCHES = 50;
const TEXT = 'text/plain; charset=utf-8';
const FEED_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
};
const PAGE_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  // The one script allowed is the local-time one, by its hash.
  'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; img-src https: http:; script-src ${LOCAL_TIME_SCRIPT_HASH}; frame-ancestors 'none'`,
};
/** How long the store-wide gauges of /metrics (counts, queue lag) are reused: a scrape must not cost a table scan. */
const STORE_GAUGES_TTL_MS = 15_000;

/** Plain-text answers (errors echo what the request sent): never sniffed as HTML. */
function sendText(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': TEXT, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff', ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** The answer to a request without the access token (publish.token): a Basic challenge, so that a browser asks for it. */
function sendUnauthorized(response: ServerResponse) {
  sendText(response, 401, 'This Wirefeed asks for its access token: add ?token=… to the URL, or give it as the password (any user name)\n', {
    'www-authenticate': 'Basic realm="Wirefeed", charset="UTF-8"',
    'cache-control': 'no-store',
  });
}

/** A page answered fresh (an error, a form): not cached, never framed. */
function sendPage(request: IncomingMessage, response: ServerResponse, status: number, html: string) {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-cache',
    ...PAGE_SECURITY_HEADERS,
  });
  response.end(request.method === 'HEAD' ? undefined : html);
}

/** Sends a cached body with validators, compression and 304s for conditional requests. */
function sendBody(request: IncomingMessage, response: ServerResponse, body: CachedBody, headers: Record<string, string>, lastModified?: Date): void {
  const encoding = chooseEncoding(request.headers['accept-encoding'], body);
  const common: Record<string, string> = {
    ...headers,
    // What was asked for with credentials is kept by the reader's cache only, never by a shared one for others.
    ...(headers['cache-control'] && carriesCredentials(request) ? { 'cache-control': headers['cache-control'].replace(/^public\b/, 'private') } : {}),
    etag: etagFor(body, encoding),
    vary: headers.vary ? `${headers.vary}, Accept-Encoding` : 'Accept-Encoding',
    ...(lastModified ? { 'last-modified': lastModified.toUTCString() } : {}),
  };
  const ifNoneMatch = request.headers['if-none-match'];
  const ifModifiedSince = Date.parse(request.headers['if-modified-since'] ?? '');
  const notModified = ifNoneMatch
    ? matchesEtag(ifNoneMatch, body)
    : lastModified !== undefined && !Number.isNaN(ifModifiedSince) && Math.floor(lastModified.getTime() / 1000) * 1000 <= ifModifiedSince;
  if (notModified) {
    delete common['content-type'];
    response.writeHead(304, common);
    response.end();
    return;
  }
  const bytes = encoding === 'identity' ? body.identity : body[encoding]!;
  response.writeHead(200, { ...common, 'content-length': String(bytes.byteLength), ...(encoding === 'identity' ? {} : { 'content-encoding': encoding }) });
  response.end(request.method === 'HEAD' ? undefined : bytes);
}

/** A low-cardinality label for a request path. */
function routeKind(path: string): string {
  if (path.startsWith('/topics/')) return /\.html(\?|$)/.test(path) ? 'page' : 'feed';
  if (path === '/' || path.startsWith('/?')) return 'page';
  if (path.startsWith('/sources')) return 'sources';
  if (path === '/search' || path.startsWith('/search.') || path.startsWith('/search?')) return 'search';
  return ['/opml', '/healthz', '/readyz', '/metrics', '/websub'].find((known) => path.startsWith(known))?.slice(1) ?? 'other';
}

export interface AppServer extends Server {
  /** Rendered feeds, shared by all requests; exposed for tests and metrics. */
  feedCache: FeedCache;
  /** Forgets the remembered versions of these topics, so the next request re-reads them (and re-renders if changed). */
  invalidateTopics(slugs: readonly string[]): void;
}

/** What the server needs of an app; config is read on every request, since a config reload replaces it. */
export interface ServedApp {
  config: Pick<Config, 'topics' | 'sources' | 'publish' | 'fetch' | 'worker' | 'retention'>;
  /** Which store: the sources page is served by default on the embedded one (one person's own instance). */
  database: { db: Database; engine?: 'postgres' | 'embedded' };
  metrics: Metrics;
}

/** An app whose database may not be reachable yet: the server answers health and metrics meanwhile. */
export interface StartingServedApp {
  ready: Promise<ServedApp>;
  waitingFor(): string | undefined;
  metrics: Metrics;
  /** publish.token of the config read at start: /metrics asks for one before the app is open too. */
  tokens?: readonly string[];
}

type Versions = Map<string, { version: Date; checkedAt: number }>;
/** The key in Versions of the newest version of all topics (no slug is empty). */
const INDEX_VERSION = '';
/** The key in Versions of what search results depend on (no slug has a space). */
const SEARCH_VERSION = ' search';
/** Searches one server runs at once, and how many more may wait for their turn. */
const SEARCHES_RUNNING = 2;
const SEARCHES_WAITING = 8;
/** Every route but /healthz; `pathToken` is the access token the path held (`/t/<token>/…`), taken off `url`. */
type Routes = (request: IncomingMessage, response: ServerResponse, url: URL, pathToken?: string) => Promise<unknown>;

/**
 * The feed server. Given an app still starting (waiting for its database), it listens at once: /healthz answers
 * 200, /readyz and every feed 503 until the app is open, so an orchestrator neither restarts it nor routes to it.
 */
export function createAppServer(app: ServedApp | StartingServedApp, options: ServerOptions = {}): AppServer {
  const feedCache = new FeedCache();
  const versions: Versions = new Map();
  let routes: Routes | undefined;
  let opened: ServedApp | undefined;
  const open = (ready: ServedApp) => {
    opened = ready;
    routes = appRoutes(ready, options, feedCache, versions);
  };
  if ('ready' in app) app.ready.then(open, () => {});
  else open(app);
  const waitingFor = 'ready' in app ? app.waitingFor : () => undefined;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = requestUrl(request.url);
    const { pathname, token: pathToken } = splitTokenPath(url.pathname);
    url.pathname = pathname;
    if (options.operationsOnly && !OPERATIONS_PATHS.has(url.pathname)) {
      request.resume();
      return sendText(response, 404, 'Not found: this is a worker; feeds are served by "wirefeed serve"\n');
    }
    // A source's hub calls back (GET to verify, POST to push): no access token, the URL's id and a signature instead.
    const callback = /^\/websub\/([^/]*)$/.exec(url.pathname);
    if (callback && opened) {
      const answer = await answerHub(opened, request, callback[1]!, url);
      return sendText(response, answer.status, answer.body, { 'cache-control': 'no-store' });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      request.resume();
      return sendText(response, 405, 'Method not allowed\n', { allow: 'GET, HEAD' });
    }
    if (url.pathname === '/healthz') return sendText(response, 200, 'ok\n', { 'cache-control': 'no-store' });
    if (routes) return routes(request, response, url, pathToken);
    if (url.pathname === '/metrics') {
      if (!accessOf(request, url, ('ready' in app ? app.tokens : undefined) ?? [], pathToken).granted) return sendUnauthorized(response);
      return sendMetrics(request, response, app.metrics);
    }
    return sendText(response, 503, `not ready: starting, ${waitingFor() ?? 'opening the database'}\n`, { 'cache-control': 'no-store', 'retry-after': '5' });
  };

  const server = createServer((request, response) => {
    response.on('finish', () =>
      app.metrics.feedRequests.inc({ route: routeKind(splitTokenPath(request.url ?? '/').pathname), status: String(response.statusCode) }),
    );
    handle(request, response).catch((error: Error) => {
      if (error instanceof BadRequest) return sendText(response, 400, `${error.message}\n`);
      log.error({ url: request.url, error: error.message }, 'request failed');
      if (!response.headersSent) sendText(response, 500, 'Internal server error\n');
      else response.destroy();
    });
  }) as AppServer;
  server.feedCache = feedCache;
  server.invalidateTopics = (slugs) => {
    for (const slug of [INDEX_VERSION, SEARCH_VERSION, ...slugs]) versions.delete(slug);
  };
  return server;
}

/**
 * Every route but /healthz, for an open app. Why it is long: the handlers share this app's caches (topic versions,
 * source health, store gauges) through one closure, built once per server.
 */
function appRoutes(app: ServedApp, options: ServerOptions, feedCache: FeedCache, versions: Versions): Routes {
  const { db } = app.database;
  // Read through app.config on every request: a config reload replaces it.
  const publishSettings = () => app.config.publish;
  const versionTtlMs = options.versionTtlMs ?? 1000;
  /** A topic's version (INDEX_VERSION: the newest of all), trusted for versionTtlMs. */
  const versionOf = async (slug: string): Promise<Date> => {
    const known = versions.get(slug);
    if (known && Date.now() - known.checkedAt < versionTtlMs) return known.version;
    const read = slug === INDEX_VERSION ? topicsVersion(db) : slug === SEARCH_VERSION ? searchVersion(db) : topicVersion(db, slug);
    const version = (await read) ?? new Date(0);
    versions.set(slug, { version, checkedAt: Date.now() });
    return version;
  };

  /** The access token each request was answered with: the links written for it carry that one. */
  const grantedTokens = new WeakMap<IncomingMessage, string>();
  /** Where links to this server point: the public URL (or the Host), and the request's access token's path. */
  const baseUrlOf = (request: IncomingMessage) => {
    const configured = options.publicUrl ?? publishSettings().publicUrl;
    const token = grantedTokens.get(request);
    return `${configured ? trimEndOf(configured, '/') : baseUrlFromHost(request.headers.host)}${token === undefined ? '' : tokenPath(token)}`;
  };
  const readStoreGauges = reuseFor(options.storeGaugesTtlMs ?? STORE_GAUGES_TTL_MS, () => app.metrics.updateStoreGauges(db, activeSources(app.config.sources)));
  // The index changes with the topics' content (their versions) and with the configured list of topics.
  const topicListKey = new WeakMap<readonly Topic[], string>();
  const listKeyOf = (topics: readonly Topic[]) => {
    let key = topicListKey.get(topics);
    if (!key) {
      key = createHash('sha256')
        .update(JSON.stringify(topics.map((topic) => [topic.slug, topic.title, topic.description])))
        .digest('base64url');
      topicListKey.set(topics, key);
    }
    return key;
  };

  // Source health changes with fetch results, not topic versions: the index's note reads the sources' state only,
  // the sources page also their item counts and items per day.
  const sourcesTtlMs = options.sourcesTtlMs ?? SOURCES_TTL_MS;
  const readConditions = reuseFor(sourcesTtlMs, () => sourceConditions(db));
  const readSources = reuseFor(sourcesTtlMs, async (): Promise<SourceStatus[]> => {
    const now = new Date();
    const [health, perDay] = await Promise.all([sourceHealthWithPace(db), itemsPerDay(db, SPARKLINE_DAYS, now)]);
    return health.map((source) => ({ ...source, itemsPerDay: perDay.get(source.id) ?? new Array<number>(SPARKLINE_DAYS).fill(0) }));
  });
  /** Rows of the configured sources (a source taken out of the config keeps its row), with what each reads. */
  const configuredOnly = <T extends { id: string }>(rows: readonly T[]) => withReads(rows, app.config.sources).filter((row) => row.reads !== undefined);
  /** The sources page's rows: the configured sources' (cached) health, judged by the config as it is now. */
  const configuredStatuses = async () => withQuiet(configuredOnly(await readSources()), app.config.sources);
  // The topics without tokens of their own, and the others' tokens by slug: worked out once per config.
  const accessLists = new WeakMap<readonly Topic[], { publicTopics: readonly Topic[]; tokens: TopicTokens }>();
  const accessListsOf = (topics: readonly Topic[]) => {
    let lists = accessLists.get(topics);
    if (!lists) {
      lists = { publicTopics: topics.filter((topic) => !topic.tokens), tokens: topicTokens(topics) };
      accessLists.set(topics, lists);
    }
    return lists;
  };
  /**
   * The topics the index and the OPML lists show a request (see listedTopics); a topic opened by its own token has
   * the links written for the request carry that token.
   */
  const listedTopicsOf = (request: IncomingMessage, url: URL, pathToken: string | undefined): readonly Topic[] => {
    const all = app.config.topics;
    const listed = listedTopics(request, url, pathToken, all, accessListsOf(all).publicTopics, grantedTokens.has(request));
    if (listed.token !== undefined) grantedTokens.set(request, listed.token);
    return listed.topics;
  };

  /** Pages that reveal everything stored are on by default where only its owner or its readers reach the server. */
  const privateServer = () => app.database.engine === 'embedded' || publishSettings().tokens.length > 0;
  const showSources = () => publishSettings().showSources ?? privateServer();

  const pageLinks = (baseUrl: string, topic: Topic, format: FeedFormat | 'html', page: PageRequest, next?: string) => {
    const publish = publishSettings();
    const base = format === 'html' ? topicPageUrl(baseUrl, topic.slug) : feedUrl(baseUrl, topic.slug, format);
    const limit = page.limit === Math.min(topic.limit, publish.maxLimit) ? undefined : String(page.limit);
    const url = (before?: string) => {
      const params = new URLSearchParams();
      if (limit) params.set('limit', limit);
      if (before) params.set('before', before);
      const query = params.toString();
      return query ? `${base}?${query}` : base;
    };
    return { self: url(page.before ? encodeCursor(page.before) : undefined), first: url(), ...(next ? { next: url(next) } : {}) };
  };

  const serveFeed = async (
    request: IncomingMessage,
    response: ServerResponse,
    topic: Topic,
    format: FeedFormat | 'html',
    params: URLSearchParams,
    negotiated: boolean,
  ) => {
    const publish = publishSettings();
    const cacheControl = `public, max-age=${publish.maxAgeSeconds}`;
    const page = parsePageRequest(params, topic.limit, publish.maxLimit);
    const version = await versionOf(topic.slug);
    const baseUrl = baseUrlOf(request);
    // A reader let in by the topic's own token beside publish.token has no index page to go to.
    const granted = grantedTokens.get(request);
    const indexLink = publish.tokens.length === 0 || (granted !== undefined && publish.tokens.includes(granted));
    const key = `${topic.slug}|${format}|${page.limit}|${page.before ? encodeCursor(page.before) : ''}|${baseUrl}|${indexLink}`;
    const body = await feedCache.get(key, version.getTime(), async () => {
      // One extra entry tells whether an older page exists.
      const entries = await topicEntries(db, topic.slug, page.limit + 1, page.before);
      const shown = entries.slice(0, page.limit);
      const last = shown.at(-1);
      const next = entries.length > page.limit && last ? encodeCursor({ publishedAt: last.publishedAt, storyId: last.storyId }) : undefined;
      if (format === 'html')
        return renderTopicPage(baseUrl, topic, shown, { indexLink, ...(next ? { older: pageLinks(baseUrl, topic, format, page, next).next } : {}) });
      return renderFeed(format, {
        channel: topicChannel(baseUrl, topic),
        entries: shown,
        page: pageLinks(baseUrl, topic, format, page, next),
        hub: publish.hub,
        changedAt: version,
      });
    });
    const headers = {
      'content-type': format === 'html' ? 'text/html; charset=utf-8' : CONTENT_TYPES[format],
      'cache-control': cacheControl,
      ...(format === 'html' ? PAGE_SECURITY_HEADERS : FEED_SECURITY_HEADERS),
      ...(negotiated ? { vary: 'Accept' } : {}),
      ...(publish.hub && format !== 'html' ? { link: `<${publish.hub}>; rel="hub", <${feedUrl(baseUrl, topic.slug, format)}>; rel="self"` } : {}),
    };
    sendBody(request, response, body, headers, version);
  };

  const windowOfDigest = digestWindows();
  /** A topic's daily digest (publish/digest.ts): its content moves with the topic and with the day. */
  const serveDigest = async (request: IncomingMessage, response: ServerResponse, topic: Topic, format: FeedFormat) => {
    const version = await versionOf(topic.slug);
    const baseUrl = baseUrlOf(request);
    const now = new Date();
    const timeZone = topic.timeZone ?? publishSettings().timeZone;
    const startMinutes = topic.digestAtMinutes ?? publishSettings().digestAtMinutes;
    const dayWindow = windowOfDigest(now, timeZone, startMinutes);
    const [since, until] = [new Date(dayWindow.starts[0]!), new Date(dayWindow.starts.at(-1)!)];
    const changed = new Date(Math.max(version.getTime(), until.getTime()));
    const body = await feedCache.get(
      `digest|${topic.slug}|${format}|${timeZone}|${startMinutes}|${until.getTime()}|${baseUrl}`,
      version.getTime(),
      async () => {
        const [stories, counts] = await Promise.all([
          topicEntries(db, topic.slug, DIGEST_READ_LIMIT, { publishedAt: until, storyId: '' }, since),
          topicDayCounts(db, topic.slug, dayWindow.starts),
        ]);
        const channel = digestChannel(baseUrl, topic, timeZone, startMinutes);
        return renderFeed(format, { channel, entries: digestEntries(channel, topic.slug, { stories, counts }, dayWindow), changedAt: changed });
      },
    );
    const headers = { 'content-type': CONTENT_TYPES[format], 'cache-control': `public, max-age=${publishSettings().maxAgeSeconds}`, ...FEED_SECURITY_HEADERS };
    sendBody(request, response, body, headers, changed);
  };

  // Searches have a cache of their own: however many distinct queries clients make up, topic feeds stay cached.
  const searchCache = new FeedCache(200, 16 * 1024 * 1024);
  const searches = new Admission(SEARCHES_RUNNING, SEARCHES_WAITING);
  const searchOn = () => publishSettings().search ?? privateServer();
  const searchPage = (baseUrl: string, q: string, note: { text: string; error?: boolean }) =>
    renderStoriesPage(searchChannel(baseUrl, q, publishSettings().searchDepth), [], { baseUrl, header: searchFormHtml(baseUrl, q, note), empty: '' });

  const serveSearch = async (request: IncomingMessage, response: ServerResponse, format: FeedFormat | 'html', params: URLSearchParams, negotiated: boolean) => {
    if (!searchOn()) return sendText(response, 404, 'Not found: search feeds are off (publish.search)\n');
    const publish = publishSettings();
    const baseUrl = baseUrlOf(request);
    let search: SearchRequest | undefined;
    let matches: ReturnType<typeof searchMatcher> | undefined;
    try {
      search = parseSearchRequest(params, publish.maxLimit);
      matches = search && searchMatcher(search.q, app.config.sources);
    } catch (error) {
      if (format !== 'html' || !(error instanceof BadRequest)) throw error;
      return sendPage(request, response, 400, searchPage(baseUrl, params.get('q') ?? '', { text: error.message, error: true }));
    }
    if (!search || !matches) {
      if (format !== 'html') throw new BadRequest(`q: give a query, as in ${baseUrl}/search.${format}?q=japan+AND+defense`);
      return sendPage(request, response, 200, searchPage(baseUrl, '', { text: 'Every stored story, searched with the topic query language.' }));
    }
    const { q, limit } = search;
    const version = await versionOf(SEARCH_VERSION);
    const key = `${format}|${limit}|${publish.searchDepth}|${baseUrl}|${q}`;
    const render = async () => {
      const result = await searchStories(db, matches, { limit, depth: publish.searchDepth });
      const channel = searchChannel(baseUrl, q, publish.searchDepth);
      if (format !== 'html') return renderFeed(format, { channel, entries: result.entries, changedAt: version });
      const among = result.truncated ? `, among the newest ${result.scanned.toLocaleString('en-US')} stored` : '';
      const note = { text: `${result.entries.length} ${result.entries.length === 1 ? 'story' : 'stories'}${among}.` };
      return renderStoriesPage(channel, result.entries, { baseUrl, header: searchFormHtml(baseUrl, q, note), empty: 'No stories match.' });
    };
    // A cached result needs no turn; a search that is not cached waits for one, or is turned away.
    const body = searchCache.peek(key, version.getTime()) ?? (await searches.run(() => searchCache.get(key, version.getTime(), render)))?.value;
    if (!body) return sendText(response, 503, 'Busy: too many searches at once; try again in a few seconds\n', { 'retry-after': '5' });
    sendBody(
      request,
      response,
      body,
      {
        'content-type': format === 'html' ? 'text/html; charset=utf-8' : CONTENT_TYPES[format],
        'cache-control': `public, max-age=${publish.maxAgeSeconds}`,
        ...(format === 'html' ? PAGE_SECURITY_HEADERS : FEED_SECURITY_HEADERS),
        ...(negotiated ? { vary: 'Accept' } : {}),
      },
      version,
    );
  };

  /** One configured source's page (/sources/<id>) or JSON: its state and its newest fetch attempts. */
  const serveSource = async (request: IncomingMessage, response: ServerResponse, id: string, json: boolean) => {
    if (!showSources()) return sendText(response, 404, 'Not found: the sources page is off (publish.showSources)\n');
    // The sources page's own rows (read at most every sourcesTtlMs), and this one's fetch log.
    const source = (await configuredStatuses()).find((row) => row.id === id);
    if (!source) return sendText(response, 404, 'Not found: no such source, or not fetched yet\n');
    const attempts = await fetchHistory(db, id, SOURCE_PAGE_FETCHES);
    const settings = sourceSettings(app.config.sources.find((candidate) => candidate.id === id)!, app.config.retention);
    const body = json ? renderSourceJson(source, attempts, new Date()) : renderSourcePage(baseUrlOf(request), source, attempts, settings);
    return sendBody(request, response, makeBody(body, 0), {
      'content-type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      ...(json ? { 'x-content-type-options': 'nosniff' } : PAGE_SECURITY_HEADERS),
    });
  };
  const serveSources = async (request: IncomingMessage, response: ServerResponse, json: boolean) => {
    if (!showSources()) return sendText(response, 404, 'Not found: the sources page is off (publish.showSources)\n');
    // What each source reads is the config's (which a reload replaces), not the cached health's.
    const sources = await configuredStatuses();
    const body = json ? renderSourcesJson(sources, new Date()) : renderSourcesPage(baseUrlOf(request), sources);
    return sendBody(request, response, makeBody(body, 0), {
      'content-type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      ...(json ? { 'x-content-type-options': 'nosniff' } : PAGE_SECURITY_HEADERS),
    });
  };

  const serveIndex = async (request: IncomingMessage, response: ServerResponse, url: URL, pathToken: string | undefined) => {
    const topics = listedTopicsOf(request, url, pathToken);
    const baseUrl = baseUrlOf(request);
    const version = await versionOf(INDEX_VERSION);
    const summary = sourcesSummary(configuredOnly(await readConditions()));
    const note = summary ? { summary, ...(showSources() ? { href: `${baseUrl}/sources` } : {}) } : undefined;
    const search = searchOn();
    const body = await feedCache.get(
      `index|${listKeyOf(topics)}|${baseUrl}|${note?.summary ?? ''}|${note?.href ?? ''}|${search}`,
      version.getTime(),
      async () => {
        const headlines = await topicHeadlines(
          db,
          topics.map((topic) => topic.slug),
          HEADLINES_ON_INDEX,
        );
        return renderIndexPage(
          baseUrl,
          topics.map((topic) => ({ topic, latest: headlines.get(topic.slug) ?? [] })),
          note,
          search,
        );
      },
    );
    return sendBody(request, response, body, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=60', ...PAGE_SECURITY_HEADERS });
  };

  return async (request, response, url, pathToken) => {
    if (url.pathname !== '/readyz') {
      const access = accessOf(request, url, routeTokens(url.pathname, publishSettings().tokens, accessListsOf(app.config.topics).tokens), pathToken);
      if (!access.granted) return sendUnauthorized(response);
      if (access.token !== undefined) grantedTokens.set(request, access.token);
    }
    if (url.pathname === '/readyz') {
      try {
        await db.execute(sql`select 1`);
        return sendText(response, 200, 'ready\n', { 'cache-control': 'no-store' });
      } catch (error) {
        return sendText(response, 503, `not ready: database unavailable (${(error as Error).message.split('\n')[0]})\n`, { 'cache-control': 'no-store' });
      }
    }
    if (url.pathname === '/metrics') {
      await readStoreGauges();
      return sendMetrics(request, response, app.metrics);
    }
    if (url.pathname === '/') return serveIndex(request, response, url, pathToken);
    if (url.pathname === '/sources' || url.pathname === '/sources.json') return serveSources(request, response, url.pathname === '/sources.json');
    const sourceRoute = /^\/sources\/([a-z0-9-]+?)(\.json)?$/.exec(url.pathname);
    if (sourceRoute) return serveSource(request, response, sourceRoute[1]!, sourceRoute[2] !== undefined);
    if (url.pathname === '/opml' || url.pathname === '/opml/digests') {
      const list = url.pathname === '/opml' ? 'topics' : 'digests';
      const topics = listedTopicsOf(request, url, pathToken);
      const versions = await Promise.all(topics.map((topic) => topicVersion(db, topic.slug)));
      const newest = new Date(Math.max(0, ...versions.map((version) => version?.getTime() ?? 0)));
      const opml = renderTopicsOpml(topics, baseUrlOf(request), newest, list);
      return sendBody(request, response, makeBody(opml, 0), {
        'content-type': 'text/x-opml; charset=utf-8',
        'content-disposition': `inline; filename="wirefeed-${list}.opml"`,
        'cache-control': `public, max-age=${publishSettings().maxAgeSeconds}`,
        'x-content-type-options': 'nosniff',
      });
    }
    const searchRoute = /^\/search(?:\.(rss|atom|json|html))?$/.exec(url.pathname);
    if (searchRoute) {
      const format = (searchRoute[1] as FeedFormat | 'html' | undefined) ?? negotiateFormat(request.headers.accept);
      return serveSearch(request, response, format, url.searchParams, searchRoute[1] === undefined);
    }
    const digest = /^\/topics\/([a-z0-9-]+)\/digest\.(rss|atom|json)$/.exec(url.pathname);
    if (digest) {
      const topic = app.config.topics.find((candidate) => candidate.slug === digest[1]);
      if (!topic) return sendText(response, 404, `No topic "${digest[1]}"\n`);
      return serveDigest(request, response, topic, digest[2] as FeedFormat);
    }
    const match = /^\/topics\/([a-z0-9-]+)(?:\.(rss|atom|json|html))?$/.exec(url.pathname);
    const topic = match ? app.config.topics.find((candidate) => candidate.slug === match[1]) : undefined;
    if (!match || !topic) return sendText(response, 404, match ? `No topic "${match[1]}"\n` : 'Not found\n');
    const format = (match[2] as FeedFormat | 'html' | undefined) ?? negotiateFormat(request.headers.accept);
    return serveFeed(request, response, topic, format, url.searchParams, match[2] === undefined);
  };
}

async function sendMetrics(request: IncomingMessage, response: ServerResponse, metrics: Metrics): Promise<void> {
  const body = await metrics.registry.metrics();
  response.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : body);
}

/** Starts listening and resolves with the bound address (port 0 picks a free port). */
export async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/**
 * `load` at most once per `ttlMs`: callers within that time share the last answer (or the one in flight). A failed
 * load is not kept.
 */
function reuseFor<T>(ttlMs: number, load: () => Promise<T>): () => Promise<T> {
  let last: { value: Promise<T>; at: number } | undefined;
  return () => {
    if (last && Date.now() - last.at < ttlMs) return last.value;
    const value = load();
    const entry = { value, at: Date.now() };
    last = entry;
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}
