/** Text reports for the command line. */
import type { DiscoveredFeed, Discovery } from '../discover/index.js';
import { type Quiet, quietText, roughSpan, type SourcePace } from '../model/quiet.js';
import { readsLabels, type SourceReads, stateOf } from '../model/source.js';
import type { StoryListing } from '../model/story.js';
import { displayWidth, padToWidth } from '../model/text.js';
import { type Topic, webhookLabel } from '../model/topic.js';
import type { TopicPreview } from '../store/preview.js';
import type { FetchAttempt, SourceHealth } from '../store/sources.js';
import type { WebhookBacklog } from '../store/webhooks.js';
import { highlight, snippet } from '../topics/highlight.js';
import type { IngestSummary } from '../worker/ingest.js';
import type { ReloadOutcome, ReloadReport } from '../worker/reload.js';

export function formatSummary(summary: IngestSummary): string {
  return (
    `sources: ${summary.ok} ok, ${summary.notModified} not modified, ${summary.failed} failed${summary.deferred ? `, ${summary.deferred} deferred` : ''}; ` +
    `items: ${summary.itemsNew} new, ${summary.itemsDuplicate} duplicate${summary.itemsRevised ? `, ${summary.itemsRevised} revised` : ''}${summary.itemsFiltered ? `, ${summary.itemsFiltered} filtered` : ''}`
  );
}

const ago = (date: Date | null, now: Date) => {
  if (!date) return 'never';
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  const magnitude = Math.abs(seconds);
  const text =
    magnitude < 90
      ? `${magnitude}s`
      : magnitude < 5400
        ? `${Math.round(magnitude / 60)}m`
        : magnitude < 172800
          ? `${Math.round(magnitude / 3600)}h`
          : `${Math.round(magnitude / 86400)}d`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
};

/** Columns aligned by terminal width (a Japanese title takes two columns a character), the last one free-width. */
function table(header: string[], rows: string[][]): string {
  const widths = header.slice(0, -1).map((title, column) => Math.max(displayWidth(title), ...rows.map((row) => displayWidth(row[column]!))));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => (column < widths.length ? padToWidth(cell, widths[column]!) : cell))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A source's id with what it reads, where that is more than a feed's items: "jiji-politics (web page, full text)". */
const sourceName = (id: string, reads: string[]) => (reads.length > 0 ? `${id} (${reads.join(', ')})` : id);

/** A plain-text table, one source a line, the last column free-width (URL, or the last error). */
export function formatSourceTable(rows: Array<SourceHealth & { reads?: SourceReads; paused?: boolean; quiet?: Quiet }>, now: Date): string {
  const header = ['SOURCE', 'STATUS', 'LAST FETCH', 'ITEMS', 'ERRORS', 'NEXT CHECK', 'URL / LAST ERROR'];
  const lines = rows.map((row) => [
    sourceName(row.id, readsLabels(row.reads, row.push?.state === 'active')),
    row.goneAt ? 'gone' : row.paused ? 'paused' : row.quiet ? 'quiet' : (row.lastStatus ?? 'new'),
    ago(row.lastFetchedAt, now),
    String(row.items),
    String(row.errorCount),
    row.goneAt || row.paused ? '-' : row.nextCheckAt <= now ? 'due' : ago(row.nextCheckAt, now),
    row.lastError ?? (row.quiet ? `${row.fetchUrl ?? row.url}  ${quietText(row.quiet)}` : (row.fetchUrl ?? row.url)),
  ]);
  return table(header, lines);
}

const minute = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;

/** A source row as `sources show` reads it: its health, what it reads, its pace and whether it is quiet. */
export type SourceDetail = SourceHealth & { reads?: SourceReads; paused?: boolean; pace?: SourcePace; quiet?: Quiet };

/** `sources show ID`: the source's state line by line (`settings`: sourceSettings), then its newest fetch attempts. */
export function formatSourceDetail(row: SourceDetail, attempts: readonly FetchAttempt[], now: Date, settings?: string): string {
  const state = stateOf(row);
  const reads = readsLabels(row.reads, row.push?.state === 'active');
  const pace = row.pace
    ? `; ${row.pace.count} in the 30 days up to the newest (${ago(row.pace.newest, now)}), the longest gap between two ${roughSpan(row.pace.longestGapSeconds)}`
    : '';
  const facts: Array<[string, string | undefined]> = [
    ['status', row.quiet ? `quiet: ${quietText(row.quiet)}` : state === 'failing' ? `failing: ${row.errorCount} errors in a row` : state],
    ['url', row.url],
    ['settings', settings],
    ['moved to', row.fetchUrl ?? undefined],
    ['reads', reads.length > 0 ? reads.join(', ') : undefined],
    ['last fetch', row.lastFetchedAt ? `${ago(row.lastFetchedAt, now)} (${row.lastStatus ?? 'new'})` : 'never'],
    ['next check', row.goneAt || row.paused ? '-' : row.nextCheckAt <= now ? 'due' : ago(row.nextCheckAt, now)],
    ['items', `${row.items} stored${pace}`],
    ['last error', row.lastError ?? undefined],
  ];
  const lines = facts.filter((fact): fact is [string, string] => fact[1] !== undefined).map(([name, value]) => `  ${name.padEnd(10)}  ${value}`);
  const history =
    attempts.length === 0
      ? ['  no fetch attempts kept (retention.fetchLog)']
      : table(
          ['  WHEN', 'OUTCOME', 'STATUS', 'MS', 'BYTES', 'NEW', 'DUP', 'ERROR'],
          attempts.map((attempt) => [
            `  ${minute(attempt.startedAt)}`,
            attempt.outcome,
            attempt.httpStatus === null ? '-' : String(attempt.httpStatus),
            String(attempt.durationMs),
            attempt.bytes === null ? '-' : String(attempt.bytes),
            String(attempt.itemsNew),
            String(attempt.itemsDuplicate),
            attempt.error ?? '',
          ]),
        ).split('\n');
  return [row.title ? `${row.id} (${row.title})` : row.id, ...lines, '', ...history].join('\n');
}

/** Stories with their outlets, one indented line per version (the representative first). */
export function formatStories(listings: StoryListing[]): string {
  if (listings.length === 0) return 'no stories';
  const width = Math.max(...listings.flatMap((story) => story.versions.map((version) => version.sourceId.length)));
  return listings
    .map((story) => {
      const [lead] = story.versions;
      const outlets = story.versions.length === 1 ? '1 outlet' : `${story.versions.length} outlets`;
      const header = `${minute(story.publishedAt)}  ${lead?.title ?? '(no items)'}  [${story.storyId}, ${outlets}]`;
      const lines = story.versions.map((version) => {
        const revised = version.revision ? ` (revised ${version.revision}x)` : '';
        return `    ${version.sourceId.padEnd(width)}  ${minute(version.publishedAt)}  ${version.title}${revised}${version.url ? `  ${version.url}` : ''}`;
      });
      return [header, ...lines].join('\n');
    })
    .join('\n');
}

/** Topics with their member counts and queries. */
/**
 * A topic's webhooks as `wirefeed topics` shows them: none, ok (nothing waits), or what waits and why; each named
 * (by its name, or its format) when the topic has several.
 */
export function webhookState(topic: Topic, backlog: ReadonlyMap<string, WebhookBacklog> | undefined, now: Date): string {
  const webhooks = topic.webhooks ?? [];
  if (webhooks.length === 0) return '-';
  const stateOf = (waiting: WebhookBacklog | undefined) =>
    waiting ? `${waiting.queued} waiting since ${ago(waiting.oldest, now)}${waiting.lastError ? ` (${waiting.lastError})` : ''}` : 'ok';
  if (webhooks.length === 1) return stateOf(backlog?.get(webhooks[0]!.name));
  return webhooks.map((webhook) => `${webhookLabel(webhook)} ${stateOf(backlog?.get(webhook.name))}`).join(', ');
}

/** Topics with their story counts; a WEBHOOK column when any has a webhook. */
export function formatTopicTable(
  topics: readonly Topic[],
  counts: Map<string, number>,
  backlog = new Map<string, Map<string, WebhookBacklog>>(),
  now = new Date(),
): string {
  if (topics.length === 0) return 'no topics configured';
  const webhooks = topics.some((topic) => topic.webhooks);
  const rows = topics.map((topic) => [
    topic.slug,
    String(counts.get(topic.slug) ?? 0),
    topic.title,
    ...(webhooks ? [webhookState(topic, backlog.get(topic.slug), now)] : []),
    topic.query + (topic.exclude ? `  (exclude: ${topic.exclude})` : ''),
  ]);
  const header = ['TOPIC', 'STORIES', 'TITLE', ...(webhooks ? ['WEBHOOK'] : []), 'QUERY'];
  return table(header, rows);
}

/** A preview's matches with the query's terms marked by `mark`. */
export function formatPreview(preview: TopicPreview, mark: (text: string) => string): string {
  const lines = preview.matches.map((item) => {
    const title = highlight(item.title, preview.patterns, mark);
    const text = highlight(snippet(item.contentText ?? item.summary ?? '', preview.patterns), preview.patterns, mark);
    return `${minute(item.publishedAt)}  ${item.sourceId}  ${title}${text ? `\n    ${text}` : ''}`;
  });
  const shown = preview.total > preview.matches.length ? ` (showing ${preview.matches.length})` : '';
  return [...lines, `${preview.total} of ${preview.scanned} items stored in the last ${preview.days} days match "${preview.topic.query}"${shown}`].join('\n');
}

const VIA: Record<DiscoveredFeed['via'], string> = { given: 'the URL is a feed', link: 'announced by the page', 'common-path': 'found at a common feed path' };

/** What `sources add` found: the feeds, numbered for --pick, and what was tried in vain. */
export function formatDiscovery(url: string, discovery: Discovery): string {
  const lines = discovery.feeds.map((feed, index) => {
    const title = feed.title ? ` "${feed.title}"` : '';
    return `  ${index + 1}. ${feed.url}${title} (${feed.format}, ${feed.items} item${feed.items === 1 ? '' : 's'}; ${VIA[feed.via]})`;
  });
  const rejected = discovery.rejected.map((entry) => `  not a feed: ${entry.url}: ${entry.reason}`);
  const head =
    discovery.feeds.length === 0 ? `no feed found at ${url}` : `found ${discovery.feeds.length} feed${discovery.feeds.length === 1 ? '' : 's'} at ${url}:`;
  if (discovery.feeds.length > 0) return [head, ...lines].join('\n');
  const scrape =
    discovery.page === 'json'
      ? `it is JSON, not a JSON Feed: a JSON list of news can be read as a feed: see what \`wirefeed scrape ${url} --format json --items PATH\` finds (PATH: where its list of items is, such as data.items), then give the source \`scrape:\` rules with \`format: json\``
      : `a page that lists news without a feed can be read as one: see what \`wirefeed scrape ${url} --items CSS\` finds, then give the source \`scrape:\` rules`;
  return [head, ...rejected, scrape].join('\n');
}

const RELOAD_OUTCOMES: Record<ReloadOutcome, string> = {
  revised: 'revised',
  unchanged: 'unchanged',
  'no-article': 'without an article to take its place',
  failed: 'failed',
  'not-short': 'not short (--all reads them too)',
  'no-page': 'without a page',
  moved: 'stored under an older key (left as is)',
  superseded: 'revised by a fetch meanwhile (left as is)',
};

/** `sources reload`: each item read (or passed over) and why, then the counts. */
export function formatReload(report: ReloadReport): string {
  const outcome = (value: ReloadOutcome) => (value === 'revised' && report.dryRun ? 'would revise' : value);
  const rows = report.items.map((item) => [
    outcome(item.outcome),
    item.chars.toLocaleString('en-US'),
    item.articleChars === undefined ? '-' : item.articleChars.toLocaleString('en-US'),
    `${item.title}${item.url ? `  ${item.url}` : ''}${item.error ? `  (${item.error})` : ''}`,
  ]);
  const counts = (Object.keys(RELOAD_OUTCOMES) as ReloadOutcome[])
    .filter((key) => report.counts[key] > 0)
    .map((key) => `${report.counts[key]} ${key === 'revised' && report.dryRun ? 'to revise' : RELOAD_OUTCOMES[key]}`);
  const summary = `${report.sourceId}: ${counts.length > 0 ? counts.join(', ') : 'no stored items'}${report.dryRun ? ' (dry run: nothing stored)' : ''}`;
  return rows.length > 0 ? `${table(['OUTCOME', 'STORED', 'ARTICLE', 'ITEM'], rows)}\n${summary}` : summary;
}
