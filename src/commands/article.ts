import { loadConfig } from '../config/load.js';
import { FetchError, HttpClient } from '../fetch/index.js';
import { terminalJson, terminalText } from '../model/escape.js';
import type { ArticleRules, Source } from '../model/source.js';
import { isWebLink } from '../model/urls.js';
import { cssSelectorProblem } from '../normalize/article.js';
import { ArticleReader } from '../normalize/article-reader.js';
import { readArticlePage } from '../worker/full-text.js';
import { CONFIG_OPTION, defineCommand, UsageError } from './command.js';

const options = {
  ...CONFIG_OPTION,
  source: { type: 'string', short: 's' },
  select: { type: 'string' },
  remove: { type: 'string' },
  html: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** The rules as a reader of the command's output sees them. */
const describeRules = (rules: ArticleRules) =>
  [rules.select ? `select '${rules.select}'` : 'Readability', ...(rules.remove ? [`remove '${rules.remove}'`] : [])].join(', ');

/** A --select or --remove option, checked as the config checks a source's selectors. */
function selectorOption(name: string, selector: string | undefined): string | undefined {
  const problem = selector === undefined ? undefined : selector === '' ? 'it is empty' : cssSelectorProblem(selector);
  if (problem) throw new UsageError(`--${name} is not a CSS selector Wirefeed can match (${problem})`);
  return selector;
}

/**
 * `wirefeed article URL`: reads a page's article as full text would, to try a source's `fullText` rules (or new
 * ones) on one of its pages before waiting for its next short item. Needs no database.
 */
export const article = defineCommand({
  summary: "read a page's article as full text would: try a source's fullText rules, or new ones, on one of its pages",
  usage: 'article URL [--source ID] [--select CSS] [--remove CSS] [--html | --json] [--config DIR]',
  options,
  positionals: true,
  async run(values, positionals) {
    const [url, ...extra] = positionals;
    if (!url || extra.length > 0) throw new UsageError('article needs one page URL');
    if (!isWebLink(url)) throw new UsageError(`"${url}" is not an http(s) URL`);
    const config = loadConfig(values.config);
    const source: Pick<Source, 'network' | 'credentials' | 'fullText'> | undefined = values.source
      ? config.sources.find((candidate) => candidate.id === values.source)
      : { network: { kind: 'public-only' } };
    if (!source) throw new UsageError(`no source with id "${values.source}"`);
    const select = selectorOption('select', values.select) ?? source.fullText?.select;
    const remove = selectorOption('remove', values.remove) ?? source.fullText?.remove;
    const rules: ArticleRules = { ...(select ? { select } : {}), ...(remove ? { remove } : {}) };
    const http = new HttpClient({ perHost: config.fetch.perHost });
    const articles = new ArticleReader();
    try {
      const page = await readArticlePage({ http, articles, fetchLimits: config.fetch }, source, url, rules);
      const found = page?.article;
      if (!found) {
        console.error(`no article on ${terminalText(page?.finalUrl ?? url)} (${describeRules(rules)})`);
        return 1;
      }
      // The page's text is outside input: no character of it may move the terminal's cursor or recolour it.
      if (values.json) console.log(terminalJson({ url, finalUrl: page.finalUrl, rules, text: found.text, html: found.html }));
      else console.log(terminalText(values.html ? found.html : found.text));
      console.error(`read ${found.text.length} characters from ${terminalText(page.finalUrl)} (${describeRules(rules)})`);
      return 0;
    } catch (error) {
      if (!(error instanceof FetchError)) throw error;
      const hint = error.kind === 'refused' && !values.source ? '; give --source ID to fetch it as that source may (its allowPrivateNetwork)' : '';
      throw new UsageError(`cannot fetch ${url}: ${error.message}${hint}`);
    } finally {
      await articles.close();
      await http.close();
    }
  },
});
