/** The sources status page (/sources, /sources.json) and the one-line summary the index shows. Pure renderers. */
import { escapeHtml } from '../model/escape.js';
import { type Quiet, quietJson, quietText, type SourcePace } from '../model/quiet.js';
import { readsLabels, type SourceHealthState, type SourceReads, stateOf } from '../model/source.js';
import type { FetchAttempt, SourceCondition, SourceHealth } from '../store/sources.js';
import { layout, timeHtml } from './page.js';

/** Days the sparkline covers. */
export const SPARKLINE_DAYS = 14;

export interface SourceStatus extends SourceHealth {
  /** Items per day, oldest first, SPARKLINE_DAYS of them. */
  itemsPerDay: number[];
  /** What the configured source reads; absent for one no longer configured. */
  reads?: SourceReads;
  /** The configured source says `paused: true`. */
  paused?: boolean;
  /** Its items of the last month of them (see quietness). */
  pace?: SourcePace;
  /** Fetched without error but silent past what its pace allows (see withQuiet). */
  quiet?: Quiet;
}

/** "web page · full text": what a source reads, where it is more than a feed's items. */
function readsLabel(reads: SourceReads | undefined, pushed: boolean): string {
  const labels = readsLabels(reads, pushed);
  return labels.length > 0 ? ` <span class="meta">${labels.join(' · ')}</span>` : '';
}

/** "host name not found" from "request failed: ENOTFOUND (host name not found)": what a reader can act on. */
function shortError(error: string): string {
  return /\(([^()]+)\)$/.exec(error)?.[1] ?? error;
}

/** What the index says about the sources: "7 sources, 7 failing: host name not found". Undefined when none. */
export function sourcesSummary(sources: ReadonlyArray<SourceCondition & { paused?: boolean; quiet?: Quiet }>): string | undefined {
  if (sources.length === 0) return undefined;
  const count = (state: SourceHealthState) => sources.filter((source) => stateOf(source) === state).length;
  const failing = sources.filter((source) => stateOf(source) === 'failing' && source.lastError);
  const total = `${sources.length} source${sources.length === 1 ? '' : 's'}`;
  if (failing.length > 0) {
    const tally = new Map<string, number>();
    for (const source of failing) tally.set(shortError(source.lastError!), (tally.get(shortError(source.lastError!)) ?? 0) + 1);
    const [common] = [...tally].sort((a, b) => b[1] - a[1]);
    return `${total}, ${failing.length} failing: ${common![0]}`;
  }
  const fresh = count('new');
  if (fresh === sources.length) return `${total}, not fetched yet`;
  if (fresh > 0) return `${total}, ${fresh} not fetched yet`;
  const aside = (['quiet', 'gone', 'paused'] as const).map((state) => count(state) && `${count(state)} ${state}`).filter(Boolean);
  return `${total}, all fetched${aside.length ? ` (${aside.join(', ')})` : ''}`;
}

/** Items per day as a small inline SVG line, with the numbers as its text for screen readers and no-SVG readers. */
export function sparkline(counts: readonly number[]): string {
  const width = 84;
  const height = 18;
  const top = Math.max(1, ...counts);
  const step = counts.length > 1 ? width / (counts.length - 1) : width;
  const points = counts.map((count, index) => `${(index * step).toFixed(1)},${(height - 1 - (count / top) * (height - 2)).toFixed(1)}`).join(' ');
  const label = `items per day over ${counts.length} days: ${counts.join(', ')}`;
  return `<svg class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}"><title>${label}</title><polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${points}"/></svg>`;
}

export function renderSourcesPage(baseUrl: string, sources: readonly SourceStatus[]): string {
  const rows = sources
    .map((source) => {
      const state = stateOf(source);
      const name = source.title ? `${escapeHtml(source.title)} <span class="meta">${escapeHtml(source.id)}</span>` : escapeHtml(source.id);
      return `<tr id="source-${escapeHtml(source.id)}">
<th scope="row"><a href="${escapeHtml(source.fetchUrl ?? source.url)}">${name}</a>${readsLabel(source.reads, source.push?.state === 'active')}</th>
<td><a class="state state-${state}" href="${escapeHtml(baseUrl)}/sources/${escapeHtml(source.id)}">${state}</a>${source.quiet ? `<br><span class="meta">${escapeHtml(quietText(source.quiet))}</span>` : ''}</td>
<td>${source.lastFetchedAt ? timeHtml(source.lastFetchedAt) : 'never'}</td>
<td class="number">${source.items}</td>
<td class="number">${source.errorCount}</td>
<td>${state === 'gone' || state === 'paused' ? '–' : timeHtml(source.nextCheckAt)}</td>
<td>${sparkline(source.itemsPerDay)}</td>
<td class="error">${source.lastError ? escapeHtml(source.lastError) : ''}</td>
</tr>`;
    })
    .join('\n');
  const summary = sourcesSummary(sources);
  const body = `<header><p><a href="${escapeHtml(baseUrl)}/">All topics</a></p><h1>Sources</h1>
<p>${summary ? `${escapeHtml(summary)}. ` : ''}Also as <a href="${escapeHtml(baseUrl)}/sources.json">JSON</a>.</p></header>
<main><div class="scroll"><table class="sources">
<thead><tr><th scope="col">Source</th><th scope="col">Status</th><th scope="col">Last fetch</th><th scope="col">Items</th><th scope="col">Errors</th><th scope="col">Next check</th><th scope="col">Last ${SPARKLINE_DAYS} days</th><th scope="col">Last error</th></tr></thead>
<tbody>${rows}</tbody>
</table></div></main>`;
  return layout('Sources · Wirefeed', '', body);
}

/** A source as /sources.json and /sources/<id>.json give it. */
const sourceJson = (source: SourceStatus) => ({
  id: source.id,
  title: source.title,
  url: source.url,
  fetchUrl: source.fetchUrl,
  kind: source.reads?.kind ?? null,
  fullText: source.reads?.fullText ?? null,
  pushed: source.push?.state === 'active',
  state: stateOf(source),
  lastStatus: source.lastStatus,
  lastFetchedAt: source.lastFetchedAt?.toISOString() ?? null,
  nextCheckAt: source.goneAt || source.paused ? null : source.nextCheckAt.toISOString(),
  items: source.items,
  errorCount: source.errorCount,
  lastError: source.lastError,
  itemsPerDay: source.itemsPerDay,
  quiet: source.quiet ? quietJson(source.quiet) : null,
});

/** The same as JSON, for scripts and monitoring. */
export function renderSourcesJson(sources: readonly SourceStatus[], now: Date): string {
  return `${JSON.stringify({ generatedAt: now.toISOString(), summary: sourcesSummary(sources) ?? null, sources: sources.map(sourceJson) }, null, 2)}\n`;
}

/** A fetch attempt as a table row. */
const attemptRow = (attempt: FetchAttempt) => `<tr>
<td>${timeHtml(attempt.startedAt)}</td>
<td>${escapeHtml(attempt.outcome)}</td>
<td class="number">${attempt.httpStatus ?? '–'}</td>
<td class="number">${attempt.durationMs}</td>
<td class="number">${attempt.bytes ?? '–'}</td>
<td class="number">${attempt.itemsNew}</td>
<td class="number">${attempt.itemsDuplicate}</td>
<td class="error">${attempt.error ? escapeHtml(attempt.error) : ''}</td>
</tr>`;

/**
 * One source's page (/sources/<id>): its state, its settings beyond the defaults (`settings`: sourceSettings), what it
 * reads, its pace, and its newest fetch attempts.
 */
export function renderSourcePage(baseUrl: string, source: SourceStatus, attempts: readonly FetchAttempt[], settings?: string): string {
  const state = stateOf(source);
  const facts: Array<[string, string | undefined]> = [
    ['Status', `<span class="state state-${state}">${state}</span>${source.quiet ? ` <span class="meta">${escapeHtml(quietText(source.quiet))}</span>` : ''}`],
    ['Feed', `<a href="${escapeHtml(source.url)}">${escapeHtml(source.url)}</a>`],
    ['Moved to', source.fetchUrl ? `<a href="${escapeHtml(source.fetchUrl)}">${escapeHtml(source.fetchUrl)}</a>` : undefined],
    ['Settings', settings === undefined ? undefined : escapeHtml(settings)],
    ['Reads', readsLabels(source.reads, source.push?.state === 'active').join(' · ') || undefined],
    ['Last fetch', source.lastFetchedAt ? `${timeHtml(source.lastFetchedAt)} (${escapeHtml(source.lastStatus ?? 'new')})` : 'never'],
    ['Next check', state === 'gone' || state === 'paused' ? undefined : timeHtml(source.nextCheckAt)],
    ['Items', `${source.items} stored ${sparkline(source.itemsPerDay)}`],
    ['Last error', source.lastError ? `<span class="error">${escapeHtml(source.lastError)}</span>` : undefined],
  ];
  const list = facts
    .filter((fact): fact is [string, string] => fact[1] !== undefined)
    .map(([name, value]) => `<dt>${name}</dt><dd>${value}</dd>`)
    .join('\n');
  const history =
    attempts.length === 0
      ? '<p>No fetch attempts kept (<code>retention.fetchLog</code>).</p>'
      : `<div class="scroll"><table class="sources">
<thead><tr><th scope="col">When</th><th scope="col">Outcome</th><th scope="col">Status</th><th scope="col">ms</th><th scope="col">Bytes</th><th scope="col">New</th><th scope="col">Duplicate</th><th scope="col">Error</th></tr></thead>
<tbody>${attempts.map(attemptRow).join('\n')}</tbody>
</table></div>`;
  const name = source.title ? `${escapeHtml(source.title)} <span class="meta">${escapeHtml(source.id)}</span>` : escapeHtml(source.id);
  const body = `<header><p><a href="${escapeHtml(baseUrl)}/sources">All sources</a></p><h1>${name}</h1>
<p>Also as <a href="${escapeHtml(baseUrl)}/sources/${escapeHtml(source.id)}.json">JSON</a>.</p></header>
<main><dl class="facts">
${list}
</dl>
<h2>Fetch attempts</h2>
${history}</main>`;
  return layout(`${source.title ?? source.id} · Sources · Wirefeed`, '', body);
}

/** The same as JSON: the source as /sources.json gives it, and its fetch attempts. */
export function renderSourceJson(source: SourceStatus, attempts: readonly FetchAttempt[], now: Date): string {
  return `${JSON.stringify({ generatedAt: now.toISOString(), source: sourceJson(source), fetches: attempts }, null, 2)}\n`;
}
