/** What the commands that read web pages as a source would (`article`, `scrape`) share: rules and fetch errors. */

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

export type PageSource = Pick<Source, 'network' | 'credentials' | 'fullText' | 'scrape'> & Partial<Pick<Source, 'shortUrlHosts'>>;

/** The one page URL a command was given, checked. */
export function pageUrl(command: string, positionals: string[]): string {
  const [url, ...extra] = positionals;
  if (!url || extra.length > 0) throw new UsageError(`${command} needs one page URL`);
  if (!isWebLink(url)) throw new UsageError(`"${url}" is not an http(s) URL`);
  return url;
}

/** The source whose network and credentials the page is fetched with (`--source ID`), else a public-only one. */
export function pageSource(config: Config, id: string | undefined): PageSource {
  if (id === undefined) return { network: { kind: 'public-only' } };
  const source = config.sources.find((candidate) => candidate.id === id);
  if (!source) throw new UsageError(`no source with id "${id}"`);
  return source;
}

/** A fetch failure as the command's one line, with the way round a refused private address. */
export function pageFetchError(error: unknown, url: string, sourceGiven: boolean): unknown {
  if (!(error instanceof FetchError)) return error;
  const hint = error.kind === 'refused' && !sourceGiven ? '; give --source ID to fetch it as that source may (its allowPrivateNetwork)' : '';
  return new UsageError(`cannot fetch ${url}: ${error.message}${hint}`);
}
