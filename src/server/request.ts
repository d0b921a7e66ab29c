/** Parsing what a feed request asks for: format, page size and position. Pure; errors become 400 responses. */
import type { FeedCursor } from '../model/story.js';
import type { FeedFormat } from '../model/urls.js';

export class BadRequest extends Error {}

const ACCEPTED: Array<[string, FeedFormat | 'html']> = [
  ['application/atom+xml', 'atom'],
  ['application/rss+xml', 'rss'],
  ['application/feed+json', 'json'],
  ['application/json', 'json'],
  ['text/html', 'html'],
  ['application/xhtml+xml', 'html'],
  ['application/xml', 'atom'],
  ['text/xml', 'rss'],
];

/**
 * The values of an Accept or Accept-Encoding header with their q-values (1 when absent, 0 when unreadable), most
 * wanted first and, among equals, in the order given. Values are lower-cased; parameters other than q are dropped.
 */
export function acceptedValues(header: string): Array<{ value: string; q: number }> {
  return header
    .split(',')
    .map((part, index) => {
      const [value = '', ...params] = part.trim().toLowerCase().split(';');
      const q = Number(/q\s*=\s*([\d.]+)/.exec(params.join(';'))?.[1] ?? 1);
      return { value: value.trim(), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.value !== '')
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map(({ value, q }) => ({ value, q }));
}

/** The representation an Accept header prefers for /topics/<slug>: by q-value, then by order; RSS when anything goes. */
export function negotiateFormat(accept: string | undefined): FeedFormat | 'html' {
  for (const range of acceptedValues(accept ?? '*/*')) {
    if (range.q <= 0) continue;
    const match = ACCEPTED.find(([type]) => type === range.value);
    if (match) return match[1];
    if (range.value === '*/*' || range.value === 'application/*') return 'rss';
  }
  return 'rss';
}

export function encodeCursor(cursor: FeedCursor): string {
  return Buffer.from(`${cursor.publishedAt.toISOString()}|${cursor.storyId}`).toString('base64url');
}

export function decodeCursor(text: string): FeedCursor {
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const [iso, storyId] = decoded.split('|');
  const publishedAt = new Date(iso ?? '');
  const year = publishedAt.getUTCFullYear();
  // Years outside 1-9999 parse in JavaScript but not as a database timestamp.
  if (!storyId || !/^[0-9a-z-]+$/.test(storyId) || Number.isNaN(year) || year < 1 || year > 9999 || encodeCursor({ publishedAt, storyId }) !== text) {
    throw new BadRequest('invalid "before" cursor: use the next link of a feed page');
  }
  return { publishedAt, storyId };
}

export interface PageRequest {
  limit: number;
  before?: FeedCursor;
}

/** ?limit= (1 to maxLimit; default the topic's) and ?before= (a cursor from a next link). Unknown parameters are ignored. */
export function parsePageRequest(params: URLSearchParams, defaultLimit: number, maxLimit: number): PageRequest {
  const limitText = params.get('limit');
  let limit = Math.min(defaultLimit, maxLimit);
  if (limitText !== null) {
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new BadRequest(`invalid limit "${limitText}": use a whole number from 1 to ${maxLimit}`);
    limit = Math.min(Number(limitText), maxLimit);
  }
  const before = params.get('before');
  return before === null ? { limit } : { limit, before: decodeCursor(before) };
}

/** A Host header as a browser or feed reader sends it: a DNS name or IP literal, with an optional port. */
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** The server's base URL from the request's Host header, when no public URL is configured; BadRequest if malformed. */
export function baseUrlFromHost(host: string | undefined): string {
  if (host === undefined) return 'http://localhost';
  if (host.length > 255 || !HOST.test(host)) throw new BadRequest('invalid Host header');
  return `http://${host.toLowerCase()}`;
}

/** The request target as a URL; BadRequest for one that does not parse (GET http://[bad/…). */
export function requestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    throw new BadRequest('invalid request target');
  }
}
