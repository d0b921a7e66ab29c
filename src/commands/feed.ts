import { loadConfig } from '../config/load.js';
import { itemKey } from '../dedup/key.js';
import { fetchFeed, HttpClient } from '../fetch/index.js';
import { terminalJson, terminalText } from '../model/escape.js';
import type { Config } from '../model/settings.js';
import { isWebLink } from '../model/urls.js';
import { parseFeedDate } from '../normalize/date.js';
import { normalizeItem } from '../normalize/item.js';
import { limitDocument } from '../normalize/limits.js';
import { PageReader } from '../normalize/page-reader.js';
import { FeedParseError, type ParsedFeed, type ParsedItem, parseFeed } from '../parse/index.js';
import { compileTopics, topicMatcher } from '../topics/topics.js';
import { itemText, wantsArticle } from '../worker/full-text.js';
import { CONFIG_OPTION, defineCommand, UsageError } from './command.js';
import { fetchFailure, type PageSource, PRIVATE_NETWORK_HINT, pageSource } from './pages.js';

const options = {
  ...CONFIG_OPTION,
  source: { type: 'string', short: 's' },
  'allow-private-network': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** An item as the pipeline would store it, and what it would do with it. */
export interface FeedEntry {
  title: string;
  url: string | null;
  shortUrl: string | null;
  /** Its identity: what refetches and link variants of it are known by (its short URL, else its link, …). */
  key: string;
  /** Its date; null when it gave none Wirefeed can use, and is filed under the time it is first seen. */
  publishedAt: string | null;
  /** The date as the feed wrote it (the first one it gave). */
  dateGiven: string | null;
  /** Why the date given is not used: it cannot be read, or it is in the future. */
  dateProblem: 'unreadable' | 'future' | null;
  language: string | null;
  characters: number;
  categories: string[];
  /** False: the source's keep or exclude query leaves it out. */
  stored: boolean;
  /** The topics it would be filed under. */
  topics: string[];
  /** The source reads the articles of short items (fullText), and this one's would be read. */
  readsArticle: boolean;
}

/** What reading the document's items gave: each item, and the ones that could not be read. */
interface FeedReading {
  entries: FeedEntry[];
  unreadable: Array<{ item: number; error: string }>;
  /** Items past fetch.maxItems, not read. */
  cut: number;
}

/** The source a document is read as: a configured one, or a URL given alone (no filters, no topic `sources:`). */
type ReadingSource = PageSource & { id: string; keep?: string; exclude?: string; tags?: string[] };

/**
 * The document's items as the pipeline reads them: cut to the limits, normalized, judged by the source's keep and
 * exclude, matched against the config's topics. Pure but for the clock.
 */
function readFeedItems(feed: ParsedFeed, feedUrl: string, config: Config, source: ReadingSource, now = new Date()): FeedReading {
  const { items, droppedItems } = limitDocument(feed.items, config.fetch);
  const asSource = { pollSeconds: 0, priority: 0, tags: [], shortUrlHosts: [], url: feedUrl, ...source };
  const matcher = topicMatcher(compileTopics(config.topics, [...config.sources, asSource]), [...config.sources, asSource]);
  const context = { feedUrl, fetchedAt: now, shortUrlHosts: source.shortUrlHosts ?? [] };
  const entries: FeedEntry[] = [];
  const unreadable: FeedReading['unreadable'] = [];
  for (const [index, parsed] of items.entries()) {
    try {
      const item = normalizeItem(parsed, feed, context);
      const stored = matcher.keeps(item, source.id, now);
      entries.push({
        title: item.title,
        url: item.url ?? null,
        shortUrl: item.shortUrl ?? null,
        key: itemKey(item, source.id),
        publishedAt: item.dateEstimated ? null : item.publishedAt.toISOString(),
        ...givenDate(parsed, item.dateEstimated, now),
        language: item.language ?? null,
        characters: itemText(item).length,
        categories: item.categories,
        stored,
        topics: stored ? matcher.match(item, source.id, now) : [],
        readsArticle: source.fullText !== undefined && wantsArticle(item),
      });
    } catch (error) {
      unreadable.push({ item: index, error: (error as Error).message });
    }
  }
  return { entries, unreadable, cut: droppedItems };
}

/** The date the feed wrote, and why it is not the one filed (unreadable, or in the future) when it is not. */
function givenDate(parsed: ParsedItem, estimated: boolean, now: Date): Pick<FeedEntry, 'dateGiven' | 'dateProblem'> {
  const given = parsed.dates.find((date) => date.trim() !== '') ?? null;
  if (!estimated || given === null) return { dateGiven: given, dateProblem: null };
  const date = parseFeedDate(given);
  return { dateGiven: given, dateProblem: date === undefined ? 'unreadable' : date > now ? 'future' : null };
}

/** One item as three lines: its date and title, its links, and what Wirefeed makes of it. */
function formatEntry(entry: FeedEntry): string {
  const links = [entry.url ?? '(no link)', ...(entry.shortUrl ? [`short ${entry.shortUrl}`] : [])].join(' · ');
  const date =
    entry.dateGiven === null
      ? 'no date: filed under the time it is first seen'
      : entry.dateProblem
        ? `date "${entry.dateGiven}" ${entry.dateProblem === 'future' ? 'is in the future' : 'cannot be read'}: filed under the time it is first seen`
        : `date "${entry.dateGiven}"`;
  const fate = !entry.stored ? "left out by the source's keep or exclude" : entry.topics.length > 0 ? `topics ${entry.topics.join(', ')}` : 'no topic';
  const facts = [
    date,
    entry.language ?? 'language unknown',
    `${entry.characters} characters`,
    ...(entry.readsArticle ? ['its article would be read'] : []),
    fate,
  ];
  return `${entry.publishedAt ?? '(no date)'}  ${entry.title}\n  ${links}\n  ${facts.join(' · ')}`;
}

/** The stderr line after the items: counts of what was read and what the pipeline would do. */
function readingSummary(reading: FeedReading, url: string): string {
  const { entries, unreadable, cut } = reading;
  const count = (test: (entry: FeedEntry) => boolean) => entries.filter(test).length;
  const topics = new Map<string, number>();
  for (const entry of entries) for (const slug of entry.topics) topics.set(slug, (topics.get(slug) ?? 0) + 1);
  const notes = [
    count((entry) => !entry.stored) && `${count((entry) => !entry.stored)} left out by keep or exclude`,
    count((entry) => entry.publishedAt === null) && `${count((entry) => entry.publishedAt === null)} without a usable date`,
    unreadable.length && `${unreadable.length} could not be read`,
    cut && `${cut} past fetch.maxItems`,
  ].filter(Boolean);
  const filed = [...topics].map(([slug, items]) => `${slug} ${items}`).join(', ');
  return `read ${entries.length} item${entries.length === 1 ? '' : 's'} from ${url}${notes.length ? ` (${notes.join(', ')})` : ''}; topics: ${filed || 'none'}`;
}

/** The source the command reads as, and the URL it reads: `--source ID` (its URL unless one is given), or the URL alone. */
function readingOf(config: Config, values: { source?: string | undefined; 'allow-private-network'?: boolean | undefined }, positionals: string[]) {
  const [given, ...extra] = positionals;
  if (extra.length > 0 || (given === undefined && values.source === undefined)) throw new UsageError('feed needs a feed URL, or --source ID');
  if (given !== undefined && !isWebLink(given)) throw new UsageError(`"${given}" is not an http(s) URL`);
  if (values.source !== undefined && values['allow-private-network'])
    throw new UsageError('--allow-private-network is for a URL given alone: a source reads as its allowPrivateNetwork says');
  const configured = values.source === undefined ? undefined : config.sources.find((candidate) => candidate.id === values.source);
  const base = pageSource(config, values.source);
  const source: ReadingSource = configured ?? { ...base, id: 'feed', ...(values['allow-private-network'] ? { network: { kind: 'any' } } : {}) };
  return { url: given ?? configured!.url, source };
}

/**
 * `wirefeed feed URL|--source ID`: a feed's items as Wirefeed would store them (dates as read, identity, language,
 * what keep and exclude leave out, the topics each would be filed under), without storing anything: to see why an
 * item is dated or filed as it is, or what a new feed would bring, before the next fetch. Needs no database.
 */
export const feed = defineCommand({
  summary: "list a feed's items as Wirefeed would store them (dates, identity, topics), storing nothing",
  usage: 'feed [URL] [--source ID] [--allow-private-network] [--json] [--config DIR]',
  options,
  positionals: true,
  async run(values, positionals) {
    const config = loadConfig(values.config);
    const { url, source } = readingOf(config, values, positionals);
    const http = new HttpClient({ perHost: config.fetch.perHost });
    const pages = new PageReader();
    try {
      const fetched = await fetchFeed(http, { url, network: source.network, credentials: source.credentials, proxy: source.proxy, limits: config.fetch });
      if (fetched.kind !== 'ok') throw new UsageError(`${url} answered 304 Not Modified to a request without validators`);
      const parsed = source.scrape ? await pages.listing(fetched.text, fetched.finalUrl, source.scrape) : await parseFeed(fetched.text);
      const reading = readFeedItems(parsed, fetched.finalUrl, config, source);
      // The feed's text is outside input: no character of it may move the terminal's cursor or recolour it.
      if (values.json) console.log(terminalJson({ url, finalUrl: fetched.finalUrl, source: values.source ?? null, ...reading }));
      else for (const entry of reading.entries) console.log(terminalText(formatEntry(entry)));
      for (const { item, error } of reading.unreadable) console.error(terminalText(`item ${item + 1} could not be read: ${error}`));
      for (const warning of parsed.warnings ?? []) console.error(terminalText(warning));
      console.error(terminalText(readingSummary(reading, fetched.finalUrl)));
      return 0;
    } catch (error) {
      if (error instanceof FeedParseError) {
        console.error(terminalText(`${url}: ${error.message}`));
        return 1;
      }
      throw fetchFailure(error, url, (failure) => (failure.kind === 'refused' && values.source === undefined ? PRIVATE_NETWORK_HINT : ''));
    } finally {
      await pages.close();
      await http.close();
    }
  },
});
