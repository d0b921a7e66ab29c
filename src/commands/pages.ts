/** What the commands that fetch a page or list given on the command line share (article, scrape, sources add, opml import): rules and fetch errors. */

import { scrapeRuleProblem } from '../config/schema.js';
import { FetchError } from '../fetch/index.js';
import type { Config } from '../model/settings.js';
import type { Source } from '../model/source.js';
import { isWebLink } from '../model/urls.js';
import { UsageError } from './command.js';

/** A selector option (`--select`, `--items`…), checked as the config checks a source's selectors. */
export function selectorOption(name: string, selector: string | undefined): string | undefined {
  const problem = selector === undefined ? undefined : scrapeRuleProblem('html', selector);
  if (problem) throw new UsageError(`--${name} ${problem}`);
  return selector;
}

export type PageSource = Pick<Source, 'network' | 'credentials' | 'fullText' | 'scrape' | 'proxy'> & Partial<Pick<Source, 'shortUrlHosts'>>;

/** The one page URL a command was given, checked. */
export function pageUrl(command: string, positionals: string[]): string {
  const [url, ...extra] = positionals;
  if (!url || extra.length > 0) throw new UsageError(`${command} needs one page URL`);
  if (!isWebLink(url)) throw new UsageError(`"${url}" is not an http(s) URL`);
  return url;
}

/**
 * The source whose network, credentials and proxy the page is fetched with (`--source ID`), else a public-only one
 * through `fetch.proxy`.
 */
export function pageSource(config: Config, id: string | undefined): PageSource {
  if (id === undefined) return { network: { kind: 'public-only' }, ...(config.fetch.proxy ? { proxy: config.fetch.proxy } : {}) };
  const source = config.sources.find((candidate) => candidate.id === id);
  if (!source) throw new UsageError(`no source with id "${id}"`);
  return source;
}

/** How a command given a URL on a private address fetches it anyway. */
export const PRIVATE_NETWORK_HINT = '; add --allow-private-network to allow it';

/** A fetch failure as a command's one line, with the way round it where `hint` knows one ("; add …"); other errors as they are. */
export function fetchFailure(error: unknown, url: string, hint: (error: FetchError) => string = () => ''): unknown {
  if (!(error instanceof FetchError)) return error;
  return new UsageError(`cannot fetch ${url}: ${error.message}${hint(error)}`);
}

/** A page's fetch failure, with the way round a refused private address. */
export function pageFetchError(error: unknown, url: string, sourceGiven: boolean): unknown {
  return fetchFailure(error, url, (failure) =>
    failure.kind === 'refused' && !sourceGiven ? '; give --source ID to fetch it as that source may (its allowPrivateNetwork)' : '',
  );
}
