import { addSourcesToConfig } from '../config/edit.js';
import { loadConfig } from '../config/load.js';
import { SCRAPE_PARTS, scrapeRuleProblem } from '../config/schema.js';
import { fetchFeed, HttpClient, nonPublicRangesFor } from '../fetch/index.js';
import { canonicalTimeZone } from '../model/days.js';
import { terminalJson, terminalText } from '../model/escape.js';
import { DATE_ORDERS, type DateOrder, LISTING_FORMATS, type ListingFormat, type ScrapeRules } from '../model/source.js';
import { normalizeItem } from '../normalize/item.js';
import { PageReader } from '../normalize/page-reader.js';
import { FeedParseError } from '../parse/index.js';
import { CONFIG_OPTION, defineCommand, displayPath, type OptionValues, UsageError } from './command.js';
import { type PageSource, pageFetchError, pageSource, pageUrl } from './pages.js';

const options = {
  ...CONFIG_OPTION,
  source: { type: 'string', short: 's' },
  format: { type: 'string' },
  ...(Object.fromEntries(SCRAPE_PARTS.map((part) => [part, { type: 'string' }])) as Record<(typeof SCRAPE_PARTS)[number], { type: 'string' }>),
  'time-zone': { type: 'string' },
  'date-order': { type: 'string' },
  json: { type: 'boolean' },
  add: { type: 'boolean' },
  id: { type: 'string' },
  into: { type: 'string' },
  'allow-private-network': { type: 'boolean' },
  'full-text': { type: 'boolean' },
} as const;

/** The rules as a reader of the command's output sees them. */
const describeRules = (rules: ScrapeRules) =>
  Object.entries(rules)
    .map(([part, value]) => `${part} '${value}'`)
    .join(', ');

/** The source's rules with the command line's over them; `--items` is needed where the source has none. */
function rulesOf(
  values: Partial<Record<(typeof SCRAPE_PARTS)[number] | 'format' | 'time-zone' | 'date-order', string>>,
  given: ScrapeRules | undefined,
): ScrapeRules {
  const rules: Partial<ScrapeRules> = { ...given };
  if (values.format !== undefined) {
    if (!(LISTING_FORMATS as readonly string[]).includes(values.format))
      throw new UsageError(`--format takes ${LISTING_FORMATS.join(' or ')}, not "${values.format}"`);
    rules.format = values.format as ListingFormat;
  }
  for (const part of SCRAPE_PARTS) {
    const rule = values[part];
    if (rule === undefined) continue;
    const problem = scrapeRuleProblem(rules.format, rule);
    if (problem) throw new UsageError(`--${part} ${problem}`);
    rules[part] = rule;
  }
  if (values['time-zone'] !== undefined) {
    const zone = canonicalTimeZone(values['time-zone']);
    if (!zone) throw new UsageError(`--time-zone "${values['time-zone']}" is not a time zone such as Asia/Tokyo or UTC`);
    rules.timeZone = zone;
  }
  const order = values['date-order'];
  if (order !== undefined) {
    if (!(DATE_ORDERS as readonly string[]).includes(order)) throw new UsageError(`--date-order takes ${DATE_ORDERS.join(' or ')}, not "${order}"`);
    rules.dateOrder = order as DateOrder;
  }
  if (!rules.items) throw new UsageError('give --items CSS (where the items are; a dot path with --format json), or --source ID of a source with scrape rules');
  return rules as ScrapeRules;
}

/**
 * Writes the page as a source with the rules that read it (`--add`), titled as the page is: with
 * `--allow-private-network`, only the ranges its host is in, as `sources add` does. Exit 1 when it was not added
 * (its URL or id is a source already).
 */
async function addScrapedSource(values: OptionValues<typeof options>, url: string, pageTitle: string | undefined, rules: ScrapeRules): Promise<number> {
  const privateRanges = values['allow-private-network'] ? await nonPublicRangesFor(url) : [];
  const added = addSourcesToConfig(
    values.config,
    [{ url, title: pageTitle, id: values.id, allowPrivateNetwork: privateRanges, fullText: values['full-text'] === true, scrape: rules }],
    values.into,
  );
  for (const entry of added.added) console.error(`added ${entry.id}: ${terminalText(entry.url)} to ${displayPath(added.file)}`);
  for (const entry of added.skipped) console.error(`not added: ${terminalText(entry.url)}: ${entry.reason}`);
  return added.added.length > 0 ? 0 : 1;
}

/**
 * `wirefeed scrape URL`: the items a web page lists, read as a source with `scrape` rules would read them, to write
 * or mend the rules on the page itself before the source's next fetch, and with `--add` to add the page as a source
 * with the rules that read it. Needs no database.
 */
export const scrape = defineCommand({
  summary: "list the items a web page holds by scrape rules: try a source's rules, or new ones, on a page without a feed; --add makes it a source",
  usage:
    'scrape URL [--source ID] [--format html|json] [--items CSS] [--title CSS] [--link CSS] [--date CSS] [--summary CSS] [--image CSS] [--author CSS] [--categories CSS] [--time-zone ZONE] [--date-order day-first|month-first] [--json] [--add [--id ID] [--into YAML] [--allow-private-network] [--full-text]] [--config DIR]',
  options,
  positionals: true,
  async run(values, positionals) {
    const url = pageUrl('scrape', positionals);
    const config = loadConfig(values.config);
    if (values.add && values.source !== undefined) throw new UsageError('--add writes a new source: give the rules with --items and the rest, not --source');
    const source: PageSource =
      values['allow-private-network'] && values.source === undefined
        ? { ...pageSource(config, undefined), network: { kind: 'any' } }
        : pageSource(config, values.source);
    const rules = rulesOf(values, source.scrape);
    const http = new HttpClient({ perHost: config.fetch.perHost });
    const pages = new PageReader();
    try {
      const page = await fetchFeed(http, { url, network: source.network, credentials: source.credentials, proxy: source.proxy, limits: config.fetch });
      if (page.kind !== 'ok') throw new UsageError(`${url} answered 304 Not Modified to a request without validators`);
      const feed = await pages.listing(page.text, page.finalUrl, rules);
      // Links read as the source's fetch reads them: one to its short-link hosts is the item's short URL.
      const context = { feedUrl: page.finalUrl, fetchedAt: new Date(), shortUrlHosts: source.shortUrlHosts ?? [] };
      const listed = feed.items.map((parsed) => {
        const { title, url: link, shortUrl, publishedAt, dateEstimated, summary, imageUrl, author, categories } = normalizeItem(parsed, feed, context);
        // A date read relative to now ("3 hours ago") is the one stored, but only when the item is first seen.
        const approximate = parsed.dateApproximate === true;
        return {
          title,
          url: link ?? shortUrl,
          ...(shortUrl ? { shortUrl } : {}),
          publishedAt: dateEstimated && !approximate ? null : publishedAt.toISOString(),
          ...(approximate ? { approximate } : {}),
          ...(summary ? { summary } : {}),
          ...(imageUrl ? { imageUrl } : {}),
          ...(author ? { author } : {}),
          ...(categories.length > 0 ? { categories } : {}),
        };
      });
      // The page's text is outside input: no character of it may move the terminal's cursor or recolour it.
      if (values.json) console.log(terminalJson({ url, finalUrl: page.finalUrl, rules, items: listed, warnings: feed.warnings ?? [] }));
      else
        for (const item of listed)
          console.log(terminalText(`${item.approximate ? '~' : ''}${item.publishedAt ?? '(no date)'}  ${item.title}\n  ${item.url ?? '(no link)'}`));
      for (const warning of feed.warnings ?? []) console.error(terminalText(warning));
      console.error(`read ${listed.length} item${listed.length === 1 ? '' : 's'} from ${terminalText(page.finalUrl)} (${describeRules(rules)})`);
      return values.add ? addScrapedSource(values, url, feed.title, rules) : 0;
    } catch (error) {
      if (error instanceof FeedParseError) {
        console.error(terminalText(`${url}: ${error.message}`));
        return 1;
      }
      throw pageFetchError(error, url, values.source !== undefined);
    } finally {
      await pages.close();
      await http.close();
    }
  },
});
