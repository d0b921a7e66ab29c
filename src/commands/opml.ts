import { dirname, resolve } from 'node:path';
import { addSourcesToConfig, type NewSource } from '../config/edit.js';
import { loadConfig } from '../config/load.js';
import { INCLUDE_TYPE, MAX_CATEGORIES, type OpmlFeed, parseOpml, renderSourcesOpml, sourceFromOutline } from '../config/opml.js';
import { fetchFeed, HttpClient } from '../fetch/index.js';
import { UserError } from '../model/errors.js';
import { terminalJson, terminalText } from '../model/escape.js';
import type { Config } from '../model/settings.js';
import type { Source } from '../model/source.js';
import { isWebLink } from '../model/urls.js';
import { CONFIG_OPTION, defineCommand, displayPath, readUserFile, UsageError } from './command.js';
import { fetchFailure, PRIVATE_NETWORK_HINT } from './pages.js';

/** How an import reads its lists: files from disk, URLs fetched as feeds are (public addresses unless allowed). */
interface ListReader {
  http: HttpClient;
  config: Config;
  allowPrivateNetwork: boolean;
}

/**
 * An OPML list's text: a file read from disk, or a URL fetched as a feed is (a reader's published list, the list
 * FreshRSS fills a folder from), public addresses only unless `allowPrivateNetwork`.
 */
async function opmlText(location: string, { http, config, allowPrivateNetwork }: ListReader): Promise<string> {
  if (!isWebLink(location)) return readUserFile(location);
  try {
    const network = allowPrivateNetwork ? ({ kind: 'any' } as const) : ({ kind: 'public-only' } as const);
    const response = await fetchFeed(http, { url: location, network, proxy: config.fetch.proxy, limits: config.fetch });
    if (response.kind !== 'ok') throw new UsageError(`cannot fetch ${location}: it answered 304 Not Modified to a request without validators`);
    return response.text;
  } catch (error) {
    throw fetchFailure(error, location, (failure) => (failure.kind === 'refused' && !allowPrivateNetwork ? PRIVATE_NETWORK_HINT : ''));
  }
}

/** How deep an import follows lists that include lists (OPML 2.0 includes, FreshRSS's dynamic OPML), and how many it reads. */
const MAX_LIST_DEPTH = 3;
const MAX_LISTS = 20;

/**
 * Where an included list is: a URL as it is (relative ones against the including list's), or, only in a list read
 * from disk, a path against its folder. A list from the web never leads to a file on this machine.
 */
function includedLocation(reference: string, from: string): string | undefined {
  if (isWebLink(from)) {
    const url = URL.canParse(reference, from) ? new URL(reference, from) : undefined;
    return url && isWebLink(url.href) ? url.href : undefined;
  }
  if (isWebLink(reference)) return reference;
  return /^[a-z][a-z0-9+.-]*:/i.test(reference) ? undefined : resolve(dirname(from), reference);
}

interface ListFeeds {
  feeds: OpmlFeed[];
  unreadable: Array<{ url: string; reason: string }>;
}

/**
 * The feeds of an OPML list and of the lists it includes, up to MAX_LIST_DEPTH deep and MAX_LISTS in all, each list
 * once: an included list's feeds are filed under the including outline's folders and its own name. A list that
 * cannot be read is named in `unreadable`; the first one's failure is the command's.
 */
async function readLists(file: string, reader: ListReader): Promise<ListFeeds> {
  const result: ListFeeds = { feeds: [], unreadable: [] };
  const read = new Set<string>([file]);
  const follow = async (location: string, depth: number, folders: readonly string[]): Promise<void> => {
    let feeds: OpmlFeed[];
    try {
      feeds = parseOpml(await opmlText(location, reader));
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      if (depth > 0) return void result.unreadable.push({ url: location, reason: error.message });
      throw error instanceof UsageError ? error : new UsageError(`${location}: ${error.message}`);
    }
    for (const feed of feeds) {
      // An included list's folders come after the including one's, at most as many as one list's outline keeps.
      const categories = [...new Set([...folders, ...feed.categories])].slice(0, MAX_CATEGORIES);
      if (feed.type !== INCLUDE_TYPE) {
        result.feeds.push({ ...feed, categories });
        continue;
      }
      const target = includedLocation(feed.xmlUrl, location);
      const skip = (reason: string) => result.unreadable.push({ url: target ?? feed.xmlUrl, reason });
      if (!target) skip(isWebLink(location) ? 'a list from the web may include only http(s) lists' : 'neither an http(s) URL nor a path');
      else if (read.has(target)) skip('included again (read once)');
      else if (depth + 1 > MAX_LIST_DEPTH || read.size >= MAX_LISTS) {
        skip(`lists nested more than ${MAX_LIST_DEPTH} deep or more than ${MAX_LISTS} in all: import it with wirefeed opml import ${target}`);
      } else {
        read.add(target);
        await follow(target, depth + 1, feed.title ? [...categories, feed.title] : categories);
      }
    }
  };
  await follow(file, 0, []);
  return result;
}

/** What an export leaves out, on stderr: sources not written (without --all), and settings never written. */
function exportNotes(sources: readonly Source[], all: boolean, fetchProxy: Source['proxy']): string[] {
  const ids = (keep: (source: Source) => boolean) => sources.filter(keep).map((source) => source.id);
  const pages = all ? [] : ids((source) => source.scrape !== undefined);
  const credentials = ids((source) => source.credentials !== undefined);
  const network = ids((source) => source.network.kind !== 'public-only');
  const proxies = ids((source) => source.proxy !== fetchProxy);
  return [
    pages.length > 0 &&
      `left out ${pages.join(', ')}: web pages read by scrape rules, not feeds another reader can read (--all writes them too, with their rules)`,
    credentials.length > 0 && `credentials of ${credentials.join(', ')} are not written: give them again after an import`,
    network.length > 0 && `allowPrivateNetwork of ${network.join(', ')} is not written: an import never grants it`,
    proxies.length > 0 && `the proxy settings of ${proxies.join(', ')} are not written: a proxy belongs to the deployment, not the feed`,
  ].filter((note): note is string => typeof note === 'string');
}

export const opml = defineCommand({
  summary: 'export the sources as OPML 2.0, or import an OPML file (from Miniflux, FreshRSS, any reader) as sources',
  usage: 'opml export [--all] | opml import FILE|URL [--allow-private-network] [--into YAML] [--json] [--config DIR]',
  options: {
    ...CONFIG_OPTION,
    into: { type: 'string' },
    json: { type: 'boolean' },
    all: { type: 'boolean' },
    'allow-private-network': { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals) {
    const [action, file] = positionals;
    const config = loadConfig(values.config);
    if (action === 'export') {
      process.stdout.write(renderSourcesOpml(config.sources, new Date(), { all: values.all, retention: config.retention.sources }));
      for (const note of exportNotes(config.sources, values.all ?? false, config.fetch.proxy)) console.error(note);
      return 0;
    }
    if (action !== 'import' || !file) throw new UsageError('use "opml export" or "opml import FILE" (or URL)');
    const http = new HttpClient({ perHost: config.fetch.perHost });
    const { feeds, unreadable } = await readLists(file, { http, config, allowPrivateNetwork: values['allow-private-network'] === true }).finally(() =>
      http.close(),
    );
    const sources: NewSource[] = [];
    const notes: Array<{ url: string; note: string }> = [];
    for (const feed of feeds) {
      const read = sourceFromOutline(feed);
      if ('skipped' in read) unreadable.push({ url: feed.xmlUrl, reason: read.skipped });
      else {
        sources.push(read.source);
        notes.push(...read.notes.map((note) => ({ url: feed.xmlUrl, note })));
      }
    }
    const result = addSourcesToConfig(values.config, sources, values.into);
    const added = new Set(result.added.map(({ url }) => url));
    const addedNotes = notes.filter(({ url }) => added.has(url));
    const skipped = [...unreadable, ...result.skipped];
    if (values.json) {
      console.log(terminalJson({ file: result.file, feeds: feeds.length, added: result.added, skipped, notes: addedNotes }, 2));
      return 0;
    }
    // The file's URLs and titles are outside text: nothing in them may act on the terminal.
    for (const source of result.added) {
      console.log(terminalText(`added ${source.id}: ${source.url}`));
      for (const { note } of addedNotes.filter(({ url }) => url === source.url)) console.log(terminalText(`  ${note}`));
    }
    for (const source of skipped) console.log(terminalText(`skipped ${source.url}: ${source.reason}`));
    console.log(terminalText(`${result.added.length} added to ${displayPath(result.file)}, ${skipped.length} skipped, of ${feeds.length} feeds in ${file}`));
    return 0;
  },
});
