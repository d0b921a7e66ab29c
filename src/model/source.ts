import type { FetchCondition, Quiet, QuietAfter } from './quiet.js';

/**
 * Which addresses a source may connect to. By default only public unicast addresses; a source can opt in to all
 * private ranges (`allowPrivateNetwork: true`) or to a list of addresses and CIDR ranges.
 */
export type NetworkPolicy = { kind: 'public-only' } | { kind: 'any' } | { kind: 'allow-list'; entries: string[] };

/** A feed the operator listed, as the config defines it. */
export interface Source {
  id: string;
  /** Absolute URL; file: URLs in YAML are resolved against the YAML file's folder. */
  url: string;
  title?: string;
  /** How often it is fetched; with `adaptivePoll`, until its items tell how often they come. */
  pollSeconds: number;
  /** `every: auto`: fetched as often as its items come (see adaptivePollSeconds), not every `pollSeconds`. */
  adaptivePoll?: boolean;
  priority: number;
  tags: string[];
  shortUrlHosts: string[];
  network: NetworkPolicy;
  /** Fetch the page of each new item whose feed text is short, and keep the article read from it, by these rules. */
  fullText?: ArticleRules;
  /** The source is a web page listing news, not a feed: where its items are, by CSS selectors. */
  scrape?: ScrapeRules;
  /** Headers that prove who we are to the source's own site (a paid wire's feed), and only to it. */
  credentials?: SourceCredentials;
  /** The proxy its fetches go through (its own `proxy`, else `fetch.proxy` or the environment's); none: straight to the site. */
  proxy?: ProxySetting;
  /** Topic queries deciding which items are stored at all: only those matching `keep`, none matching `exclude`. */
  keep?: string;
  exclude?: string;
  /** `paused: true`: not fetched (its settings and stored items kept), until the line goes. */
  paused?: boolean;
  /** `quietAfter`: how long without a new item makes it quiet, in place of what its pace allows (see quietness). */
  quietAfter?: QuietAfter;
}

/** A source's state as the sources page and `wirefeed sources show` say it. */
export type SourceHealthState = 'ok' | 'failing' | 'gone' | 'new' | 'paused' | 'quiet';

/** Gone, paused, never fetched, failing, quiet (see quietness) or ok: the first that holds. */
export function stateOf(source: FetchCondition & { paused?: boolean | undefined; quiet?: Quiet | undefined }): SourceHealthState {
  if (source.goneAt) return 'gone';
  if (source.paused) return 'paused';
  if (!source.lastFetchedAt) return 'new';
  if (source.errorCount > 0) return 'failing';
  return source.quiet ? 'quiet' : 'ok';
}

/** The sources a worker or a pass fetches: all but the paused ones. */
export const activeSources = (sources: readonly Source[]): Source[] => sources.filter((source) => !source.paused);

/**
 * Where a source's article is on its pages, for sites where Readability's guess is not it: CSS selectors (checked at
 * load). None: Readability reads the page.
 */
export interface ArticleRules {
  /** The article is the elements matching this, in page order. */
  select?: string;
  /** Elements matching this are taken out of the page first (share buttons, related links, ads). */
  remove?: string;
}

/**
 * Where the items are on a web page that lists news without a feed (a wire service's "latest" page): each element
 * matching `items` is one, and the other selectors find its parts inside it (the element itself when it matches).
 * A part without a selector is found where such pages usually have it, or left out.
 */
export interface ScrapeRules {
  /** `json`: the URL is a JSON document, and the rules are dot paths (`data.items`, `$` for the whole). Default: html. */
  format?: ListingFormat;
  items: string;
  /** Its text is the headline. Default: the item's first heading (h1-h6), else its link's text, title or image's alt. */
  title?: string;
  /** An <a href>, or an element holding one. Default: the item's first <a href> (the item itself if it is one). */
  link?: string;
  /** Its `datetime` or `content` attribute, else its text, is the date. Default: the item's first <time>. */
  date?: string;
  /** Its HTML is the item's summary. Default: none. */
  summary?: string;
  /** An <img>, or an element holding one: the item's image. Default: none. */
  image?: string;
  /** Its text is the author. Default: none. */
  author?: string;
  /** Each element it matches is one of the item's categories, by its text (for `category:` in queries). Default: none. */
  categories?: string;
  /** The IANA zone of the page's clock, for dates written without one. Default: UTC. */
  timeZone?: string;
  /** How the page writes numeric dates with the year last (02/06/2024): day or month first. Default: not read. */
  dateOrder?: DateOrder;
}

/** What a source reads: a feed, a web page by CSS selectors, or a JSON listing by dot paths. */
export type SourceKind = 'feed' | 'page' | 'json';

/** What a configured source reads, and whether it reads its items' articles (`fullText`). */
export interface SourceReads {
  kind: SourceKind;
  fullText: boolean;
}

export const sourceReads = (source: Pick<Source, 'scrape' | 'fullText'>): SourceReads => ({
  kind: !source.scrape ? 'feed' : source.scrape.format === 'json' ? 'json' : 'page',
  fullText: source.fullText !== undefined,
});

/**
 * Rows about sources (their health), each with what its configured source reads and whether it is paused; neither
 * for one no longer configured.
 */
export function withReads<T extends { id: string }>(rows: readonly T[], sources: ReadonlyArray<Source>): Array<T & { reads?: SourceReads; paused?: boolean }> {
  const configured = new Map(sources.map((source) => [source.id, source]));
  return rows.map((row) => {
    const source = configured.get(row.id);
    return source ? { ...row, reads: sourceReads(source), ...(source.paused ? { paused: true } : {}) } : row;
  });
}

const KIND_NAMES: Record<SourceKind, string | undefined> = { feed: undefined, page: 'web page', json: 'JSON listing' };

/**
 * "web page", "full text", "pushed": what a source reads, where it is more than a feed's items, and whether its hub
 * pushes its updates (an active WebSub subscription); none for a plain feed.
 */
export const readsLabels = (reads: SourceReads | undefined, pushed = false): string[] =>
  [reads && KIND_NAMES[reads.kind], reads?.fullText ? 'full text' : undefined, pushed ? 'pushed' : undefined].filter(
    (label): label is string => label !== undefined,
  );

/** What a scraped source's URL holds: a web page (its rules are CSS selectors) or JSON (dot paths). */
export const LISTING_FORMATS = ['html', 'json'] as const;
export type ListingFormat = (typeof LISTING_FORMATS)[number];

/** Which of the first two numbers of a numeric date with the year last is the day. */
export const DATE_ORDERS = ['day-first', 'month-first'] as const;
export type DateOrder = (typeof DATE_ORDERS)[number];

/**
 * Headers a source sends to its own site only: Authorization (from `username` and `password`) and the operator's own
 * `headers`, names in lower case. They go to requests for `origin`'s host and port over its scheme or https, never
 * to another site a redirect or an item's link leads to, and they are kept out of the store, the logs and the pages.
 */
export interface SourceCredentials {
  /** The origin of the source's configured URL. */
  origin: string;
  headers: Record<string, string>;
}

/**
 * A proxy fetches go through. `http`: a CONNECT tunnel for https, the request itself for http (names resolved by the
 * proxy); `socks5`: names resolved here, the proxy given the address; `socks5h`: names resolved by the proxy (Tor).
 */
export interface ProxyRoute {
  protocol: 'http' | 'socks5' | 'socks5h';
  /** A name or an address (an IPv6 one without brackets). */
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** Its URL without user name and password (and where it was read, for the environment's): what messages and logs show. */
  display: string;
}

/**
 * A NO_PROXY entry: a host reached straight. A domain matches itself and its subdomains (only its subdomains when
 * written with a leading dot); an address or a CIDR range matches hosts written as addresses; a port narrows either.
 */
export type ProxyBypass =
  | { kind: 'domain'; name: string; subdomainsOnly: boolean; port?: number }
  | { kind: 'range'; address: string; prefix: number; family: 'ipv4' | 'ipv6'; port?: number };

/**
 * The proxies the environment names (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY, as curl and Go read them),
 * chosen per request by the URL's scheme and host.
 */
export interface EnvironmentProxies {
  kind: 'environment';
  http?: ProxyRoute;
  https?: ProxyRoute;
  /** NO_PROXY's hosts; `'all'` for `*`. */
  bypass: readonly ProxyBypass[] | 'all';
}

/** The way a source's requests go: one proxy for all, or the environment's by each request's URL. */
export type ProxySetting = ProxyRoute | EnvironmentProxies;

export const DEFAULT_POLL_SECONDS = 15 * 60;

/** A source's items of the last week (by their dates), from which `every: auto` reads its pace. */
export interface RecentItems {
  count: number;
  /** The oldest one's date (null when there is none). */
  oldest: Date | null;
  /** Whether the source has any item stored at all (none: it was never read, and its pace is not known). */
  anyStored: boolean;
}

/** How a feed asks to be polled: RSS <ttl> (minutes), <skipHours> (GMT hours) and <skipDays> (day names). */
export interface FeedSchedule {
  ttlMinutes?: number;
  skipHours?: number[];
  skipDays?: string[];
}

/**
 * The items of the last document stored whole, by the hash of each one's XML: an item the next document carries
 * unchanged is known without being parsed, as long as what items take from their feed (`inherited`: the base URL
 * and language) is the same.
 */
export interface DocumentItemHashes {
  inherited: string;
  hashes: string[];
}

/** Where a feed says its updates are pushed (WebSub): its hub, and the URL it is known by there (its self link). */
export interface HubLinks {
  hub?: string;
  self?: string;
}

/** Takes a link's WebSub relations into `found` (a rel may list several, "self hub"); the first hub and self stand. */
export function noteHubLink(found: HubLinks, rel: string, url: string): void {
  const relations = rel.toLowerCase().split(/\s+/);
  if (relations.includes('hub')) found.hub ??= url;
  if (relations.includes('self')) found.self ??= url;
}

/**
 * A WebSub subscription to a source's hub. `requested`: asked, not yet verified by the hub (`reason` says why a
 * request failed); `active`: verified, pushes until `leaseUntil`; `denied`: the hub refused (`reason`). One that ends is
 * deleted: a hub verifying its end finds no such subscription, which is how we agree.
 */
export interface PushSubscription {
  /** Random: the last part of the callback URL, which is all a hub knows of us. */
  id: string;
  sourceId: string;
  hub: string;
  topic: string;
  /** The HMAC key the hub signs pushes with. */
  secret: string;
  state: 'requested' | 'active' | 'denied';
  requestedAt: Date;
  leaseUntil: Date | null;
  reason: string | null;
}
