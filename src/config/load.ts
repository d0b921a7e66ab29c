import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { proxyRouteOf } from '../fetch/proxy.js';
import { environmentProxies } from '../fetch/proxy-rules.js';
import { canonicalTimeZone } from '../model/days.js';
import { formatDuration, parseDuration } from '../model/duration.js';
import {
  type Config,
  DEFAULT_FETCH_SETTINGS,
  DEFAULT_PUBLISH_SETTINGS,
  DEFAULT_RETENTION_SETTINGS,
  DEFAULT_WORKER_SETTINGS,
  type FetchSettings,
  type PublishSettings,
  type RetentionSettings,
  type SourceRetention,
  type WorkerSettings,
} from '../model/settings.js';
import { DEFAULT_POLL_SECONDS, type NetworkPolicy, type ScrapeRules, type Source, type SourceCredentials } from '../model/source.js';
import { editDistance, trimEndOf } from '../model/text.js';
import { DEFAULT_TOPIC_LIMIT, type Topic, type TopicWebhook } from '../model/topic.js';
import { percentDecoded } from '../model/urls.js';
import {
  configFileSchema,
  expandEnv,
  type FetchSettingsConfig,
  listOf,
  type PublishSettingsConfig,
  type RetentionSettingsConfig,
  type SourceConfig,
  type WebhookConfig,
  type WorkerSettingsConfig,
} from './schema.js';

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.path ? `${problem.path}: ` : '';
  return `${problem.file}:${problem.line}:${problem.column}: ${where}${problem.message}`;
}

/** "topics[0].query" from ["topics", 0, "query"]. */
function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}

class YamlFile {
  readonly lineCounter = new LineCounter();
  readonly document: Document;
  constructor(
    readonly path: string,
    readonly displayPath: string,
    text: string,
  ) {
    this.document = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
  }

  /** Position of the deepest YAML node along `path`; a key that is missing points at its parent. */
  problemAt(path: ReadonlyArray<PropertyKey>, message: string, extraColumns = 0): ConfigProblem {
    const { line, col } = this.lineCounter.linePos(this.offsetOf(path));
    return { file: this.displayPath, line, column: col + extraColumns, path: formatPath(path), message };
  }

  /** Position of the key itself (not its value) of the last element of `path`. */
  keyProblemAt(path: ReadonlyArray<PropertyKey>, message: string): ConfigProblem {
    const parent = this.document.getIn(path.slice(0, -1) as unknown[], true);
    const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && item.key.value === path.at(-1)) : undefined;
    const range = isScalar(pair?.key) ? pair.key.range : undefined;
    if (!range) return this.problemAt(path, message);
    const { line, col } = this.lineCounter.linePos(range[0]);
    return { file: this.displayPath, line, column: col, path: formatPath(path), message };
  }

  private offsetOf(path: ReadonlyArray<PropertyKey>): number {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.document.getIn(path.slice(0, depth) as unknown[], true);
      if (isNode(node) && node.range) return node.range[0];
    }
    return 0;
  }
}

export function yamlFilesIn(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir);
  } catch {
    throw new ConfigError([{ file: dir, line: 1, column: 1, path: '', message: 'config folder not found' }]);
  }
  return names
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** The keys the schema allows at `path` (an object inside the config file). */
function knownKeys(path: ReadonlyArray<PropertyKey>): string[] {
  let schema: unknown = configFileSchema;
  // An optional value is its value; a union (fullText: true or rules) is its object form, the one with keys.
  const unwrap = (node: unknown): unknown =>
    node instanceof z.ZodOptional
      ? unwrap(node.unwrap())
      : node instanceof z.ZodUnion
        ? (node.options.map(unwrap).find((option) => option instanceof z.ZodObject) ?? node)
        : node;
  for (const key of path) {
    const node = unwrap(schema);
    schema =
      typeof key === 'number' ? (node instanceof z.ZodArray ? node.element : undefined) : node instanceof z.ZodObject ? node.shape[key as string] : undefined;
  }
  const node = unwrap(schema);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function suggestKey(key: string, known: string[]): string {
  const [best] = [...known].sort((a, b) => editDistance(key.toLowerCase(), a.toLowerCase()) - editDistance(key.toLowerCase(), b.toLowerCase()));
  if (best && editDistance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(key.length / 3))) return `; did you mean "${best}"?`;
  return known.length ? `; allowed here: ${known.join(', ')}` : '';
}

/** The problems of one zod issue: one per unknown key (each with its own suggestion), else one. */
function issueProblems(file: YamlFile, issue: z.core.$ZodIssue): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => file.keyProblemAt([...issue.path, key], `unknown key "${key}"${suggestKey(key, knownKeys(issue.path))}`));
  }
  return [issueProblem(file, issue)];
}

function issueProblem(file: YamlFile, issue: z.core.$ZodIssue): ConfigProblem {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    // A required key that is not there: say which, at its parent.
    return file.problemAt(issue.path, `"${String(issue.path.at(-1))}" is missing (${issue.expected} required)`);
  }
  // A query error points at its column inside the query string (past the opening quote when quoted).
  const queryColumn = issue.code === 'custom' ? (issue.params?.queryColumn as number | undefined) : undefined;
  if (queryColumn !== undefined) {
    const node = file.document.getIn(issue.path as unknown[], true);
    const quoted = isNode(node) && 'type' in node && typeof node.type === 'string' && node.type.startsWith('QUOTE');
    return file.problemAt(issue.path, `query: ${issue.message}`, (quoted ? 1 : 0) + queryColumn - 1);
  }
  return file.problemAt(issue.path, issue.message);
}

const WEBSUB_NEEDS_PUBLIC_URL = 'needs publish.publicUrl: a hub pushes to a callback URL there';
const WEBHOOK_NEEDS_PUBLIC_URL = "needs publish.publicUrl: a webhook's stories link to the topic's feeds and pages there";
const ALERTS_NEED_PUBLIC_URL = 'needs publish.publicUrl: an alert links to the sources page there';
const TOPIC_TOKEN_BESIDE_HUB = 'cannot be used with publish.hub: a WebSub hub fetches the feeds without it';

/**
 * Reads and merges every *.yml file in `dir`; throws ConfigError listing every problem with file:line:column. `env`
 * is read for the proxies it names (HTTPS_PROXY and the rest), used when no file sets `fetch.proxy`. Why it is long:
 * one pass over the files that collects every problem, with their positions, before anything is returned.
 */
export function loadConfig(dir: string, env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const absoluteDir = resolve(dir);
  const problems: ConfigProblem[] = [];
  const sources: Source[] = [];
  const topics: Topic[] = [];
  const seenSources = new Map<string, string>();
  const seenTopics = new Map<string, string>();
  let fetch: FetchSettings = DEFAULT_FETCH_SETTINGS;
  /** Whether a file sets fetch.proxy (a URL, or false): then the environment's proxies are not read. */
  let proxyChosen = false;
  /** What sources and webhooks take from the fetch block, which may come in any file: applied once all are read. */
  const fetchDefaults: Array<(fetch: FetchSettings) => void> = [];
  let publish: PublishSettings = DEFAULT_PUBLISH_SETTINGS;
  let worker: WorkerSettings = DEFAULT_WORKER_SETTINGS;
  let retention: RetentionSettings = DEFAULT_RETENTION_SETTINGS;
  const blockFiles = new Map<string, string>();
  // The first webhook, reported if no file sets publish.publicUrl (any file may, so known only after them all).
  let webhookAt: ConfigProblem | undefined;
  // fetch.websub, reported if no file sets publish.publicUrl.
  let websubAt: ConfigProblem | undefined;
  let alertsAt: ConfigProblem | undefined;
  // The first topic with a token, reported if a file sets publish.hub.
  let topicTokenAt: ConfigProblem | undefined;
  // Sources' own retention, and where each sets its items' (checked against retention.clustering, which any file may set).
  const sourceRetention: SourceRetention[] = [];
  const sourceItemsAt: Array<{ seconds: number; at: (clustering: string) => ConfigProblem }> = [];

  for (const path of yamlFilesIn(absoluteDir)) {
    const file = new YamlFile(path, relative(process.cwd(), path) || path, readFileSync(path, 'utf8'));
    if (file.document.errors.length > 0) {
      for (const error of file.document.errors) {
        const { line, col } = file.lineCounter.linePos(error.pos[0]);
        problems.push({ file: file.displayPath, line, column: col, path: '', message: error.message.split('\n')[0]! });
      }
      continue;
    }
    const parsed = configFileSchema.safeParse(file.document.toJS() ?? {});
    if (!parsed.success) {
      // In the file's order: checks of a whole block (scrape rules by their format) come after its keys' own.
      const issues = parsed.error.issues.flatMap((issue) => issueProblems(file, issue));
      problems.push(...issues.sort((a, b) => a.line - b.line || a.column - b.column));
      continue;
    }
    for (const block of ['fetch', 'publish', 'worker', 'retention'] as const) {
      if (!parsed.data[block]) continue;
      const first = blockFiles.get(block);
      if (first) problems.push(file.keyProblemAt([block], `a second ${block} block (the first is in ${first})`));
      blockFiles.set(block, file.displayPath);
    }
    if (parsed.data.fetch) {
      fetch = toFetchSettings(parsed.data.fetch);
      proxyChosen = parsed.data.fetch.proxy !== undefined;
      if (parsed.data.fetch.websub) websubAt = file.keyProblemAt(['fetch', 'websub'], WEBSUB_NEEDS_PUBLIC_URL);
    }
    if (parsed.data.publish) publish = toPublishSettings(parsed.data.publish);
    if (parsed.data.worker) worker = toWorkerSettings(parsed.data.worker);
    const alerts = parsed.data.worker?.alerts && worker.alerts;
    if (alerts) {
      alertsAt = file.keyProblemAt(['worker', 'alerts'], ALERTS_NEED_PUBLIC_URL);
      // As a topic's webhook: fetch.proxy (or the environment's) unless it names its own, or false.
      if (parsed.data.worker?.alerts?.proxy === undefined) fetchDefaults.push((settings) => settings.proxy && Object.assign(alerts, { proxy: settings.proxy }));
    }
    if (parsed.data.retention) retention = toRetentionSettings(parsed.data.retention);
    const fileUrl = pathToFileURL(path);
    (parsed.data.sources ?? []).forEach((source, index) => {
      const previous = seenSources.get(source.id);
      if (previous) {
        problems.push(file.problemAt(['sources', index, 'id'], `duplicate source id "${source.id}" (first in ${previous})`));
        return;
      }
      seenSources.set(source.id, file.displayPath);
      const configured = toSource(source, fileUrl);
      sources.push(configured);
      fetchDefaults.push((settings) => {
        if (source.proxy === undefined && settings.proxy) configured.proxy = settings.proxy;
        if (source.every === undefined) Object.assign(configured, pollOf(settings.every));
      });
      if (source.retention) {
        const own = toSourceRetention(source.id, source.retention);
        sourceRetention.push(own);
        if (typeof own.itemsSeconds === 'number') {
          const seconds = own.itemsSeconds;
          sourceItemsAt.push({ seconds, at: (clustering) => file.problemAt(['sources', index, 'retention', 'items'], sourceItemsTooShort(clustering)) });
        }
      }
    });
    (parsed.data.topics ?? []).forEach((topic, index) => {
      const previous = seenTopics.get(topic.slug);
      if (previous) {
        problems.push(file.problemAt(['topics', index, 'slug'], `duplicate topic slug "${topic.slug}" (first in ${previous})`));
        return;
      }
      seenTopics.set(topic.slug, file.displayPath);
      const { language, backfill, webhook, timeZone, digestAt, token, ...rest } = topic;
      if (webhook) webhookAt ??= file.keyProblemAt(['topics', index, 'webhook'], WEBHOOK_NEEDS_PUBLIC_URL);
      if (token) topicTokenAt ??= file.keyProblemAt(['topics', index, 'token'], TOPIC_TOKEN_BESIDE_HUB);
      const webhooks = webhook ? listOf(webhook).map((entry) => ({ entry, configured: toWebhook(entry) })) : [];
      fetchDefaults.push((settings) => {
        for (const { entry, configured } of webhooks) if (entry.proxy === undefined && settings.proxy) configured.proxy = settings.proxy;
      });
      topics.push({
        ...rest,
        limit: topic.limit ?? DEFAULT_TOPIC_LIMIT,
        ...(language ? { language: listOf(language).map((code) => code.toLowerCase()) } : {}),
        ...(backfill ? { backfillDays: parseDuration(backfill)! / 86_400 } : {}),
        ...(timeZone ? { timeZone: canonicalTimeZone(timeZone)! } : {}),
        ...(digestAt ? { digestAtMinutes: minutesOfDay(digestAt) } : {}),
        ...(webhook ? { webhooks: webhooks.map(({ configured }) => configured) } : {}),
        ...(token ? { tokens: listOf(token).map(expandEnv) } : {}),
      });
    });
  }
  if (webhookAt && !publish.publicUrl) problems.push(webhookAt);
  if (websubAt && !publish.publicUrl) problems.push(websubAt);
  if (alertsAt && !publish.publicUrl) problems.push(alertsAt);
  if (topicTokenAt && publish.hub) problems.push(topicTokenAt);
  const clustering = formatDuration(retention.clusteringSeconds);
  for (const { seconds, at } of sourceItemsAt) if (seconds < retention.clusteringSeconds) problems.push(at(clustering));
  if (problems.length > 0) throw new ConfigError(problems);
  if (sourceRetention.length > 0) retention = { ...retention, sources: sourceRetention };
  const fromEnvironment = proxyChosen ? undefined : environmentProxies(env);
  if (fromEnvironment) fetch = { ...fetch, proxy: fromEnvironment };
  for (const apply of fetchDefaults) apply(fetch);
  return { dir: absoluteDir, sources, topics, fetch, publish, worker, retention };
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

function toBytes(size: number | string): number {
  if (typeof size === 'number') return size;
  const [, amount, unit = 'b'] = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(size.trim())!;
  return Math.round(Number(amount) * SIZE_UNITS[unit.toLowerCase()]!);
}

function toFetchSettings(settings: FetchSettingsConfig): FetchSettings {
  const seconds = (text: string | undefined) => (text === undefined ? undefined : parseDuration(text)! * 1000);
  return {
    timeoutMs: seconds(settings.timeout) ?? DEFAULT_FETCH_SETTINGS.timeoutMs,
    connectTimeoutMs: seconds(settings.connectTimeout) ?? DEFAULT_FETCH_SETTINGS.connectTimeoutMs,
    maxBytes: settings.maxSize === undefined ? DEFAULT_FETCH_SETTINGS.maxBytes : toBytes(settings.maxSize),
    maxRedirects: settings.maxRedirects ?? DEFAULT_FETCH_SETTINGS.maxRedirects,
    perHost: settings.perHost ?? DEFAULT_FETCH_SETTINGS.perHost,
    concurrency: settings.concurrency ?? DEFAULT_FETCH_SETTINGS.concurrency,
    maxItems: settings.maxItems ?? DEFAULT_FETCH_SETTINGS.maxItems,
    maxItemChars: settings.maxItemSize === undefined ? DEFAULT_FETCH_SETTINGS.maxItemChars : toBytes(settings.maxItemSize),
    ...(settings.proxy ? { proxy: proxyRouteOf(expandEnv(settings.proxy)) } : {}),
    every: settings.every === undefined ? DEFAULT_FETCH_SETTINGS.every : settings.every === 'auto' ? 'auto' : parseDuration(settings.every)!,
    websub: settings.websub ?? DEFAULT_FETCH_SETTINGS.websub,
  };
}

function toPublishSettings(settings: PublishSettingsConfig): PublishSettings {
  return {
    ...(settings.publicUrl ? { publicUrl: trimEndOf(settings.publicUrl, '/') } : {}),
    maxAgeSeconds: settings.maxAge ? parseDuration(settings.maxAge)! : DEFAULT_PUBLISH_SETTINGS.maxAgeSeconds,
    maxLimit: settings.maxLimit ?? DEFAULT_PUBLISH_SETTINGS.maxLimit,
    ...(settings.hub ? { hub: settings.hub } : {}),
    ...(settings.showSources !== undefined ? { showSources: settings.showSources } : {}),
    ...(settings.search !== undefined ? { search: settings.search } : {}),
    searchDepth: settings.searchDepth ?? DEFAULT_PUBLISH_SETTINGS.searchDepth,
    timeZone: settings.timeZone ? canonicalTimeZone(settings.timeZone)! : DEFAULT_PUBLISH_SETTINGS.timeZone,
    digestAtMinutes: settings.digestAt ? minutesOfDay(settings.digestAt) : DEFAULT_PUBLISH_SETTINGS.digestAtMinutes,
    tokens: settings.token === undefined ? [] : listOf(settings.token).map(expandEnv),
  };
}

function toWorkerSettings(settings: WorkerSettingsConfig): WorkerSettings {
  return {
    tick: settings.tick ?? DEFAULT_WORKER_SETTINGS.tick,
    leaseSeconds: settings.lease ? parseDuration(settings.lease)! : DEFAULT_WORKER_SETTINGS.leaseSeconds,
    batch: settings.batch ?? DEFAULT_WORKER_SETTINGS.batch,
    minIntervalSeconds: settings.minInterval ? parseDuration(settings.minInterval)! : DEFAULT_WORKER_SETTINGS.minIntervalSeconds,
    ...(settings.alerts ? { alerts: toWebhook(settings.alerts) } : {}),
  };
}

function toRetentionSettings(settings: RetentionSettingsConfig): RetentionSettings {
  return {
    fetchLogSeconds: settings.fetchLog ? parseDuration(settings.fetchLog)! : DEFAULT_RETENTION_SETTINGS.fetchLogSeconds,
    clusteringSeconds: settings.clustering ? parseDuration(settings.clustering)! : DEFAULT_RETENTION_SETTINGS.clusteringSeconds,
    itemsSeconds: settings.items === undefined ? DEFAULT_RETENTION_SETTINGS.itemsSeconds : settings.items === 'never' ? null : parseDuration(settings.items)!,
    keepPerSource: settings.keepPerSource ?? DEFAULT_RETENTION_SETTINGS.keepPerSource,
    archivedKeysSeconds:
      settings.archivedKeys === undefined || settings.archivedKeys === 'never'
        ? DEFAULT_RETENTION_SETTINGS.archivedKeysSeconds
        : parseDuration(settings.archivedKeys)!,
  };
}

/** A source's own retention, durations in seconds (null: never). */
function toSourceRetention(sourceId: string, { items, keepPerSource }: NonNullable<SourceConfig['retention']>): SourceRetention {
  return {
    sourceId,
    ...(items !== undefined ? { itemsSeconds: items === 'never' ? null : parseDuration(items)! } : {}),
    ...(keepPerSource !== undefined ? { keepPerSource } : {}),
  };
}

/** A source's items' retention may not end before their clustering candidates' does. */
const sourceItemsTooShort = (clustering: string) =>
  `must not be shorter than retention.clustering (${clustering}): stories would be archived from under their candidates`;

/** Minutes after midnight of a checked "HH:MM". */
const minutesOfDay = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** A source's scrape rules, its time zone in its canonical spelling. */
function scrapeRules({ timeZone, ...rules }: NonNullable<SourceConfig['scrape']>): ScrapeRules {
  return { ...rules, ...(timeZone ? { timeZone: canonicalTimeZone(timeZone)! } : {}) };
}

function networkPolicy(allow: SourceConfig['allowPrivateNetwork']): NetworkPolicy {
  if (allow === true) return { kind: 'any' };
  if (Array.isArray(allow) && allow.length > 0) return { kind: 'allow-list', entries: allow.map((entry) => entry.replace(/^\[|\]$/g, '')) };
  return { kind: 'public-only' };
}

/** Configured headers as they are sent: names in lower case, `${NAME}` references read from the environment. */
const expandedHeaders = (headers: Record<string, string> = {}): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), expandEnv(value)]));

/** A topic's webhook with its `${NAME}` references read from the environment, header names in lower case. */
/** A topic's webhook as configured (its own proxy; fetch.proxy is given by the loader once the fetch block is read). */
function toWebhook(webhook: WebhookConfig): TopicWebhook {
  const headers = expandedHeaders(webhook.headers);
  return {
    name: webhook.name ?? '',
    url: expandEnv(webhook.url),
    ...(webhook.secret !== undefined ? { secret: expandEnv(webhook.secret) } : {}),
    ...(webhook.format ? { format: webhook.format } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(webhook.proxy ? { proxy: proxyRouteOf(expandEnv(webhook.proxy)) } : {}),
  };
}

/** The Authorization header value of HTTP Basic credentials. */
export const basicAuthorization = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * The source's URL without user name and password, and the headers it sends its own site: Basic credentials from
 * `username` and `password` (or, for a config written before those keys, from the URL, which the logs, the store and
 * the pages show) and the operator's `headers`.
 */
export function withCredentials(source: SourceConfig, configured: string): { url: string; credentials?: SourceCredentials } {
  // A URL that does not parse is left for its fetch to fail, recorded on the source like any other failure.
  const url = /^https?:/i.test(configured) && URL.canParse(configured) ? new URL(configured) : undefined;
  if (!url) return { url: configured };
  const userInUrl = url.username !== '' || url.password !== '';
  const user = source.username ?? (url.username ? percentDecoded(url.username) : undefined);
  const password = source.username !== undefined ? expandEnv(source.password ?? '') : percentDecoded(url.password);
  url.username = '';
  url.password = '';
  const headers = { ...(user !== undefined ? { authorization: basicAuthorization(user, password) } : {}), ...expandedHeaders(source.headers) };
  // Written back only when it held credentials: a URL as configured is the source's identity in the store.
  const plain = userInUrl ? url.href : configured;
  return Object.keys(headers).length === 0 ? { url: plain } : { url: plain, credentials: { origin: url.origin, headers } };
}

/** A source's `every` (or fetch.every) as its poll settings: `auto` starts from the default interval. */
const pollOf = (every: string | number): Pick<Source, 'pollSeconds' | 'adaptivePoll'> =>
  every === 'auto' ? { pollSeconds: DEFAULT_POLL_SECONDS, adaptivePoll: true } : { pollSeconds: typeof every === 'number' ? every : parseDuration(every)! };

function toSource(source: SourceConfig, configFileUrl: URL): Source {
  const { url, credentials } = withCredentials(source, /^file:/i.test(source.url) ? new URL(source.url, configFileUrl).href : source.url);
  return {
    id: source.id,
    url,
    ...(source.title ? { title: source.title } : {}),
    ...pollOf(source.every ?? DEFAULT_POLL_SECONDS),
    priority: source.priority ?? 0,
    tags: source.tags ?? [],
    shortUrlHosts: (source.shortUrlHosts ?? []).map((host) => host.toLowerCase()),
    network: networkPolicy(source.allowPrivateNetwork),
    ...(source.fullText ? { fullText: source.fullText === true ? {} : source.fullText } : {}),
    ...(source.scrape ? { scrape: scrapeRules(source.scrape) } : {}),
    ...(credentials ? { credentials } : {}),
    ...(source.proxy ? { proxy: proxyRouteOf(expandEnv(source.proxy)) } : {}),
    ...(source.keep ? { keep: source.keep } : {}),
    ...(source.exclude ? { exclude: source.exclude } : {}),
    ...(source.paused ? { paused: true } : {}),
    ...(source.quietAfter ? { quietAfter: parseDuration(source.quietAfter) ?? 'never' } : {}),
  };
}
