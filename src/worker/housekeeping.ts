/**
 * The store's housekeeping: a worker prunes what the store no longer needs (stories past retention.items, old fetch
 * attempts, band rows of items past clustering) soon after it starts and then hourly, beside its ticks rather than in them, so a long first prune of an
 * old store never holds up fetching; and says which sources went quiet, and tells `worker.alerts` of sources' health.
 */
import { log } from '../log.js';
import { type Quiet, quietText } from '../model/quiet.js';
import { activeSources } from '../model/source.js';
import { type PruneResult, pruneStore } from '../store/retention.js';
import { judgedSources } from '../store/sources.js';
import { sendSourceAlerts } from './alerts.js';
import { subscriberOf, type WorkerApp } from './context.js';

export const HOUSEKEEPING_INTERVAL_MS = 3_600_000;
/** The first prune waits for the start's own work (backfills, the first tick's claims) to settle. */
export const HOUSEKEEPING_FIRST_DELAY_MS = 60_000;

export interface Housekeeping {
  /** No more prunes; one in progress stops at its next chunk and is waited for. */
  stop(): Promise<void>;
}

export type HousekeepingApp = Pick<WorkerApp, 'config' | 'database' | 'metrics' | 'http'>;

/**
 * Prunes the store by the config's retention, counts and logs what went; a failure is logged, not thrown. With
 * `quiet` (the ids of the sources this process has found quiet), also logs the sources that went quiet or came back.
 */
export async function housekeep(app: HousekeepingApp, signal?: AbortSignal, quiet?: Set<string>): Promise<PruneResult | undefined> {
  const started = performance.now();
  try {
    const result = await pruneStore(app.database.db, app.config.retention, signal ? { signal } : {});
    app.metrics.prunedRows.inc({ table: 'items' }, result.itemRows);
    app.metrics.prunedRows.inc({ table: 'stories' }, result.storyRows);
    app.metrics.prunedRows.inc({ table: 'item_bands' }, result.bandRows);
    app.metrics.prunedRows.inc({ table: 'fetch_log' }, result.fetchLogRows);
    app.metrics.prunedRows.inc({ table: 'archived_items' }, result.archivedKeyRows);
    const ms = Math.round(performance.now() - started);
    if (result.skipped) log.debug({ ...result, ms }, 'another process is pruning the store; left to it');
    else if (result.itemRows + result.bandRows + result.fetchLogRows + result.archivedKeyRows > 0) log.info({ ...result, ms }, 'store pruned');
    await endSubscriptions(app).catch((error: Error) =>
      log.warn({ error: error.message }, 'ending WebSub subscriptions failed; trying again at the next turn'),
    );
    if (quiet) await watchSources(app, quiet, signal);
    return result;
  } catch (error) {
    log.warn({ error: (error as Error).message }, 'pruning the store failed; trying again at the next turn');
    return undefined;
  }
}

/**
 * Ends the WebSub subscriptions no longer wanted: those of sources taken out of the config (their hubs asked as a
 * source without settings of its own would ask them) or paused, or every one when fetch.websub is off.
 */
async function endSubscriptions(app: HousekeepingApp): Promise<void> {
  const { fetch, publish, sources } = app.config;
  const keep = fetch.websub ? activeSources(sources) : [];
  const ended = await subscriberOf(app, publish.publicUrl).endOutside(keep, sources, { network: { kind: 'public-only' }, proxy: fetch.proxy });
  if (ended > 0) log.info({ subscriptions: ended }, 'WebSub subscriptions ended');
}

/**
 * Judges the configured sources (quiet or not, failing, gone) once, logs the quiet ones' changes and sends the
 * alerts; a failure is logged, and the next turn looks again.
 */
async function watchSources(app: HousekeepingApp, quiet: Set<string>, signal?: AbortSignal): Promise<void> {
  try {
    const judged = await judgedSources(app.database.db, activeSources(app.config.sources));
    noteQuietSources(judged, quiet);
    await sendSourceAlerts(app, judged, signal);
  } catch (error) {
    log.warn({ error: (error as Error).message }, 'reading the health of the sources failed; looking again at the next turn');
  }
}

/**
 * Logs each source that went quiet since the last look (all of them at the first), and each that no longer is;
 * `known` holds the quiet ones between looks.
 */
function noteQuietSources(judged: ReadonlyArray<{ id: string; quiet?: Quiet }>, known: Set<string>): void {
  for (const { id, quiet } of judged) {
    if (!quiet || known.has(id)) continue;
    known.add(id);
    log.warn(
      { source: id, newestItemAt: quiet.newest.toISOString(), silentSeconds: quiet.silentSeconds, limitSeconds: quiet.limitSeconds, note: quietText(quiet) },
      'source went quiet',
    );
  }
  const still = new Set(judged.filter((row) => row.quiet).map(({ id }) => id));
  for (const id of known) {
    if (still.has(id)) continue;
    known.delete(id);
    log.info({ source: id }, 'source is no longer quiet');
  }
}

/** Prunes `firstMs` after the start, then `everyMs` after each prune ends (never two at once). */
export function startHousekeeping(app: HousekeepingApp, timing = { firstMs: HOUSEKEEPING_FIRST_DELAY_MS, everyMs: HOUSEKEEPING_INTERVAL_MS }): Housekeeping {
  const stopping = new AbortController();
  const quiet = new Set<string>();
  let running: Promise<unknown> = Promise.resolve();
  const schedule = (ms: number): NodeJS.Timeout =>
    setTimeout(async () => {
      running = housekeep(app, stopping.signal, quiet);
      await running;
      if (!stopping.signal.aborted) timer = schedule(timing.everyMs);
    }, ms).unref();
  let timer = schedule(timing.firstMs);
  return {
    async stop() {
      clearTimeout(timer);
      stopping.abort();
      await running;
    },
  };
}
