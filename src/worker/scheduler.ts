import { randomUUID } from 'node:crypto';
import cron from 'node-cron';
import { isDatabaseUnavailable } from '../db/client.js';
import { log } from '../log.js';
import { activeSources } from '../model/source.js';
import { claimDueSources, releaseLeases, renewLease, renewLeases } from '../store/sources.js';
import { ingestContext, type WorkerApp } from './context.js';
import { startHousekeeping } from './housekeeping.js';
import { ingestSources } from './ingest.js';
import { StoreQueue } from './store-queue.js';
import { startWebhookDelivery } from './webhooks.js';

export interface WorkerOptions {
  onTopicsChanged?: (slugs: string[]) => void;
  /** When the store is first pruned after the start, and how often after that (default: a minute, then hourly). */
  housekeeping?: { firstMs: number; everyMs: number };
}

export interface Worker {
  /** Claims and ingests due sources once; what every tick does. */
  tick(): Promise<void>;
  /**
   * Stops claiming, lets in-flight fetches finish for up to `graceMs`, abandons the rest (not counted against their
   * sources) and releases this worker's leases.
   */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
const ABANDON_WAIT_MS = 5_000;

/** Whether `work` settles within `ms` (it keeps running either way). */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    timeout,
  ]);
  clearTimeout(timer);
  return settled;
}

/**
 * Starts the polling loop: every tick claims due sources with a lease and ingests them. Why it is long: the tick and
 * the stop share the worker's state (what runs, its abort signal) in one closure.
 */
export function startWorker(app: WorkerApp, options: WorkerOptions = {}): Worker {
  const owner = `worker-${randomUUID()}`;
  const abandon = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  // One store queue for the worker's life: it learns the server's lock budget once and counts what it stored.
  const store = new StoreQueue(app.database.db);
  const housekeeping = startHousekeeping(app, options.housekeeping);
  const webhooks = startWebhookDelivery(app);
  const onTopicsChanged = (slugs: string[]) => {
    options.onTopicsChanged?.(slugs);
    if (app.config.topics.some((topic) => topic.webhooks && slugs.includes(topic.slug))) webhooks.wake();
  };

  const tick = async () => {
    if (stopped) return;
    // Built per tick from app.config and app.matcher: a config reload replaces them.
    const context = { ...ingestContext(app, onTopicsChanged, store), signal: abandon.signal };
    const byId = new Map(activeSources(app.config.sources).map((source) => [source.id, source]));
    const { batch, leaseSeconds } = app.config.worker;
    const claimed = await claimDueSources(app.database.db, { owner, sourceIds: [...byId.keys()], limit: batch, leaseSeconds });
    app.metrics.leaseClaims.inc(claimed.length);
    if (claimed.length === 0) return;
    // Short leases, renewed while this worker lives: a killed worker's sources are free a lease later.
    const heartbeat = setInterval(
      () => {
        renewLeases(app.database.db, { owner, leaseSeconds }).catch((error: Error) => log.warn({ owner, error: error.message }, 'lease renewal failed'));
      },
      (leaseSeconds * 1000) / 3,
    );
    heartbeat.unref();
    const summary = await ingestSources(
      context,
      claimed.map((id) => byId.get(id)!),
      {
        concurrency: app.config.fetch.concurrency,
        // Unreachable database: skip; the lease stays and runs out, and the source is claimed again after it.
        shouldStart: (source) => renewLease(app.database.db, { sourceId: source.id, owner, leaseSeconds }).catch(() => false),
      },
    ).finally(() => clearInterval(heartbeat));
    const { ok, notModified, failed, deferred, skipped, itemsNew } = summary;
    log.info({ owner, claimed: claimed.length, ok, notModified, failed, deferred, skipped, itemsNew }, 'tick done');
  };
  const guardedTick = () => {
    running = running.then(tick).catch((error: Error) => {
      if (isDatabaseUnavailable(error)) log.warn({ owner, error: error.message }, 'database unavailable; claiming again at the next tick');
      else log.error({ owner, error: error.message }, 'tick failed');
    });
    return running;
  };

  cron.setLogger({
    info: () => {},
    warn: (message) => log.warn({ message }, 'cron'),
    error: (message) => log.error({ message: String(message) }, 'cron'),
    debug: () => {},
  });
  // The tick is read once: a changed worker.tick takes effect at the next start.
  const task = cron.schedule(app.config.worker.tick, () => void guardedTick(), { noOverlap: true, name: 'claim-due-sources' });
  void guardedTick();
  log.info({ owner, sources: app.config.sources.length }, 'worker started');

  return {
    tick: guardedTick,
    async stop(graceMs = DEFAULT_SHUTDOWN_GRACE_MS) {
      stopped = true;
      await task.stop();
      await housekeeping.stop();
      await webhooks.stop();
      if (!(await settlesWithin(running, graceMs))) {
        log.warn({ owner, graceMs }, 'grace period over: abandoning in-flight fetches');
        abandon.abort();
        // Aborting ends fetches at once; a database call that hangs is not waited for beyond this.
        if (!(await settlesWithin(running, ABANDON_WAIT_MS)))
          log.error({ owner, waitedMs: ABANDON_WAIT_MS }, 'in-flight work did not end after being abandoned; stopping anyway');
      }
      const released = await releaseLeases(app.database.db, owner).catch((error: Error) => {
        log.error({ owner, error: error.message }, 'could not release leases');
        return 0;
      });
      log.info({ owner, released }, 'worker stopped');
    },
  };
}
