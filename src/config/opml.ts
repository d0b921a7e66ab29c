/**
 * OPML 2.0 in and out: what readers such as Miniflux and FreshRSS export and import, with FreshRSS's extension
 * attributes where they mean what a source's settings mean, and Wirefeed's own for the rest. Pure functions.
 */
import { Parser } from 'htmlparser2';
import { proxyUrlProblem } from '../fetch/proxy.js';
import { formatDuration, formatDurationOrNever } from '../model/duration.js';
import { UserError } from '../model/errors.js';
import type { SourceRetention } from '../model/settings.js';
import { DEFAULT_POLL_SECONDS, type ScrapeRules, type Source } from '../model/source.js';
import { el, serializeXml } from '../model/xml.js';
import { type NewSource, sourceEntry, tagsFor } from './edit.js';
import { SCRAPE_PARTS, sourceSchema } from './schema.js';

/** FreshRSS's OPML extension (docs/en/developers/OPML.md in FreshRSS): full-text selectors, poll time, JSON listings. */
export const FRESHRSS_NAMESPACE = 'https://freshrss.org/opml';
/** Wirefeed's own: what FreshRSS has no attribute for (source id, CSS scrape rules, queries, priority). */
export const WIREFEED_NAMESPACE = 'urn:wirefeed:opml';
/** The prefix each known namespace's attributes are read under, whatever prefix a file binds it to. */
const KNOWN_PREFIXES = new Map([
  [FRESHRSS_NAMESPACE, 'frss'],
  [WIREFEED_NAMESPACE, 'wirefeed'],
]);

/** Outline types of sources that are not feeds: a JSON listing read by dot paths, and a web page by CSS selectors. */
export const JSON_LISTING_TYPE = 'JSON+DotNotation';
export const CSS_PAGE_TYPE = 'HTML+CSS';

export interface OpmlFeed {
  title?: string;
  xmlUrl: string;
  htmlUrl?: string;
  /** The folders it sits in and its category= paths, as the reader named them ("News", "Tech"). */
  categories: string[];
  /** The outline's type (rss, JSON+DotNotation, HTML+XPath, HTML+CSS), if it has one. */
  type?: string;
  /**
   * Its FreshRSS and Wirefeed attributes by known prefix and lower-case name ("frss:cssfullcontent"), whatever prefix
   * the file bound their namespace to; attributes of other namespaces are left out.
   */
  extensions: Record<string, string>;
}

/** An outline standing for another OPML file's outlines: OPML 2.0's inclusion, or a FreshRSS folder filled from one. */
export const INCLUDE_TYPE = 'include';

/** The URL of the OPML list an outline includes (type="include" url=…, or FreshRSS's frss:opmlUrl), if it does. */
function includedList(lower: Record<string, string>, extensions: Record<string, string>): string | undefined {
  const url = lower.type?.trim().toLowerCase() === INCLUDE_TYPE ? lower.url : extensions['frss:opmlurl'];
  return url?.trim() || undefined;
}

/** Categories kept per feed: its outermost folders first (readers nest two or three), then its category= names. */
export const MAX_CATEGORIES = 20;

/** The names in an OPML 2.0 category attribute: comma-separated, slash-delimited paths ("/News/World,/Tech"). */
function categoryNames(attribute: string | undefined): string[] {
  return (attribute ?? '')
    .split(',')
    .flatMap((path) => path.split('/'))
    .map((name) => name.trim())
    .filter(Boolean);
}

/**
 * The namespace prefixes in scope while a document is read: each prefix's bindings, innermost last, and the prefixes
 * each open element declared, so that closing it ends them. Linear in the document, however deep it nests.
 */
class NamespaceScopes {
  private readonly bindings = new Map<string, string[]>();
  private readonly declared: string[][] = [];

  open(attributes: Record<string, string>): void {
    const prefixes = Object.keys(attributes)
      .filter((name) => name.startsWith('xmlns:'))
      .map((name) => {
        const prefix = name.slice(6);
        const stack = this.bindings.get(prefix) ?? [];
        stack.push(attributes[name]!.trim());
        this.bindings.set(prefix, stack);
        return prefix;
      });
    this.declared.push(prefixes);
  }

  close(): void {
    for (const prefix of this.declared.pop() ?? []) this.bindings.get(prefix)?.pop();
  }

  uriOf(prefix: string): string | undefined {
    return this.bindings.get(prefix)?.at(-1);
  }
}

/** The attributes of known namespaces, by known prefix and lower-case local name. */
function extensionsOf(scopes: NamespaceScopes, attributes: Record<string, string>): Record<string, string> {
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const colon = name.indexOf(':');
    if (colon <= 0 || name.startsWith('xmlns:')) continue;
    const known = KNOWN_PREFIXES.get(scopes.uriOf(name.slice(0, colon)) ?? '');
    if (known) extensions[`${known}:${name.slice(colon + 1).toLowerCase()}`] = value;
  }
  return extensions;
}

/**
 * Every outline with an xmlUrl, at any depth, with the folders it is nested in (Miniflux, Feedly and Inoreader
 * export categories as folder outlines; FreshRSS and others also as category= attributes).
 */
export function parseOpml(text: string): OpmlFeed[] {
  const feeds: OpmlFeed[] = [];
  let sawOpml = false;
  // One entry per open outline: whether it is a named folder; and the names of the open folders, outermost first.
  const open: boolean[] = [];
  const folders: string[] = [];
  const scopes = new NamespaceScopes();
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        scopes.open(attributes);
        if (name.toLowerCase() === 'opml') sawOpml = true;
        if (name.toLowerCase() !== 'outline') return;
        const lower = Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key.toLowerCase(), value]));
        const title = (lower.title || lower.text)?.trim() || undefined;
        if (!lower.xmlurl) {
          const included = includedList(lower, extensionsOf(scopes, attributes));
          if (included) feeds.push({ xmlUrl: included, title, categories: folders.slice(0, MAX_CATEGORIES), type: INCLUDE_TYPE, extensions: {} });
          open.push(title !== undefined);
          if (title !== undefined) folders.push(title);
          return;
        }
        open.push(false);
        const categories = [...new Set([...folders.slice(0, MAX_CATEGORIES), ...categoryNames(lower.category)])].slice(0, MAX_CATEGORIES);
        feeds.push({
          xmlUrl: lower.xmlurl.trim(),
          title,
          htmlUrl: lower.htmlurl?.trim() || undefined,
          categories,
          type: lower.type?.trim() || undefined,
          extensions: extensionsOf(scopes, attributes),
        });
      },
      onclosetag(name) {
        scopes.close();
        if (name.toLowerCase() === 'outline' && open.pop()) folders.pop();
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(text);
  parser.end();
  if (!sawOpml) throw new UserError('not an OPML document (no <opml> element): export the subscriptions from your reader as OPML');
  return feeds;
}

/** One feed in an OPML document we write. */
export interface OpmlOutline {
  title: string;
  xmlUrl: string;
  htmlUrl?: string;
  description?: string;
  /** Default: rss. */
  type?: string;
  /** Its category= attribute: tags, comma-separated. */
  category?: string;
  /** Extension attributes, by their prefixed names (frss:ttl, wirefeed:id). */
  extensions?: Record<string, string | undefined>;
}

/** An OPML 2.0 document listing feeds: the one writer for our sources (opml export) and our topics (/opml). */
export function renderOpml(
  head: { title: string; dateCreated?: Date; dateModified?: Date },
  outlines: readonly OpmlOutline[],
  namespaces: Record<string, string> = {},
): string {
  const declarations = Object.fromEntries(Object.entries(namespaces).map(([prefix, uri]) => [`xmlns:${prefix}`, uri]));
  return serializeXml(
    el(
      'opml',
      { version: '2.0', ...declarations },
      el(
        'head',
        {},
        el('title', {}, head.title),
        head.dateCreated && el('dateCreated', {}, head.dateCreated.toUTCString()),
        head.dateModified && el('dateModified', {}, head.dateModified.toUTCString()),
        el('docs', {}, 'http://opml.org/spec2.opml'),
      ),
      el(
        'body',
        {},
        outlines.map((outline) =>
          el('outline', {
            type: outline.type ?? 'rss',
            text: outline.title,
            title: outline.title,
            xmlUrl: outline.xmlUrl,
            htmlUrl: outline.htmlUrl,
            description: outline.description,
            category: outline.category,
            ...outline.extensions,
          }),
        ),
      ),
    ),
  );
}

type ScrapePart = (typeof SCRAPE_PARTS)[number];

/** FreshRSS's JSON+DotNotation attribute for each part of a JSON listing's rules. */
const JSON_ATTRIBUTES: Record<ScrapePart, string> = {
  items: 'frss:jsonItem',
  title: 'frss:jsonItemTitle',
  link: 'frss:jsonItemUri',
  date: 'frss:jsonItemTimestamp',
  summary: 'frss:jsonItemContent',
  image: 'frss:jsonItemThumbnail',
  author: 'frss:jsonItemAuthor',
  categories: 'frss:jsonItemCategories',
};
/** Wirefeed's attribute for each part of a web page's CSS rules (wirefeed:scrapeItems, wirefeed:scrapeTitle, …). */
const CSS_ATTRIBUTES = Object.fromEntries(SCRAPE_PARTS.map((part) => [part, `wirefeed:scrape${part[0]!.toUpperCase()}${part.slice(1)}`])) as Record<
  ScrapePart,
  string
>;
/** The attributes of what both kinds of listing share, and of the rest of a source's settings. */
const ATTRIBUTES = {
  id: 'wirefeed:id',
  ttl: 'frss:ttl',
  every: 'wirefeed:every',
  priority: 'wirefeed:priority',
  shortUrlHosts: 'wirefeed:shortUrlHosts',
  fullText: 'wirefeed:fullText',
  articleSelect: 'frss:cssFullContent',
  articleRemove: 'frss:cssContentFilter',
  timeZone: 'wirefeed:scrapeTimeZone',
  dateOrder: 'wirefeed:scrapeDateOrder',
  keep: 'wirefeed:keep',
  exclude: 'wirefeed:exclude',
  retentionItems: 'wirefeed:retentionItems',
  retentionKeep: 'wirefeed:retentionKeepPerSource',
  quietAfter: 'wirefeed:quietAfter',
} as const;
/** FreshRSS attributes of JSON listings with no Wirefeed equivalent: named in the import's notes when a file has them. */
const UNMATCHED_JSON_ATTRIBUTES = ['frss:jsonItemUid', 'frss:jsonItemTimeFormat', 'frss:jsonItemAttachment', 'frss:jsonFeedTitle'];

/** Our dot path as FreshRSS writes it: array indexes in brackets (media.0.url -> media[0].url). */
const freshRssPath = (path: string) => (path.startsWith('$.') ? path.slice(2) : path).replace(/\.(\d+)(?=\.|$)/g, '[$1]');
/** FreshRSS's dot path as ours: brackets as steps (media[0].url -> media.0.url), the whole document as `$`. */
const dotPath = (path: string) => path.replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '') || '$';

/**
 * `every` and `paused` from FreshRSS's refresh time (`frss:ttl`, seconds) or ours (`wirefeed:every="auto"`). FreshRSS
 * mutes a feed by a negative ttl (its interval, or -1 or -2 for the default one): added paused.
 */
function scheduleOf(read: (name: string, setting: string) => string | undefined, notes: string[]): Pick<NewSource, 'every' | 'paused'> {
  const text = read(ATTRIBUTES.ttl, 'every');
  const muted = Number(text) < 0;
  const ttl = Math.abs(Number(text));
  if (text !== undefined && !Number.isSafeInteger(ttl)) notes.push(`left out ${ATTRIBUTES.ttl} "${text}": not a whole number of seconds`);
  const every = read(ATTRIBUTES.every, 'every') === 'auto' ? 'auto' : Number.isSafeInteger(ttl) && ttl > (muted ? 2 : 0) ? formatDuration(ttl) : undefined;
  return { ...(every ? { every } : {}), ...(muted ? { paused: true } : {}) };
}

/** A source as an OPML outline: a feed, a JSON listing (as FreshRSS reads it) or a web page (as Wirefeed reads it). */
function sourceOutline(source: Source, retention: SourceRetention | undefined): OpmlOutline {
  const { scrape, fullText } = source;
  const extensions: Record<string, string | undefined> = {
    [ATTRIBUTES.id]: source.id,
    // FreshRSS mutes a feed by a negative ttl.
    [ATTRIBUTES.ttl]: source.paused
      ? String(-source.pollSeconds)
      : source.adaptivePoll || source.pollSeconds === DEFAULT_POLL_SECONDS
        ? undefined
        : String(source.pollSeconds),
    [ATTRIBUTES.every]: source.adaptivePoll ? 'auto' : undefined,
    [ATTRIBUTES.priority]: source.priority === 0 ? undefined : String(source.priority),
    [ATTRIBUTES.shortUrlHosts]: source.shortUrlHosts.join(',') || undefined,
    [ATTRIBUTES.fullText]: fullText ? 'true' : undefined,
    [ATTRIBUTES.articleSelect]: fullText?.select,
    [ATTRIBUTES.articleRemove]: fullText?.remove,
    [ATTRIBUTES.keep]: source.keep,
    [ATTRIBUTES.exclude]: source.exclude,
    [ATTRIBUTES.retentionItems]: formatDurationOrNever(retention?.itemsSeconds),
    [ATTRIBUTES.retentionKeep]: retention?.keepPerSource?.toString(),
    [ATTRIBUTES.quietAfter]: formatDurationOrNever(source.quietAfter),
  };
  if (scrape) {
    const json = scrape.format === 'json';
    for (const part of SCRAPE_PARTS) {
      const rule = scrape[part];
      if (rule !== undefined) extensions[(json ? JSON_ATTRIBUTES : CSS_ATTRIBUTES)[part]] = json ? freshRssPath(rule) : rule;
    }
    extensions[ATTRIBUTES.timeZone] = scrape.timeZone;
    extensions[ATTRIBUTES.dateOrder] = scrape.dateOrder;
  }
  return {
    title: source.title ?? source.id,
    xmlUrl: source.url,
    type: !scrape ? undefined : scrape.format === 'json' ? JSON_LISTING_TYPE : CSS_PAGE_TYPE,
    category: source.tags.join(',') || undefined,
    extensions,
  };
}

/**
 * The sources as OPML, each with its settings in FreshRSS's and Wirefeed's attributes (other readers skip them).
 * Only feeds, which any reader can read, unless `all`: then also web pages and JSON listings read by `scrape` rules
 * (FreshRSS reads the JSON listings; Wirefeed reads both back).
 */
export function renderSourcesOpml(
  sources: readonly Source[],
  dateCreated: Date,
  { all = false, retention = [] }: { all?: boolean | undefined; retention?: readonly SourceRetention[] | undefined } = {},
): string {
  const own = new Map(retention.map((entry) => [entry.sourceId, entry]));
  const outlines = sources.filter((source) => all || !source.scrape).map((source) => sourceOutline(source, own.get(source.id)));
  return renderOpml({ title: 'Wirefeed sources', dateCreated }, outlines, { frss: FRESHRSS_NAMESPACE, wirefeed: WIREFEED_NAMESPACE });
}

/** An outline read as a new source, with what of it was left out; or why it cannot be one. */
export type OutlineSource = { source: NewSource; notes: string[] } | { skipped: string };

/** Reads an extension attribute (undefined if absent or blank), noting which config path it fills. */
type AttributeReader = (attribute: string, path: string) => string | undefined;

/** A listing's rules from an outline's attributes, by part; undefined if it names no items. */
function listingRules(json: boolean, read: AttributeReader): ScrapeRules | undefined {
  const rules: Partial<Record<ScrapePart, string>> = {};
  for (const part of SCRAPE_PARTS) {
    const attribute = (json ? JSON_ATTRIBUTES : CSS_ATTRIBUTES)[part];
    // FreshRSS reads an item's HTML content before its text content.
    const rule = (part === 'summary' && json && read('frss:jsonItemContentHTML', 'scrape.summary')) || read(attribute, `scrape.${part}`);
    if (rule !== undefined) rules[part] = json ? dotPath(rule.trim()) : rule.trim();
  }
  if (!rules.items) return undefined;
  const timeZone = read(ATTRIBUTES.timeZone, 'scrape.timeZone');
  const dateOrder = read(ATTRIBUTES.dateOrder, 'scrape.dateOrder') as ScrapeRules['dateOrder'];
  return { ...(json ? { format: 'json' as const } : {}), ...rules, items: rules.items, ...(timeZone ? { timeZone } : {}), ...(dateOrder ? { dateOrder } : {}) };
}

/** Full text from FreshRSS's selectors or Wirefeed's flag: the rules, true (Readability), or undefined. */
function fullTextOf(read: AttributeReader, notes: string[]): NewSource['fullText'] {
  const select = read(ATTRIBUTES.articleSelect, 'fullText.select');
  const remove = read(ATTRIBUTES.articleRemove, 'fullText.remove');
  if (select === undefined && read(ATTRIBUTES.fullText, 'fullText') !== 'true') {
    if (remove !== undefined) notes.push(`left out ${ATTRIBUTES.articleRemove}: Wirefeed removes elements only from the articles it reads (fullText)`);
    return undefined;
  }
  return select || remove ? { ...(select ? { select } : {}), ...(remove ? { remove } : {}) } : true;
}

/** FreshRSS's cURL proxy types (CURLOPT_PROXYTYPE) as proxy URL schemes; -1 (and 3, an older way to say it) is none. */
const CURL_PROXY_SCHEMES: Record<string, string | false> = { '0': 'http', '5': 'socks5', '7': 'socks5h', '-1': false, '3': false };

/** FreshRSS's per-feed cURL options that may carry credentials: never read from a file. */
const CURL_SECRETS = ['frss:CURLOPT_COOKIE', 'frss:CURLOPT_COOKIEFILE', 'frss:CURLOPT_HTTPHEADER'];
/** FreshRSS's per-feed settings Wirefeed has no equivalent of. */
const CURL_UNMATCHED = [
  'frss:CURLOPT_FOLLOWLOCATION',
  'frss:CURLOPT_MAXREDIRS',
  'frss:CURLOPT_POST',
  'frss:CURLOPT_POSTFIELDS',
  'frss:cssFullContentConditions',
];

/** A feed's proxy from FreshRSS's CURLOPT_PROXY and CURLOPT_PROXYTYPE: its URL, false for none, or undefined (with a note why). */
function curlProxyOf(read: AttributeReader, notes: string[]): string | false | undefined {
  const type = read('frss:CURLOPT_PROXYTYPE', 'proxy')?.trim();
  const scheme = type === undefined ? 'http' : CURL_PROXY_SCHEMES[type];
  if (scheme === false) return false;
  const address = read('frss:CURLOPT_PROXY', 'proxy')?.trim();
  if (address === undefined) return undefined;
  if (scheme === undefined) {
    notes.push(`left out frss:CURLOPT_PROXY: its frss:CURLOPT_PROXYTYPE ${type} (SOCKS4 or an HTTPS proxy) is not one Wirefeed speaks`);
    return undefined;
  }
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `${scheme}://${address}`;
  if (URL.canParse(url) && (new URL(url).username || new URL(url).password)) {
    notes.push('left out frss:CURLOPT_PROXY: it holds a user name and password, which are never read from a file');
    return undefined;
  }
  const problem = proxyUrlProblem(url);
  if (problem) notes.push(`left out frss:CURLOPT_PROXY "${address}": ${problem}`);
  return problem ? undefined : url;
}

/**
 * What Wirefeed reads of FreshRSS's per-feed fetch options: the User-Agent a site insists on, and the proxy; the
 * others are named in the notes (cookies and headers may be credentials, which are never read from a file).
 */
function fetchOptionsOf(read: AttributeReader, extensions: Readonly<Record<string, string>>, notes: string[]): Pick<NewSource, 'headers' | 'proxy'> {
  const present = (names: readonly string[]) => names.filter((name) => extensions[name.toLowerCase()] !== undefined);
  const userAgent = read('frss:CURLOPT_USERAGENT', 'headers.User-Agent')?.trim();
  const proxy = curlProxyOf(read, notes);
  const secrets = present(CURL_SECRETS);
  if (secrets.length > 0)
    notes.push(`left out ${secrets.join(', ')}: cookies and headers may be credentials, which are never read from a file (give them in the source's headers)`);
  const unmatched = present(CURL_UNMATCHED);
  if (unmatched.length > 0) notes.push(`left out ${unmatched.join(', ')}: Wirefeed has no such setting`);
  if (present(['frss:filtersActionRead']).length > 0)
    notes.push('left out frss:filtersActionRead: Wirefeed marks nothing as read (an exclude query leaves items out)');
  return { ...(userAgent ? { headers: { 'User-Agent': userAgent } } : {}), ...(proxy !== undefined ? { proxy } : {}) };
}

/** A source's own retention from Wirefeed's attributes, as the YAML writes it. */
function retentionOf(read: AttributeReader): Pick<NewSource, 'retention'> {
  const items = read(ATTRIBUTES.retentionItems, 'retention.items');
  const keep = read(ATTRIBUTES.retentionKeep, 'retention.keepPerSource');
  if (items === undefined && keep === undefined) return {};
  return { retention: { ...(items !== undefined ? { items: items.trim() } : {}), ...(keep !== undefined ? { keepPerSource: Number(keep) } : {}) } };
}

/**
 * An outline of an OPML file as a source: its feed, or the listing its rules read (FreshRSS's JSON+DotNotation, or
 * Wirefeed's HTML+CSS), with its poll time, full-text selectors, tags and Wirefeed's own settings. What the config
 * would refuse (a selector Wirefeed cannot match, a bad query) makes it skipped, naming the attribute. Credentials and
 * private-network access are never read from a file.
 */
export function sourceFromOutline(feed: OpmlFeed): OutlineSource {
  const origins = new Map<string, string>(); // a config path -> the attribute it was read from, for messages
  const read: AttributeReader = (attribute, path) => {
    const value = feed.extensions[attribute.toLowerCase()];
    if (value === undefined || value.trim() === '') return undefined;
    origins.set(path, attribute);
    return value;
  };
  const notes: string[] = [];
  const type = feed.type?.toLowerCase() ?? 'rss';
  // The import follows included lists itself (commands/opml.ts): their URLs are lists, never a source's.
  if (type === INCLUDE_TYPE) return { skipped: 'a list of feeds of its own (an OPML file this one includes), not a feed' };
  if (type.includes('xpath')) {
    return { skipped: `FreshRSS reads it by XPath (${feed.type}), which Wirefeed does not: try CSS rules on it with wirefeed scrape URL --items SELECTOR` };
  }
  const json = type === JSON_LISTING_TYPE.toLowerCase();
  const listing = json || type === CSS_PAGE_TYPE.toLowerCase();
  const scrape = listing ? listingRules(json, read) : undefined;
  if (listing && !scrape) return { skipped: `a ${feed.type} outline without ${json ? JSON_ATTRIBUTES.items : CSS_ATTRIBUTES.items}` };
  const present = UNMATCHED_JSON_ATTRIBUTES.filter((attribute) => feed.extensions[attribute.toLowerCase()] !== undefined);
  if (present.length > 0) notes.push(`left out ${present.join(', ')}: Wirefeed has no such setting`);

  const fullText = fullTextOf(read, notes);

  const priority = read(ATTRIBUTES.priority, 'priority');
  const preferredId = read(ATTRIBUTES.id, 'id')?.trim();
  const source: NewSource = {
    url: feed.xmlUrl,
    // An export titles a source without a title by its id: no title of its own.
    title: feed.title === preferredId ? undefined : feed.title,
    tags: tagsFor(feed.categories),
    ...(preferredId && /^[a-z0-9-]+$/.test(preferredId) ? { preferredId } : {}),
    ...scheduleOf(read, notes),
    ...(priority !== undefined ? { priority: Number(priority) } : {}),
    ...(fullText ? { fullText } : {}),
    shortUrlHosts: read(ATTRIBUTES.shortUrlHosts, 'shortUrlHosts')
      ?.split(',')
      .map((host) => host.trim())
      .filter(Boolean),
    ...(scrape ? { scrape } : {}),
    keep: read(ATTRIBUTES.keep, 'keep'),
    exclude: read(ATTRIBUTES.exclude, 'exclude'),
    ...retentionOf(read),
    quietAfter: read(ATTRIBUTES.quietAfter, 'quietAfter')?.trim(),
    ...fetchOptionsOf(read, feed.extensions, notes),
  };
  const checked = sourceSchema.safeParse(sourceEntry(source, 'imported'));
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const path = issue.path.join('.');
    const at = origins.get(path) ?? origins.get(issue.path.slice(0, -1).join('.')) ?? path;
    return { skipped: `${at}: ${issue.message}` };
  }
  return { source, notes };
}
