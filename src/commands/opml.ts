import { addSourcesToConfig, type NewSource } from '../config/edit.js';
import { loadConfig } from '../config/load.js';
import { type OpmlFeed, parseOpml, renderSourcesOpml, sourceFromOutline } from '../config/opml.js';
import { fetchFeed, HttpClient } from '../fetch/index.js';
import { UserError } from '../model/errors.js';
import { terminalJson, terminalText } from '../model/escape.js';
import type { Config } from '../model/settings.js';
import type { Source } from '../model/source.js';
import { isWebLink } from '../model/urls.js';
import { CONFIG_OPTION, defineCommand, displayPath, readUserFile, UsageError } from './command.js';
import { fetchFailure, PRIVATE_NETWORK_HINT } from './pages.js';

/**
 * The OPML file to import: read from disk, or fetched from its URL as a feed is (a reader's published list, the list
 * FreshRSS fills a folder from), public addresses only unless `allowPrivateNetwork`.
 */
async function opmlText(file: string, config: Config, allowPrivateNetwork: boolean): Promise<string> {
  if (!isWebLink(file)) return readUserFile(file);
  const http = new HttpClient({ perHost: config.fetch.perHost });
  try {
    const network = allowPrivateNetwork ? ({ kind: 'any' } as const) : ({ kind: 'public-only' } as const);
    const response = await fetchFeed(http, { url: file, network, proxy: config.fetch.proxy, limits: config.fetch });
    if (response.kind !== 'ok') throw new UsageError(`cannot fetch ${file}: it answered 304 Not Modified to a request without validators`);
    return response.text;
  } catch (error) {
    throw fetchFailure(error, file, (failure) => (failure.kind === 'refused' && !allowPrivateNetwork ? PRIVATE_NETWORK_HINT : ''));
  } finally {
    await http.close();
  }
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
    const text = await opmlText(file, config, values['allow-private-network'] === true);
    let feeds: OpmlFeed[];
    try {
      feeds = parseOpml(text);
    } catch (error) {
      if (error instanceof UserError) throw new UsageError(`${file}: ${error.message}`);
      throw error;
    }
    const sources: NewSource[] = [];
    const unreadable: Array<{ url: string; reason: string }> = [];
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
