import { isIP } from 'node:net';
import cron from 'node-cron';
import { z } from 'zod';
import { proxyUrlProblem } from '../fetch/proxy.js';
import { canonicalTimeZone } from '../model/days.js';
import { parseDuration } from '../model/duration.js';
import { DEFAULT_RETENTION_SETTINGS } from '../model/settings.js';
import { DATE_ORDERS, LISTING_FORMATS, type ListingFormat } from '../model/source.js';
import { WEBHOOK_FORMATS } from '../model/topic.js';
import { cssSelectorProblem } from '../normalize/article.js';
import { dotPathProblem } from '../normalize/json-listing.js';
import { parseQuery, QueryError } from '../topics/query.js';

const DURATION = /^(\d{1,9}[smhd])+$/;
const duration = z.string().regex(DURATION, 'expected a duration such as 30s, 15m, 1h or 1d');
const positiveDuration = duration.refine((text) => parseDuration(text)! > 0, 'must be longer than 0s');
/** How often a source is fetched: a duration, or `auto` (as often as its items come). */
const EVERY_EXPECTED = 'expected a duration such as 30s, 15m, 1h or 1d, or auto';
const pollEvery = z.union([z.literal('auto'), z.string().regex(DURATION, EVERY_EXPECTED)], { error: EVERY_EXPECTED });

/** The clustering window is 48 hours either side of an item's time: its candidates must outlive it. */
const MIN_CLUSTERING_RETENTION_SECONDS = 3 * 86_400;

const TOO_SHORT_FOR_CLUSTERING = 'must be at least 3d: a new item is compared with items up to 48 hours older than it';
/** A retention no shorter than the clustering window's reach. */
const windowDuration = duration.refine((text) => parseDuration(text)! >= MIN_CLUSTERING_RETENTION_SECONDS, TOO_SHORT_FOR_CLUSTERING);
/** windowDuration, or `never`. */
const positiveDurationOrNever = z
  .string()
  .regex(/^(never|(\d{1,9}[smhd])+)$/, 'expected a duration such as 365d, or never')
  .refine((text) => (parseDuration(text) ?? Number.POSITIVE_INFINITY) > 0, 'must be longer than 0s');
const windowDurationOrNever = z
  .string()
  .regex(/^(never|(\d{1,9}[smhd])+)$/, 'expected a duration such as 90d or 365d, or never')
  .refine((text) => (parseDuration(text) ?? Number.POSITIVE_INFINITY) >= MIN_CLUSTERING_RETENTION_SECONDS, TOO_SHORT_FOR_CLUSTERING);

/** Items of a source's newest kept past the items' retention: the store's `keepPerSource`, or a source's own. */
const keepPerSource = z.number().int().min(0).max(100_000);

function isAddressOrRange(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  const family = isIP(address.replace(/^\[|\]$/g, ''));
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

const query = z.string().superRefine((text, context) => {
  try {
    parseQuery(text);
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    context.addIssue({ code: 'custom', message: error.message, params: { queryColumn: error.column } });
  }
});

/** A CSS selector for a source's article pages, checked with the HTML library that will match it. */
const cssSelector = z
  .string()
  .min(1)
  .superRefine((selector, context) => {
    const problem = selector === '' ? undefined : scrapeRuleProblem('html', selector); // min(1) says so
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

/** The parts of a scrape rule that find something: CSS selectors on a web page, dot paths in JSON. */
export const SCRAPE_PARTS = ['items', 'title', 'link', 'date', 'summary', 'image', 'author', 'categories'] as const;

/** What is wrong with a scrape rule for its format, or undefined. Also `wirefeed scrape`'s check of its options. */
export function scrapeRuleProblem(format: ListingFormat | undefined, rule: string): string | undefined {
  if (format === 'json') {
    const problem = dotPathProblem(rule);
    return problem && `is not a dot path Wirefeed can follow (${problem})`;
  }
  const problem = rule === '' ? 'it is empty' : cssSelectorProblem(rule);
  return problem && `is not a CSS selector Wirefeed can match (${problem})`;
}

/** `${NAME}` in a secret: the value of the environment variable NAME, so the secret need not be in the YAML file. */
export const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** A user name HTTP Basic can carry: one line, no ":" (which ends it). Also checked by `sources add --username`. */
export const BASIC_USERNAME = /^[^:\r\n\0]+$/;

/** Whether a URL is an absolute http(s) one, with a host. */
const isAbsoluteHttpUrl = (url: string) => /^https?:\/\/[^/]/i.test(url);
const ABSOLUTE_HTTP_URL = 'must be an absolute http(s) URL';

/** One value or a list of them, as a list (keys that take either). */
export const listOf = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T]);

/** A secret with its `${NAME}` references replaced by the environment's values (unset ones are config errors). */
export const expandEnv = (text: string) => text.replace(ENV_REFERENCE, (_, name: string) => process.env[name] ?? '');

/** A password or header value: as written, or with `${NAME}` read from the environment (which must have it). */
const secret = z.string().superRefine((text, context) => {
  for (const [, name] of text.matchAll(ENV_REFERENCE)) {
    if (process.env[name!] === undefined) context.addIssue({ code: 'custom', message: `the environment variable ${name} is not set` });
  }
});

/** A check of a secret's value once its references are read (one that names an unset variable is reported as that alone). */
const expanded =
  (check: (value: string) => boolean) =>
  (text: string): boolean =>
    [...text.matchAll(ENV_REFERENCE)].some(([, name]) => process.env[name!] === undefined) || check(expandEnv(text));

/** What Node's HTTP client refuses in a header value (it would fail every fetch of the source): checked at load. */
const NOT_HEADER_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

/** A proxy's URL, whose user name and password may be `${NAME}` references (checked once they are read). */
const proxyUrl = secret.superRefine((text, context) => {
  if ([...text.matchAll(ENV_REFERENCE)].some(([, name]) => process.env[name!] === undefined)) return;
  const problem = proxyUrlProblem(expandEnv(text));
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/** A proxy of its own (a URL), or false: without `fetch.proxy`. */
const proxyChoice = z.union([proxyUrl, z.literal(false)], { error: 'must be a proxy URL (http://proxy.example:3128), or false to go without fetch.proxy' });

const headerValue = secret.refine(
  (text) => !NOT_HEADER_TEXT.test(expandEnv(text)),
  'must be one line a header can carry (no line breaks, control characters or characters beyond Latin-1)',
);

/** Headers the HTTP client sets itself: the connection's framing, the conditional GET and the decoding. */
const CLIENT_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
  'accept-encoding',
  'if-none-match',
  'if-modified-since',
]);

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Headers the operator adds to Wirefeed's requests, but none of `reserved`. Names checked here rather than as the
 * record's keys, whose issues zod reports only as "Invalid key".
 */
const headersBut = (reserved: ReadonlySet<string>) =>
  z.record(z.string(), headerValue).superRefine((record, context) => {
    for (const name of Object.keys(record)) {
      if (!HEADER_NAME.test(name)) context.addIssue({ code: 'custom', path: [name], message: 'expected a header name such as X-Api-Key' });
      else if (reserved.has(name.toLowerCase())) context.addIssue({ code: 'custom', path: [name], message: 'is set by Wirefeed itself' });
    }
  });

const headers = headersBut(CLIENT_HEADERS);
/** A webhook delivery's own headers: its content type and its Standard Webhooks id, time and signature. */
const webhookHeaders = headersBut(new Set([...CLIENT_HEADERS, 'content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature']));

/** A time of day on a 24-hour clock, "06:00": when daily digests' days start. */
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day such as 06:00 (24-hour clock)');

/** An IANA time zone name, as the runtime knows them. */
const timeZone = z.string().refine((name) => canonicalTimeZone(name) !== undefined, 'expected a time zone such as Asia/Tokyo, Europe/London or UTC');

export const sourceSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and "-"'),
    url: z.string().refine((url) => /^(https?|file):/i.test(url), 'must be an http(s):// or file: URL'),
    title: z.string().min(1).optional(),
    every: pollEvery.optional(),
    /** Higher wins when several outlets carry one story: its entry shows this outlet's version. Default 0. */
    priority: z.number().int().min(-100).max(100).optional(),
    /** Labels for grouping sources in topic queries (source:wire) and topic `sources:` lists. */
    tags: z.array(z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and "-"')).optional(),
    /** Hosts whose links are short URLs for this source (for example arab.news). */
    shortUrlHosts: z.array(z.string().min(1)).optional(),
    /** Lets the source reach loopback and private addresses: true for all, or a list of addresses and CIDR ranges. */
    allowPrivateNetwork: z.union([z.boolean(), z.array(z.string().refine(isAddressOrRange, 'expected an IP address or CIDR range'))]).optional(),
    /**
     * Fetch the page of each new item whose feed text is short (a headline and a line), and keep the article from it:
     * true (Readability finds it), or where it is on the source's pages (CSS selectors).
     */
    fullText: z.union([z.boolean(), z.strictObject({ select: cssSelector.optional(), remove: cssSelector.optional() })]).optional(),
    /** The URL is a web page listing news, not a feed: where its items are (CSS selectors; dot paths for JSON). */
    scrape: z
      .strictObject({
        format: z.enum(LISTING_FORMATS).optional(),
        items: z.string().min(1),
        title: z.string().min(1).optional(),
        link: z.string().min(1).optional(),
        date: z.string().min(1).optional(),
        summary: z.string().min(1).optional(),
        image: z.string().min(1).optional(),
        author: z.string().min(1).optional(),
        categories: z.string().min(1).optional(),
        timeZone: timeZone.optional(),
        dateOrder: z.enum(DATE_ORDERS).optional(),
      })
      .superRefine(
        (rules, context) => {
          for (const part of SCRAPE_PARTS) {
            const rule: unknown = rules[part];
            const problem = typeof rule === 'string' && rule !== '' ? scrapeRuleProblem(rules.format, rule) : undefined;
            if (problem) context.addIssue({ code: 'custom', path: [part], message: problem });
          }
        },
        // Checked beside the rules' other problems (a missing key, an unknown one), so that one read names them all.
        { when: ({ value }) => value !== null && typeof value === 'object' },
      )
      .optional(),
    /** Only items matching this query are stored (the topic query language). */
    keep: query.optional(),
    /** Items matching this query are not stored. */
    exclude: query.optional(),
    /** HTTP Basic credentials for the source's own site (a paid wire's feed). */
    username: z.string().min(1).regex(BASIC_USERNAME, 'must be one line without ":"').optional(),
    password: secret.optional(),
    /** Headers sent to the source's own site only, such as an API key. */
    headers: headers.optional(),
    /** The proxy this source's fetches go through, in place of `fetch.proxy`; false: straight to the site. */
    proxy: proxyChoice.optional(),
    /** Not fetched while true (FreshRSS's mute, Miniflux's disabled feed): its settings and stored items stay. */
    paused: z.boolean().optional(),
    /** How long without a new item makes the source quiet, in place of what its own pace allows; never: not judged. */
    quietAfter: positiveDurationOrNever.optional(),
    /** This source's items' retention, in place of the store's `retention.items` and `retention.keepPerSource`. */
    retention: z.strictObject({ items: windowDurationOrNever.optional(), keepPerSource: keepPerSource.optional() }).optional(),
  })
  .superRefine((source, context) => {
    if (source.password !== undefined && source.username === undefined) {
      context.addIssue({ code: 'custom', path: ['password'], message: 'needs a username beside it' });
    }
    if (source.username !== undefined && Object.keys(source.headers ?? {}).some((name) => name.toLowerCase() === 'authorization')) {
      context.addIssue({ code: 'custom', path: ['username'], message: 'and an Authorization header cannot both be given' });
    }
    if ((source.username !== undefined || source.headers) && !/^https?:/i.test(source.url)) {
      context.addIssue({ code: 'custom', path: ['url'], message: 'must be an http(s):// URL to send credentials or headers' });
    }
  });

/** Whether a URL's path ends with an ntfy topic (letters, digits, "-" and "_", as ntfy allows). */
const endsWithNtfyTopic = expanded((url) => URL.canParse(url) && /\/[-_A-Za-z0-9]{1,64}$/.test(new URL(url).pathname));

/** An access token of the feed server: long enough not to be guessed, and fit for a URL's path and a header. */
const accessToken = secret
  .refine(
    expanded((token) => token.length >= 16),
    'must be at least 16 characters (a random one: openssl rand -hex 16)',
  )
  .refine(
    expanded((token) => /^[\x21-\x7e]+$/.test(token)),
    'must be printable ASCII without spaces (it goes into URLs and headers)',
  );

/** Where a topic's new stories are POSTed: an http(s) URL (which may hold `${NAME}` references, as a chat service's URL holds its token) and the key they are signed with. */
const webhookSchema = z
  .strictObject({
    /** Tells a topic's webhooks apart (its queue's key); one of them may go unnamed. */
    name: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, 'must be 1-40 lower-case letters, digits and "-"')
      .optional(),
    url: secret.refine((url) => isAbsoluteHttpUrl(expandEnv(url)) && URL.canParse(expandEnv(url)), ABSOLUTE_HTTP_URL),
    secret: secret.optional(),
    /** jsonfeed (default), slack or discord. */
    format: z.enum(WEBHOOK_FORMATS).optional(),
    /** Headers the receiver asks for, such as Authorization: Bearer ${TOKEN}. */
    headers: webhookHeaders.optional(),
    /** The proxy its POSTs go through, in place of `fetch.proxy`; false: straight to the receiver. */
    proxy: proxyChoice.optional(),
  })
  .superRefine((webhook, context) => {
    // ntfy's topic is the URL's last path segment.
    if (webhook.format === 'ntfy' && !endsWithNtfyTopic(webhook.url)) {
      context.addIssue({ code: 'custom', path: ['url'], message: 'must end with the ntfy topic: https://ntfy.sh/<topic>' });
    }
  });

export const topicSchema = z.strictObject({
  slug: z.string().regex(/^[a-z0-9-]+$/, 'must be lower-case letters, digits and "-"'),
  title: z.string().min(1),
  description: z.string().optional(),
  query,
  /** Items matching this query are left out even when they match `query`. */
  exclude: query.optional(),
  /** Only items from these sources (ids or tags). */
  sources: z.array(z.string().min(1)).min(1).optional(),
  /** Only items in these languages (primary tags such as en, ja). */
  language: z
    .union([
      z.string().regex(/^[a-z]{2,3}$/i, 'expected a language code such as en or ja'),
      z.array(z.string().regex(/^[a-z]{2,3}$/i, 'expected a language code such as en or ja')).min(1),
    ])
    .optional(),
  limit: z.number().int().min(1).max(500).optional(),
  /** How far back a new or changed topic is matched against stored items (default 30d). */
  backfill: duration.optional(),
  /** The time zone whose days the topic's daily digest lists (default publish.timeZone). */
  timeZone: timeZone.optional(),
  /** When the digest's days start, and its entries appear: a local time such as 06:00 (default publish.digestAt). */
  digestAt: timeOfDay.optional(),
  /** An access token that opens this topic alone (its feeds, page and digest), or a list of them; see publish.token. */
  token: z.union([accessToken, z.array(accessToken).min(1).max(1000)]).optional(),
  /** POST each story new to the topic to this URL (signed as Standard Webhooks sign), or to each of a list of them. */
  webhook: z
    .union([webhookSchema, z.array(webhookSchema).min(1).max(10)])
    .superRefine((webhook, context) => {
      const seen = new Set<string>();
      for (const [index, { name = '' }] of listOf(webhook).entries()) {
        if (seen.has(name)) {
          const message = name ? `a second webhook named "${name}"` : "needs a name: one of a topic's webhooks may go unnamed, not two";
          context.addIssue({ code: 'custom', path: [index, ...(name ? ['name'] : [])], message });
        }
        seen.add(name);
      }
    })
    .optional(),
});

const byteSize = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i, 'expected a size such as 15MiB, 512KiB or a number of bytes'),
]);

/** Fetch limits for all sources; any YAML file may hold this block, at most one. */
export const fetchSettingsSchema = z.strictObject({
  timeout: duration.optional(),
  connectTimeout: duration.optional(),
  maxSize: byteSize.optional(),
  maxRedirects: z.number().int().min(0).max(20).optional(),
  perHost: z.number().int().min(1).max(64).optional(),
  concurrency: z.number().int().min(1).max(256).optional(),
  /** Items kept from one document; the rest are left out (logged). */
  maxItems: z.number().int().min(1).max(100_000).optional(),
  /** Characters kept of each text of an item (content, summary, title); longer text is cut (logged). */
  maxItemSize: byteSize.optional(),
  /** How often a source without its own `every` is fetched: a duration, or auto (as often as its items come). */
  every: pollEvery.optional(),
  /** Subscribe to the WebSub hubs sources name (needs publish.publicUrl): a push makes its source due at once. */
  websub: z.boolean().optional(),
  /**
   * The proxy every source's fetches go through (http://, socks5:// or socks5h://), unless a source has its own; false:
   * none, whatever the environment's HTTPS_PROXY and the rest say.
   */
  proxy: z
    .union([proxyUrl, z.literal(false)], {
      error: "must be a proxy URL (http://proxy.example:3128), or false to fetch without the environment's proxies (HTTPS_PROXY and the rest)",
    })
    .optional(),
});

/** How topic feeds are served; any YAML file may hold this block, at most one. */
export const publishSettingsSchema = z
  .strictObject({
    /** Absolute base URL readers reach the server at (https://feeds.example.org); needed for WebSub. */
    publicUrl: z.string().refine(isAbsoluteHttpUrl, ABSOLUTE_HTTP_URL).optional(),
    /** Cache-Control max-age of feed responses. */
    maxAge: duration.optional(),
    /** Largest ?limit= a reader may ask for. */
    maxLimit: z.number().int().min(1).max(1000).optional(),
    /** A WebSub hub to announce and to ping when a topic gains stories. */
    hub: z.string().refine(isAbsoluteHttpUrl, ABSOLUTE_HTTP_URL).optional(),
    /** Serve the sources status page (/sources, /sources.json); default: on with the embedded store or a token, else off with DATABASE_URL. */
    showSources: z.boolean().optional(),
    /** Serve search feeds over every stored story; default: on with the embedded store or a token, else off with DATABASE_URL. */
    search: z.boolean().optional(),
    /** The most stories one search reads, newest first. */
    searchDepth: z.number().int().min(50).max(100_000).optional(),
    /** The time zone whose days daily digests list (default UTC). */
    timeZone: timeZone.optional(),
    /** When daily digests' days start, and their entries appear: a local time such as 06:00 (default 00:00). */
    digestAt: timeOfDay.optional(),
    /** An access token every feed, page and /metrics asks for (/t/<token>/ or ?token= in the URL, Bearer, or Basic's password), or a list of them (one per reader). */
    token: z.union([accessToken, z.array(accessToken).min(1).max(1000)]).optional(),
  })
  .superRefine((publish, context) => {
    if (publish.token !== undefined && publish.hub !== undefined) {
      context.addIssue({ code: 'custom', path: ['hub'], message: 'cannot be used with token: a WebSub hub fetches the feeds without it' });
    }
  });

/** How workers claim due sources; any YAML file may hold this block, at most one. */
export const workerSettingsSchema = z.strictObject({
  /** node-cron expression (with a seconds field) for how often a worker claims due sources. */
  tick: z
    .string()
    .refine((expression) => cron.validate(expression), 'expected a cron expression such as "*/30 * * * * *"')
    .optional(),
  /** How long a claimed source stays leased to its worker; a crashed worker's sources are taken over after this. */
  lease: positiveDuration.optional(),
  /** Sources claimed per tick by one worker. */
  batch: z.number().int().min(1).max(10_000).optional(),
  /** The shortest time between two fetches of one source, whatever its `every` or the feed's hints say. */
  minInterval: positiveDuration.optional(),
  /** Where sources' health changes are POSTed (failing, quiet, gone, back): a webhook as a topic's, in any of its formats. */
  alerts: webhookSchema.optional(),
});

/** How long the store keeps what it holds; any YAML file may hold this block, at most one. */
export const retentionSettingsSchema = z
  .strictObject({
    /** Fetch attempts older than this are deleted from the fetch log. */
    fetchLog: positiveDuration.optional(),
    /** Items first seen longer ago stop being clustering candidates (their band rows are deleted). */
    clustering: windowDuration.optional(),
    /** Stories whose items were all first seen and dated longer ago are deleted; `never` keeps everything. */
    items: windowDurationOrNever.optional(),
    /** A story holding one of its source's newest this many items is kept past `items` (0: none is). */
    keepPerSource: keepPerSource.optional(),
    /** Archived items' identities older than this are deleted; `never` (the default) keeps them. */
    archivedKeys: positiveDurationOrNever.optional(),
  })
  .superRefine(({ clustering, items }, context) => {
    // A candidate older than the items' retention may be archived while a new item joins its story.
    const itemsSeconds = items === undefined ? DEFAULT_RETENTION_SETTINGS.itemsSeconds : items === 'never' ? null : parseDuration(items);
    const clusteringSeconds = clustering === undefined ? undefined : parseDuration(clustering);
    if (clusteringSeconds !== undefined && itemsSeconds !== null && itemsSeconds !== undefined && clusteringSeconds > itemsSeconds) {
      const itemsText = items ?? `${DEFAULT_RETENTION_SETTINGS.itemsSeconds! / 86_400}d, the default`;
      context.addIssue({
        code: 'custom',
        path: ['clustering'],
        message: `must not be longer than retention.items (${itemsText}): stories are archived from under their candidates`,
      });
    }
  });

export const configFileSchema = z.strictObject({
  sources: z.array(sourceSchema).optional(),
  topics: z.array(topicSchema).optional(),
  fetch: fetchSettingsSchema.optional(),
  publish: publishSettingsSchema.optional(),
  worker: workerSettingsSchema.optional(),
  retention: retentionSettingsSchema.optional(),
});

export type SourceConfig = z.infer<typeof sourceSchema>;
export type TopicConfig = z.infer<typeof topicSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
export type FetchSettingsConfig = z.infer<typeof fetchSettingsSchema>;
export type PublishSettingsConfig = z.infer<typeof publishSettingsSchema>;
export type WorkerSettingsConfig = z.infer<typeof workerSettingsSchema>;
export type RetentionSettingsConfig = z.infer<typeof retentionSettingsSchema>;
