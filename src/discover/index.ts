/**
 * Finding the feed of a site for `wirefeed sources add`: the URL itself if it is a feed, else the feeds its page
 * announces with <link rel="alternate">, else the paths where sites commonly keep one (as Miniflux and FreshRSS do).
 * Every candidate is fetched and parsed before it is offered.
 */
import { Parser } from 'htmlparser2';
import { fetchFeed, type HttpClient } from '../fetch/index.js';
import type { FetchLimits } from '../model/settings.js';
import type { NetworkPolicy, ProxySetting, SourceCredentials } from '../model/source.js';
import { looksLikeJson, parseFeed } from '../parse/index.js';

const FEED_TYPES = new Set([
  'application/rss+xml',
  'application/atom+xml',
  'application/rdf+xml',
  'application/feed+json',
  'application/json',
  'text/xml',
  'application/xml',
]);

/** Where sites commonly keep their feed, relative to the site's root; tried when the page announces none. */
export const COMMON_FEED_PATHS = ['/feed', '/feed/', '/rss', '/rss/', '/feed.xml', '/rss.xml', '/atom.xml', '/index.xml', '/index.rss', '/feed.json'];

export interface FeedLink {
  url: string;
  title?: string;
  type: string;
}

/** The feeds an HTML page announces with <link rel="alternate" type="…feed type…">, resolved against <base href>. */
export function feedLinksInHtml(html: string, pageUrl: string): FeedLink[] {
  const links: Array<{ href: string; title?: string; type: string }> = [];
  let base = pageUrl;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'base' && attributes.href) {
          try {
            base = new URL(attributes.href, pageUrl).href;
          } catch {
            // a broken <base> is ignored, as browsers do
          }
        }
        if (name !== 'link' || !attributes.href) return;
        const rel = (attributes.rel ?? '').toLowerCase().split(/\s+/);
        const type = (attributes.type ?? '').toLowerCase().split(';')[0]!.trim();
        if (rel.includes('alternate') && FEED_TYPES.has(type)) links.push({ href: attributes.href.trim(), title: attributes.title?.trim() || undefined, type });
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  const seen = new Set<string>();
  const resolved: FeedLink[] = [];
  for (const link of links) {
    let url: string;
    try {
      url = new URL(link.href, base).href;
    } catch {
      continue;
    }
    if (!/^https?:/i.test(url) || seen.has(url)) continue;
    seen.add(url);
    resolved.push({ url, type: link.type, ...(link.title ? { title: link.title } : {}) });
  }
  return resolved;
}

export interface DiscoveredFeed {
  url: string;
  title?: string;
  format: string;
  items: number;
  /** How it was found: the URL given was the feed, the page announced it, or a common path had it. */
  via: 'given' | 'link' | 'common-path';
}

export interface Discovery {
  feeds: DiscoveredFeed[];
  /** Candidates that were tried and are not feeds, with why. */
  rejected: Array<{ url: string; reason: string }>;
  /** What the URL itself holds where it is no feed: a web page, or JSON (an API's list, read by `scrape.format: json`). */
  page?: 'html' | 'json';
}

const FORMAT_NAMES: Record<string, string> = { rss: 'RSS', rdf: 'RSS 1.0', atom: 'Atom', json: 'JSON Feed' };

/** Fetches `url` and finds the feeds it is or leads to. Throws FetchError when the URL itself cannot be fetched. */
export async function discoverFeeds(
  url: string,
  options: { http: HttpClient; network: NetworkPolicy; limits?: Partial<FetchLimits>; credentials?: SourceCredentials; proxy?: ProxySetting | undefined },
): Promise<Discovery> {
  const discovery: Discovery = { feeds: [], rejected: [] };
  const fetchText = async (target: string) => {
    // Credentials go only where the source would send them: its own site (credentialHeaders decides, hop by hop).
    const { http, ...request } = options;
    const response = await fetchFeed(http, { url: target, ...request });
    if (response.kind !== 'ok') throw new Error('not modified');
    return response;
  };
  const describe = (finalUrl: string, feed: Awaited<ReturnType<typeof parseFeed>>, via: DiscoveredFeed['via']): DiscoveredFeed => ({
    url: finalUrl,
    format: FORMAT_NAMES[feed.format] ?? feed.format,
    items: feed.items.length,
    via,
    ...(feed.title ? { title: feed.title } : {}),
  });
  const tryFeed = async (target: string, via: DiscoveredFeed['via']) => {
    try {
      const response = await fetchText(target);
      const feed = await parseFeed(response.text);
      if (!discovery.feeds.some((known) => known.url === response.finalUrl)) discovery.feeds.push(describe(response.finalUrl, feed, via));
    } catch (error) {
      discovery.rejected.push({ url: target, reason: (error as Error).message.split('\n')[0]! });
    }
  };

  const page = await fetchText(url);
  try {
    discovery.feeds.push(describe(page.finalUrl, await parseFeed(page.text), 'given'));
    return discovery;
  } catch {
    // not a feed itself: read it as a page
  }
  discovery.page = looksLikeJson(page.text) ? 'json' : 'html';
  for (const link of feedLinksInHtml(page.text, page.finalUrl)) await tryFeed(link.url, 'link');
  if (discovery.feeds.length > 0) return discovery;
  const root = new URL('/', page.finalUrl);
  for (const path of COMMON_FEED_PATHS) {
    await tryFeed(new URL(path, root).href, 'common-path');
    if (discovery.feeds.length > 0) break; // one is enough; the rest would be the same feed under other names
  }
  return discovery;
}
