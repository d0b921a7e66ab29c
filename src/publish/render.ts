import { escapeHtml, escapeHtmlAmbiguous } from '../model/escape.js';
import type { FeedEntry } from '../model/story.js';
import type { Topic } from '../model/topic.js';
import { type FeedFormat, feedUrl, storyUrn, topicPageUrl } from '../model/urls.js';
import { el, serializeXml } from '../model/xml.js';
import { excerpt } from '../normalize/html.js';

export const CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

/** Where the `_wirefeed` JSON Feed extension is described (JSON Feed extensions name their author). */
const EXTENSION_ABOUT = 'https://github.com/wirefeed/wirefeed#json-feed-extension';

/** What a published feed is, as its renderers name and link it: a topic, or a search. */
export interface Channel {
  title: string;
  description: string;
  /** Its HTML page, absolute. */
  pageUrl: string;
  /** Its feed in each format, absolute. */
  feedUrl(format: FeedFormat): string;
  /** How a chat message counts its entries ("3 new stories" unless it says), and where the rest of them are. */
  tally?: { count(entries: number): string; restAt: string };
}

/** A topic's channel on the server at `baseUrl` (absolute, without a trailing slash). */
export function topicChannel(baseUrl: string, topic: Topic): Channel {
  return {
    title: topic.title,
    description: topic.description ?? `Wirefeed topic: ${topic.query}`,
    pageUrl: topicPageUrl(baseUrl, topic.slug),
    feedUrl: (format) => feedUrl(baseUrl, topic.slug, format),
  };
}

export interface RenderInput {
  channel: Channel;
  entries: FeedEntry[];
  /** RFC 5005 paging: this page, the newest page, and the next (older) page if there is one. */
  page?: { self: string; first: string; next?: string };
  /** WebSub hub to announce. */
  hub?: string;
  /** The JSON Feed's own `_wirefeed` extension object (a webhook's event), beside its items'. */
  extension?: Record<string, unknown>;
  /** When the topic last changed: the feed's date when it has no entries yet (not 1 January 1970). */
  changedAt?: Date;
}

/** The entry's link: the story's page at its outlet, or its anchor on our page when the outlet gave none. */
function entryLink(entry: FeedEntry, input: RenderInput): string {
  return entry.url ?? `${input.channel.pageUrl}#story-${entry.storyId}`;
}

/** "Also reported by" links to the story's other outlets, appended to the entry's HTML. */
export function alsoReportedHtml(entry: FeedEntry): string {
  if (entry.alsoReportedBy.length === 0) return '';
  const links = entry.alsoReportedBy.map((outlet) => {
    const name = escapeHtml(outlet.sourceTitle ?? outlet.sourceId);
    return outlet.url ? `<a href="${escapeHtml(outlet.url)}">${name}</a>` : name;
  });
  return `<p class="also-reported">Also reported by: ${links.join(', ')}</p>`;
}

/** A summary in a feed is an excerpt, whatever the outlet sent: a feed entry stays small. */
const MAX_SUMMARY_CHARS = 1_000;
/** Stored content is capped at ingest; older or oversized content is replaced by the summary, never cut mid-markup. */
const MAX_CONTENT_CHARS = 256 * 1024;

const summaryOf = (entry: FeedEntry) => (entry.summary ? excerpt(entry.summary, MAX_SUMMARY_CHARS) : undefined);

/** The entry's HTML: its sanitized content (or its summary as a paragraph) and the "Also reported by" line. */
function entryHtml(entry: FeedEntry): string | undefined {
  const summary = summaryOf(entry);
  const content = entry.contentHtml && entry.contentHtml.length <= MAX_CONTENT_CHARS ? entry.contentHtml : undefined;
  const body = content ?? (summary ? `<p>${escapeHtml(summary)}</p>` : '');
  const html = `${body}${body && entry.alsoReportedBy.length ? '\n' : ''}${alsoReportedHtml(entry)}`;
  return html || undefined;
}

/** The time the feed last changed: its newest entry update, fixed so the same content renders the same bytes. */
function feedUpdated(entries: FeedEntry[], changedAt = new Date()): Date {
  if (entries.length === 0) return changedAt;
  return entries.reduce((latest, entry) => later(entry.updatedAt, latest), new Date(0));
}

const later = (a: Date, b: Date) => new Date(Math.max(a.getTime(), b.getTime()));
const entryUpdated = (entry: FeedEntry) => later(entry.updatedAt, entry.publishedAt);

const IMAGE_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
};

/** The media type of an image URL, from its extension (JPEG when it has none we know). */
function imageType(url: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return (extension && IMAGE_TYPES[extension]) || 'image/jpeg';
}

/**
 * RSS 2.0 allows one enclosure per item: the first medium that is not an image (a podcast's audio), else the first
 * image. Atom and JSON Feed carry them all.
 */
function rssEnclosure(entry: FeedEntry) {
  const chosen = entry.enclosures.find((enclosure) => !enclosure.type?.startsWith('image/')) ?? entry.enclosures[0];
  if (chosen) return el('enclosure', { url: chosen.url, length: chosen.length ?? 0, type: chosen.type ?? 'application/octet-stream' });
  return entry.imageUrl ? el('enclosure', { url: entry.imageUrl, length: 0, type: imageType(entry.imageUrl) }) : undefined;
}

const ATOM_NS = 'http://www.w3.org/2005/Atom';
const pageLinks = (page: RenderInput['page']) => (page ? [['first', page.first], ...(page.next ? [['next', page.next]] : [])] : []);

/**
 * RSS 2.0. Titles, authors and categories are plain text that some readers parse as HTML, so they are written so
 * both readings agree (escapeHtmlAmbiguous); descriptions are HTML by convention, so the summary is escaped as HTML.
 */
function renderRss(input: RenderInput): string {
  const { channel, entries } = input;
  const self = input.page?.self ?? channel.feedUrl('rss');
  const items = entries.map((entry) => {
    const summary = summaryOf(entry);
    return el(
      'item',
      {},
      el('title', {}, escapeHtmlAmbiguous(entry.title)),
      el('link', {}, entryLink(entry, input)),
      el('guid', { isPermaLink: 'false' }, storyUrn(entry.storyId)),
      el('pubDate', {}, entry.publishedAt.toUTCString()),
      summary && el('description', {}, escapeHtml(summary)),
      el('content:encoded', {}, entryHtml(entry)),
      el('dc:creator', {}, escapeHtmlAmbiguous(entry.author ?? entry.sourceTitle ?? entry.sourceId)),
      entry.categories.map((name) => el('category', {}, escapeHtmlAmbiguous(name))),
      rssEnclosure(entry),
    );
  });
  const rssChannel = el(
    'channel',
    {},
    el('title', {}, escapeHtmlAmbiguous(channel.title)),
    el('link', {}, channel.pageUrl),
    el('description', {}, escapeHtml(channel.description)),
    el('lastBuildDate', {}, feedUpdated(entries, input.changedAt).toUTCString()),
    el('docs', {}, 'https://www.rssboard.org/rss-specification'),
    el('generator', {}, 'Wirefeed'),
    el('copyright', {}, 'Each entry belongs to the outlet that published it.'),
    el('atom:link', { href: self, rel: 'self', type: 'application/rss+xml' }),
    pageLinks(input.page).map(([rel, href]) => el('atom:link', { href, rel })),
    input.hub && el('atom:link', { href: input.hub, rel: 'hub' }),
    items,
  );
  const namespaces = { 'xmlns:atom': ATOM_NS, 'xmlns:content': 'http://purl.org/rss/1.0/modules/content/', 'xmlns:dc': 'http://purl.org/dc/elements/1.1/' };
  return serializeXml(el('rss', { version: '2.0', ...namespaces }, rssChannel));
}

/** Atom 1.0: titles and summaries as type="text", content as type="html" (sanitized at ingest). */
function renderAtom(input: RenderInput): string {
  const { channel, entries } = input;
  const self = input.page?.self ?? channel.feedUrl('atom');
  const text = (name: string, value: string | undefined) => value && el(name, { type: 'text' }, value);
  const atomEntries = entries.map((entry) =>
    el(
      'entry',
      {},
      text('title', entry.title),
      el('id', {}, storyUrn(entry.storyId)),
      el('link', { rel: 'alternate', type: 'text/html', href: entryLink(entry, input) }),
      entry.enclosures.map((enclosure) => el('link', { rel: 'enclosure', type: enclosure.type, length: enclosure.length, href: enclosure.url })),
      entry.imageUrl &&
        !entry.enclosures.some((enclosure) => enclosure.url === entry.imageUrl) &&
        el('link', { rel: 'enclosure', type: imageType(entry.imageUrl), href: entry.imageUrl }),
      el('published', {}, entry.publishedAt.toISOString()),
      el('updated', {}, entryUpdated(entry).toISOString()),
      el('author', {}, el('name', {}, entry.author ?? entry.sourceTitle ?? entry.sourceId)),
      entry.categories.map((name) => el('category', { term: name, label: name })),
      text('summary', summaryOf(entry)),
      entryHtml(entry) && el('content', { type: 'html' }, entryHtml(entry)),
    ),
  );
  const feed = el(
    'feed',
    { xmlns: ATOM_NS },
    el('id', {}, channel.feedUrl('atom')),
    text('title', channel.title),
    text('subtitle', channel.description),
    el('updated', {}, feedUpdated(entries, input.changedAt).toISOString()),
    el('generator', {}, 'Wirefeed'),
    text('rights', 'Each entry belongs to the outlet that published it.'),
    el('link', { rel: 'alternate', type: 'text/html', href: channel.pageUrl }),
    el('link', { rel: 'self', type: 'application/atom+xml', href: self }),
    pageLinks(input.page).map(([rel, href]) => el('link', { rel, href })),
    input.hub && el('link', { rel: 'hub', href: input.hub }),
    atomEntries,
  );
  return serializeXml(feed);
}

/** JSON Feed 1.1, built by hand: the feed package's json1() writes version 1.0. */
function renderJsonFeed(input: RenderInput): string {
  const { channel, entries } = input;
  const document = {
    version: 'https://jsonfeed.org/version/1.1',
    title: channel.title,
    home_page_url: channel.pageUrl,
    feed_url: input.page?.self ?? channel.feedUrl('json'),
    description: channel.description,
    ...(input.page?.next ? { next_url: input.page.next } : {}),
    ...(input.hub ? { hubs: [{ type: 'WebSub', url: input.hub }] } : {}),
    ...(input.extension ? { _wirefeed: { about: EXTENSION_ABOUT, ...input.extension } } : {}),
    items: entries.map((entry) => ({
      id: storyUrn(entry.storyId),
      url: entryLink(entry, input),
      title: entry.title,
      ...(entryHtml(entry) ? { content_html: entryHtml(entry) } : { content_text: summaryOf(entry) ?? entry.title }),
      ...(summaryOf(entry) ? { summary: summaryOf(entry) } : {}),
      ...(entry.imageUrl ? { image: entry.imageUrl } : {}),
      ...(entry.enclosures.length
        ? {
            attachments: entry.enclosures.map((enclosure) => ({
              url: enclosure.url,
              mime_type: enclosure.type ?? 'application/octet-stream',
              ...(enclosure.length ? { size_in_bytes: enclosure.length } : {}),
            })),
          }
        : {}),
      date_published: entry.publishedAt.toISOString(),
      date_modified: entryUpdated(entry).toISOString(),
      ...(entry.author || entry.sourceTitle ? { authors: [{ name: entry.author ?? entry.sourceTitle }] } : {}),
      ...(entry.categories.length ? { tags: entry.categories } : {}),
      ...(entry.language ? { language: entry.language } : {}),
      // JSON Feed extensions start with "_" and name their author.
      _wirefeed: {
        about: EXTENSION_ABOUT,
        story_id: entry.storyId,
        source: { id: entry.sourceId, title: entry.sourceTitle ?? entry.sourceId },
        also_reported_by: entry.alsoReportedBy.map((outlet) => ({
          source: { id: outlet.sourceId, title: outlet.sourceTitle ?? outlet.sourceId },
          title: outlet.title,
          ...(outlet.url ? { url: outlet.url } : {}),
        })),
      },
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function renderFeed(format: FeedFormat, input: RenderInput): string {
  if (format === 'json') return renderJsonFeed(input);
  return format === 'rss' ? renderRss(input) : renderAtom(input);
}
