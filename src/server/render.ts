import { Feed, type Item } from 'feed';
import type { Topic } from '../config/load.js';
import type { FeedEntry } from '../store/topics.js';

export type FeedFormat = 'rss' | 'atom' | 'json';

export const CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

export interface RenderInput {
  topic: Topic;
  entries: FeedEntry[];
  /** Absolute base URL of this server, without a trailing slash. */
  baseUrl: string;
  /** RFC 5005 paging: this page, the newest page, and the next (older) page if there is one. */
  page?: { self: string; first: string; next?: string };
  /** WebSub hub to announce. */
  hub?: string;
}

// Characters XML 1.0 forbids; one in any field would make the whole document invalid.
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const clean = (text: string) => text.replace(XML_FORBIDDEN, '');

export const storyUrn = (storyId: string) => `urn:wirefeed:story:${storyId}`;
export const topicPageUrl = (baseUrl: string, slug: string) => `${baseUrl}/topics/${slug}.html`;
export const feedUrl = (baseUrl: string, slug: string, format: FeedFormat) => `${baseUrl}/topics/${slug}.${format}`;

/** The entry's link: the story's page at its outlet, or its anchor on our topic page when the outlet gave none. */
function entryLink(entry: FeedEntry, input: RenderInput): string {
  return entry.url ?? `${topicPageUrl(input.baseUrl, input.topic.slug)}#story-${entry.storyId}`;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);

/** "Also reported by" links to the story's other outlets, appended to the entry's HTML. */
export function alsoReportedHtml(entry: FeedEntry): string {
  if (entry.alsoReportedBy.length === 0) return '';
  const links = entry.alsoReportedBy.map((outlet) => {
    const name = escapeHtml(outlet.sourceTitle ?? outlet.sourceId);
    return outlet.url ? `<a href="${escapeHtml(outlet.url)}">${name}</a>` : name;
  });
  return `<p class="also-reported">Also reported by: ${links.join(', ')}</p>`;
}

function entryHtml(entry: FeedEntry): string | undefined {
  const body = entry.contentHtml ?? (entry.summary ? `<p>${escapeHtml(entry.summary)}</p>` : '');
  const html = `${body}${body && entry.alsoReportedBy.length ? '\n' : ''}${alsoReportedHtml(entry)}`;
  return html || undefined;
}

/** The time the feed last changed: its newest entry update, fixed so the same content renders the same bytes. */
function feedUpdated(entries: FeedEntry[]): Date {
  return entries.reduce((latest, entry) => (entry.updatedAt > latest ? entry.updatedAt : latest), new Date(0));
}

function buildFeed(input: RenderInput, format: 'rss' | 'atom'): Feed {
  const { topic, entries, baseUrl } = input;
  const self = input.page?.self ?? feedUrl(baseUrl, topic.slug, format);
  const feed = new Feed({
    id: feedUrl(baseUrl, topic.slug, 'atom'),
    title: clean(topic.title),
    description: clean(topic.description ?? `Wirefeed topic: ${topic.query}`),
    link: topicPageUrl(baseUrl, topic.slug),
    updated: feedUpdated(entries),
    generator: 'Wirefeed',
    copyright: 'Each entry belongs to the outlet that published it.',
    feedLinks: { [format]: self },
    ...(input.hub ? { hub: input.hub } : {}),
  });
  for (const entry of entries) {
    const item: Item = {
      id: storyUrn(entry.storyId),
      guid: storyUrn(entry.storyId),
      title: clean(entry.title),
      link: entryLink(entry, input),
      date: entry.updatedAt > entry.publishedAt ? entry.updatedAt : entry.publishedAt,
      published: entry.publishedAt,
      description: entry.summary ? clean(entry.summary) : undefined,
      content: entryHtml(entry) ? clean(entryHtml(entry)!) : undefined,
      author: entry.author ? [{ name: clean(entry.author) }] : entry.sourceTitle ? [{ name: clean(entry.sourceTitle) }] : undefined,
      category: entry.categories.map((name) => ({ name: clean(name) })),
      image: entry.imageUrl ?? undefined,
    };
    feed.addItem(item);
  }
  return feed;
}

/** JSON Feed 1.1, built by hand: the feed package's json1() writes version 1.0. */
function renderJsonFeed(input: RenderInput): string {
  const { topic, entries, baseUrl } = input;
  const document = {
    version: 'https://jsonfeed.org/version/1.1',
    title: topic.title,
    home_page_url: topicPageUrl(baseUrl, topic.slug),
    feed_url: input.page?.self ?? feedUrl(baseUrl, topic.slug, 'json'),
    description: topic.description ?? `Wirefeed topic: ${topic.query}`,
    ...(input.page?.next ? { next_url: input.page.next } : {}),
    ...(input.hub ? { hubs: [{ type: 'WebSub', url: input.hub }] } : {}),
    items: entries.map((entry) => ({
      id: storyUrn(entry.storyId),
      url: entryLink(entry, input),
      title: entry.title,
      ...(entryHtml(entry) ? { content_html: entryHtml(entry) } : { content_text: entry.contentText ?? entry.summary ?? entry.title }),
      ...(entry.summary ? { summary: entry.summary } : {}),
      ...(entry.imageUrl ? { image: entry.imageUrl } : {}),
      date_published: entry.publishedAt.toISOString(),
      date_modified: (entry.updatedAt > entry.publishedAt ? entry.updatedAt : entry.publishedAt).toISOString(),
      ...(entry.author || entry.sourceTitle ? { authors: [{ name: entry.author ?? entry.sourceTitle }] } : {}),
      ...(entry.categories.length ? { tags: entry.categories } : {}),
      ...(entry.language ? { language: entry.language } : {}),
      // JSON Feed extensions start with "_" and name their author.
      _wirefeed: {
        about: 'https://github.com/wirefeed/wirefeed#json-feed-extension',
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

const xmlAttribute = (text: string) => escapeHtml(text);

/**
 * Adds RFC 5005 paging links next to the self link (the feed package writes self and hub links only): `first` for the
 * newest page and `next` for older entries.
 */
function withPageLinks(xml: string, format: 'rss' | 'atom', page: NonNullable<RenderInput['page']>): string {
  const link = (rel: string, href: string) =>
    format === 'atom' ? `<link rel="${rel}" href="${xmlAttribute(href)}"/>` : `<atom:link href="${xmlAttribute(href)}" rel="${rel}"/>`;
  const extra = [link('first', page.first), ...(page.next ? [link('next', page.next)] : [])];
  const selfLink = format === 'atom' ? /<link rel="self"[^>]*\/>/ : /<atom:link [^>]*rel="self"[^>]*\/>/;
  return xml.replace(selfLink, (self) => [self, ...extra].join('\n        '));
}

export function renderFeed(format: FeedFormat, input: RenderInput): string {
  if (format === 'json') return renderJsonFeed(input);
  const feed = buildFeed(input, format);
  const xml = format === 'rss' ? feed.rss2() : feed.atom1();
  return input.page ? withPageLinks(xml, format, input.page) : xml;
}
