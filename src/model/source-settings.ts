/** A source's settings as a person reads them: what `wirefeed sources show` and a source's page list. */
import { formatDuration, formatDurationOrNever } from './duration.js';
import type { RetentionSettings } from './settings.js';
import { DEFAULT_POLL_SECONDS, type Source } from './source.js';

/**
 * The settings a source has beyond the defaults, as the YAML writes them: "every auto · priority 10 · tags wire, japan
 * · keep 'japan OR tokyo' · quietAfter 2d · retention items 30d" (its own retention read from the store's `retention`).
 * Undefined for a source with none.
 */
export function sourceSettings(source: Source, retention: Pick<RetentionSettings, 'sources'>): string | undefined {
  const quoted = (query: string | undefined) => (query === undefined ? undefined : `'${query}'`);
  const own = retention.sources?.find((entry) => entry.sourceId === source.id);
  const settings: Array<[string, string | undefined]> = [
    ['every', source.adaptivePoll ? 'auto' : source.pollSeconds === DEFAULT_POLL_SECONDS ? undefined : formatDuration(source.pollSeconds)],
    ['priority', source.priority === 0 ? undefined : String(source.priority)],
    ['tags', source.tags.join(', ') || undefined],
    ['shortUrlHosts', source.shortUrlHosts.join(', ') || undefined],
    ['keep', quoted(source.keep)],
    ['exclude', quoted(source.exclude)],
    ['quietAfter', formatDurationOrNever(source.quietAfter)],
    ['retention items', formatDurationOrNever(own?.itemsSeconds)],
    ['retention keepPerSource', own?.keepPerSource?.toString()],
  ];
  const given = settings.filter((setting): setting is [string, string] => setting[1] !== undefined).map(([name, value]) => `${name} ${value}`);
  return given.length > 0 ? given.join(' · ') : undefined;
}
