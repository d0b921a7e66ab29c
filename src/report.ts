/** Text reports for the command line. */
import type { SourceHealth } from './store/sources.js';
import type { IngestSummary } from './worker/ingest.js';

export function formatSummary(summary: IngestSummary): string {
  return (
    `sources: ${summary.ok} ok, ${summary.notModified} not modified, ${summary.failed} failed; ` +
    `items: ${summary.itemsNew} new, ${summary.itemsDuplicate} duplicate${summary.itemsRevised ? `, ${summary.itemsRevised} revised` : ''}`
  );
}

const ago = (date: Date | null, now: Date) => {
  if (!date) return 'never';
  const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
  const magnitude = Math.abs(seconds);
  const text = magnitude < 90 ? `${magnitude}s` : magnitude < 5400 ? `${Math.round(magnitude / 60)}m` : magnitude < 172800 ? `${Math.round(magnitude / 3600)}h` : `${Math.round(magnitude / 86400)}d`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
};

/** A plain-text table, one source a line, the last column free-width (URL, or the last error). */
export function formatSourceTable(rows: SourceHealth[], now: Date): string {
  const header = ['SOURCE', 'STATUS', 'LAST FETCH', 'ITEMS', 'ERRORS', 'NEXT CHECK', 'URL / LAST ERROR'];
  const lines = rows.map((row) => [
    row.id,
    row.goneAt ? 'gone' : (row.lastStatus ?? 'new'),
    ago(row.lastFetchedAt, now),
    String(row.items),
    String(row.errorCount),
    row.goneAt ? '-' : row.nextCheckAt <= now ? 'due' : ago(row.nextCheckAt, now),
    row.lastError ?? row.fetchUrl ?? row.url,
  ]);
  const widths = header.slice(0, -1).map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  return [header, ...lines].map((line) => line.map((cell, column) => (column < widths.length ? cell.padEnd(widths[column]!) : cell)).join('  ')).join('\n');
}
