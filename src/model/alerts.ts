/**
 * Alerts: what the operator's `worker.alerts` webhook is told when a source's health changes (failing, quiet, gone,
 * and back), or a topic's webhook drops stories. Pure: which changes there are, and how each reads.
 */
import { type FetchCondition, type Quiet, quietText } from './quiet.js';

/** A source's health as alerts know it. */
export type AlertState = 'ok' | 'failing' | 'quiet' | 'gone';

/** Failures in a row before a source counts as failing: a timeout or two is every feed's weather, not news. */
export const ALERT_AFTER_ERRORS = 3;

type AlertKind = Exclude<AlertState, 'ok'> | 'recovered';

export interface SourceAlert {
  sourceId: string;
  /** The source's title, or its id. */
  name: string;
  kind: AlertKind;
  /** What it was alerted as before (for the compare-and-set that keeps two workers from sending it twice). */
  from: AlertState;
  to: AlertState;
  /** What happened, as a person reads it after the source's name: "Failing: HTTP 500 (3 errors in a row)". */
  text: string;
}

/** A configured source's row as alerts read it. */
export interface AlertRow extends FetchCondition {
  id: string;
  title: string | null;
  lastError: string | null;
  quiet?: Quiet;
  /** What it was last alerted as; null: never (ok). */
  alerted: AlertState | null;
}

/**
 * A source's health now: gone, failing past ALERT_AFTER_ERRORS, quiet, or ok. Undefined when it cannot be told: never
 * fetched, or failing fewer times than that (a quiet source that timed out once is not back, nor failing yet).
 */
function alertStateOf(row: AlertRow): AlertState | undefined {
  if (row.goneAt) return 'gone';
  if (!row.lastFetchedAt) return undefined;
  if (row.errorCount >= ALERT_AFTER_ERRORS) return 'failing';
  if (row.errorCount > 0) return undefined;
  return row.quiet ? 'quiet' : 'ok';
}

/** How the change reads, after the source's name. */
function alertText(kind: AlertKind, row: AlertRow, from: AlertState): string {
  switch (kind) {
    case 'failing':
      return `Failing: ${row.lastError ?? 'unknown error'} (${row.errorCount} errors in a row)`;
    case 'quiet':
      return `Quiet: ${row.quiet ? quietText(row.quiet) : 'nothing new'}`;
    case 'gone':
      return 'Gone (410): not fetched again until its URL changes';
    case 'recovered':
      return `Back: ${from === 'quiet' ? 'new items again' : 'fetched without error'}`;
  }
}

/**
 * The alerts the rows call for: each source whose health differs from what it was last alerted as. A source never
 * fetched is left as it is; one back to ok after an alert is `recovered`.
 */
export function alertChanges(rows: readonly AlertRow[]): SourceAlert[] {
  const alerts: SourceAlert[] = [];
  for (const row of rows) {
    const to = alertStateOf(row);
    const from = row.alerted ?? 'ok';
    if (to === undefined || to === from) continue;
    const kind: AlertKind = to === 'ok' ? 'recovered' : to;
    const name = row.title ? `${row.title} (${row.id})` : row.id;
    alerts.push({ sourceId: row.id, name, kind, from, to, text: alertText(kind, row, from) });
  }
  return alerts;
}

/** One thing `worker.alerts` is told: what it is about, what happened, where to look, and a key for its entry. */
export interface Alert {
  /** As a reader names it: "JIJI Press (jiji)". */
  about: string;
  /** What happened: "Failing: HTTP 500 (3 errors in a row)". */
  text: string;
  /** Where to look, absolute: the source's row on the sources page, the topic's page. */
  url: string;
  key: string;
}

/** A source's change as an alert, linking its row on the sources page of the server at `publicUrl`. */
export const sourceAlert = (publicUrl: string, alert: SourceAlert): Alert => ({
  about: alert.name,
  text: alert.text,
  url: `${publicUrl}/sources#source-${alert.sourceId}`,
  key: `${alert.sourceId}-${alert.to}`,
});

/** A topic webhook's stories dropped after a day of failures (worker/webhooks.ts), linking the topic's page. */
export const droppedAlert = (pageUrl: string, topic: { slug: string; title: string }, webhook: string, stories: number, error: string): Alert => ({
  about: `${topic.title} (${topic.slug}), webhook ${webhook}`,
  text: `Dropped ${stories} ${stories === 1 ? 'story' : 'stories'} it could not deliver for a day: ${error}`,
  url: pageUrl,
  key: `dropped-${topic.slug}-${webhook}`,
});
