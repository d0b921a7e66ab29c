/**
 * Search feeds: any query of the topic language as a feed (`/search.rss?q=…`) or a page, over every stored story.
 * A query is outside input like any other: bounded in length, compiled to linear-time matching, and a search reads
 * a bounded number of stories; at most a few run at once.
 */
import { escapeHtml } from '../model/escape.js';
import type { Source } from '../model/source.js';
import type { FeedFormat } from '../model/urls.js';
import type { Channel } from '../publish/render.js';
import type { RecentItem } from '../store/topics.js';
import { QueryError } from '../topics/query.js';
import { compileTopics, topicMatcher } from '../topics/topics.js';
import { BadRequest, parsePageRequest } from './request.js';

/** The longest query accepted: longer than any topic query needs, short enough to bound its compilation. */
export const MAX_QUERY_CHARS = 500;
/** Entries of a search feed unless ?limit= says otherwise, as a topic's. */
export const DEFAULT_SEARCH_LIMIT = 50;

export interface SearchRequest {
  q: string;
  limit: number;
}

/** ?q= and ?limit= of a search (undefined: no query asked); BadRequest for a query too long or a bad limit. */
export function parseSearchRequest(params: URLSearchParams, maxLimit: number): SearchRequest | undefined {
  const q = params.get('q')?.trim();
  if (!q) return undefined;
  if (q.length > MAX_QUERY_CHARS) throw new BadRequest(`q: a query may be at most ${MAX_QUERY_CHARS} characters long (this one has ${q.length})`);
  const limit = params.get('limit');
  return { q, limit: parsePageRequest(new URLSearchParams(limit === null ? {} : { limit }), DEFAULT_SEARCH_LIMIT, maxLimit).limit };
}

/**
 * Whether an item matches the query, as a topic with that query would take it (`source:` names a source's tags too).
 * A query that does not parse is a BadRequest naming the column.
 */
export function searchMatcher(q: string, sources: readonly Source[]): (item: RecentItem) => boolean {
  try {
    const matcher = topicMatcher(compileTopics([{ slug: 'search', title: q, query: q, limit: DEFAULT_SEARCH_LIMIT }], sources), sources);
    return (item) => matcher.match(item, item.sourceId).length > 0;
  } catch (error) {
    if (error instanceof QueryError) throw new BadRequest(`q: ${error.message}`);
    throw error;
  }
}

export const searchUrl = (baseUrl: string, format: FeedFormat | 'html', q: string) => `${baseUrl}/search.${format}?q=${encodeURIComponent(q)}`;

/** A search as a feed: its title and description name the query and how far back it reads. */
export function searchChannel(baseUrl: string, q: string, depth: number): Channel {
  return {
    title: `Search: ${q}`,
    description: `Stories matching ${q}, among the newest ${depth.toLocaleString('en-US')} stored.`,
    pageUrl: searchUrl(baseUrl, 'html', q),
    feedUrl: (format) => searchUrl(baseUrl, format, q),
  };
}

/** The search form, with the query as asked and a line on the outcome or the error. */
export function searchFormHtml(baseUrl: string, q: string, note?: { text: string; error?: boolean }): string {
  return `<form class="search" role="search" method="get" action="${escapeHtml(baseUrl)}/search.html">
<label for="q">Search stories</label> <input id="q" name="q" type="search" maxlength="${MAX_QUERY_CHARS}" value="${escapeHtml(q)}" placeholder="japan AND (defense OR security)">
<button type="submit">Search</button>
</form>
${note ? `<p class="${note.error ? 'error' : 'meta'}"${note.error ? ' role="alert"' : ''}>${escapeHtml(note.text)}</p>` : ''}`;
}

/**
 * At most `running` tasks at once and `waiting` more in line; a task beyond that is turned away (undefined) rather
 * than queued without end: a burst of searches cannot pile up work or memory.
 */
export class Admission {
  private active = 0;
  private readonly line: Array<() => void> = [];

  constructor(
    private readonly running: number,
    private readonly waiting: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.active >= this.running) {
      if (this.line.length >= this.waiting) return undefined;
      await new Promise<void>((admit) => this.line.push(admit));
    } else this.active++;
    try {
      return { value: await task() };
    } finally {
      // The slot passes to the next in line, or is freed.
      const next = this.line.shift();
      if (next) next();
      else this.active--;
    }
  }
}
