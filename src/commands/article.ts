import { loadConfig } from '../config/load.js';
import { HttpClient } from '../fetch/index.js';
import { terminalJson, terminalText } from '../model/escape.js';
import type { ArticleRules } from '../model/source.js';
import { PageReader } from '../normalize/page-reader.js';
import { readArticlePage } from '../worker/full-text.js';
import { CONFIG_OPTION, defineCommand } from './command.js';
import { pageFetchError, pageSource, pageUrl, selectorOption } from './pages.js';

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
    const url = pageUrl('article', positionals);
    const config = loadConfig(values.config);
    const source = pageSource(config, values.source);
    const select = selectorOption('select', values.select) ?? source.fullText?.select;
    const remove = selectorOption('remove', values.remove) ?? source.fullText?.remove;
    const rules: ArticleRules = { ...(select ? { select } : {}), ...(remove ? { remove } : {}) };
    const http = new HttpClient({ perHost: config.fetch.perHost });
    const pages = new PageReader();
    try {
      const page = await readArticlePage({ http, pages, fetchLimits: config.fetch }, source, url, rules);
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
      throw pageFetchError(error, url, values.source !== undefined);
    } finally {
      await pages.close();
      await http.close();
    }
  },
});
