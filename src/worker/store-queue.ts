import { type Database, isDatabaseUnavailable, serverError, withinDeadline } from '../db/client.js';
import { type ItemWork, itemWork } from '../dedup/plan.js';
import { log } from '../log.js';
import type { NormalizedItem } from '../model/item.js';
import { DEFAULT_FETCH_SETTINGS } from '../model/settings.js';
import { analyzeStore, bandLockBudget } from '../store/items.js';
import { type FetchRecord, recordFetches } from '../store/sources.js';
import { type StoredDocument, type StoreJob, storeAndMatch } from './store-step.js';
import { EventLoopTurns } from './turns.js';

/**
 * A document for the queue: its items, and the fetch record written with them once their outcome is known (none for
 * stored items read again, which were not fetched).
 */
export interface QueuedDocument extends StoreJob {
  record?: (stored: StoredDocument) => FetchRecord;
}

/** A document with its items' work and topics worked out: what the store transaction needs of it. */
export interface PreparedDocument {
  document: QueuedDocument;
  work: ReadonlyMap<NormalizedItem, ItemWork>;
}

/**
 * Works out a document's identities, fingerprints and topics, the CPU-bound part of storing it, so that a fetcher
 * does it while an earlier batch is being written: the batch's transaction, which holds the clustering locks, then
 * waits only for the database and the clustering decisions.
 */
export function prepareDocument(document: QueuedDocument): PreparedDocument {
  const work = new Map(document.items.map((item) => [item, itemWork(item, document.sourceId)]));
  const matches = new Map(document.items.map((item) => [item, document.topics.match(item, document.sourceId)]));
  const topics = { match: (item: NormalizedItem, sourceId: string) => matches.get(item) ?? document.topics.match(item, sourceId) };
  return { document: { ...document, topics }, work };
}

export interface StoreQueueOptions {
  /** How long the first document waits for others to share its transaction. */
  gatherMs?: number;
  /** Items one transaction takes at most; more wait for the next. */
  maxItems?: number;
  /** Documents that start a transaction without waiting out the gathering time (fetchers rarely have more in hand). */
  maxDocuments?: number;
  /** A transaction taking longer than this is given up on (its documents fail and are fetched again). */
  deadlineMs?: number;
}

interface Waiting extends PreparedDocument {
  resolve: (stored: StoredDocument) => void;
  reject: (error: Error) => void;
}

/**
 * The store step of one process: documents that fetchers parsed within a few milliseconds of each other are stored
 * in one transaction, with set-based statements, their fetch records included. While one transaction runs the next
 * batch gathers, so parsing and storing overlap. If a batch fails for any reason but an unreachable database, each of
 * its documents is stored again on its own: one bad document never costs the others.
 */
export class StoreQueue {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private budget: Promise<number> | undefined;
  private storedItems = 0;
  private nextAnalyzeAt = 1_000;
  private analyzing: Promise<void> | undefined;
  private readonly eventLoop = new EventLoopTurns();
  private readonly gatherMs: number;
  private readonly maxItems: number;
  private readonly maxDocuments: number;
  private readonly deadlineMs: number;

  constructor(
    private readonly db: Database,
    options: StoreQueueOptions = {},
  ) {
    this.gatherMs = options.gatherMs ?? 15;
    this.maxItems = options.maxItems ?? 1_000;
    this.maxDocuments = options.maxDocuments ?? DEFAULT_FETCH_SETTINGS.concurrency;
    this.deadlineMs = options.deadlineMs ?? 60_000;
  }

  /**
   * A document's place in line for turns of the event loop (see EventLoopTurns): its reader waits for a turn before
   * each slice of its CPU-bound work, so that this queue's transaction is held up by one slice at most.
   */
  turns(): () => Promise<void> {
    return this.eventLoop.place();
  }

  /**
   * Stores a document's items and its fetch record together; resolves once they are committed. A document not
   * prepared yet (prepareDocument) is prepared now, in the caller's time: the transaction holds its locks only for the
   * database's work and the clustering plan.
   */
  store(document: QueuedDocument | PreparedDocument): Promise<StoredDocument> {
    const { document: queued, work } = 'work' in document ? document : prepareDocument(document);
    return new Promise((resolve, reject) => {
      this.waiting.push({ document: queued, work, resolve, reject });
      this.schedule();
    });
  }

  private pendingItems(): number {
    return this.waiting.reduce((sum, { document }) => sum + document.items.length, 0);
  }

  /** Starts a batch now if enough is waiting (or `now`), else once the first waiting document has gathered others. */
  private schedule(now = false): void {
    if (this.running || this.waiting.length === 0) return;
    if (now || this.pendingItems() >= this.maxItems || this.waiting.length >= this.maxDocuments) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else this.timer ??= setTimeout(() => void this.flush(), this.gatherMs);
  }

  private take(): Waiting[] {
    let items = 0;
    let count = 0;
    for (const { document } of this.waiting) {
      if (count > 0 && items + document.items.length > this.maxItems) break;
      items += document.items.length;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    const batch = this.take();
    try {
      const results = await this.commit(batch);
      for (const [index, waiting] of batch.entries()) waiting.resolve(results[index]!);
      this.analyzeWhenGrown(results.reduce((sum, { result }) => sum + result.stored.length, 0));
    } catch (failure) {
      const error = serverError(failure);
      if (batch.length === 1 || isDatabaseUnavailable(error)) for (const waiting of batch) waiting.reject(error);
      else {
        log.warn({ documents: batch.length, error: error.message }, 'storing a batch failed; storing its documents one by one');
        for (const waiting of batch) {
          try {
            waiting.resolve((await this.commit([waiting]))[0]!);
          } catch (single) {
            waiting.reject(serverError(single));
          }
        }
      }
    } finally {
      this.running = false;
      // What arrived meanwhile has waited long enough: store it at once, with what the fetchers this batch released
      // hand over within this turn of the event loop. Taken alone, it would make a small batch, and the next
      // documents would arrive during that one: batches would stay small.
      if (this.waiting.length > 0) setImmediate(() => this.schedule(true));
    }
  }

  /**
   * Refreshes the planner's statistics each time this process has stored four times as many items as the last time
   * (from 1,000): a new store's first fetches would otherwise be planned as if its tables were empty. It runs beside
   * the batches that follow, on a connection of its own, rather than holding them up. A failure is logged and left
   * to autovacuum.
   */
  private analyzeWhenGrown(stored: number): void {
    this.storedItems += stored;
    if (this.storedItems < this.nextAnalyzeAt || this.analyzing) return;
    this.nextAnalyzeAt = this.storedItems * 4;
    this.analyzing = analyzeStore(this.db)
      .catch((error) => log.warn({ error: serverError(error).message }, 'could not refresh planner statistics'))
      .finally(() => {
        this.analyzing = undefined;
      });
  }

  /** The server's lock table decides how many band locks a transaction may take: asked once, again after a failure. */
  private async bandLockBudget(): Promise<number> {
    this.budget ??= bandLockBudget(this.db);
    try {
      return await this.budget;
    } catch (error) {
      this.budget = undefined;
      throw error;
    }
  }

  private async commit(batch: readonly Waiting[]): Promise<StoredDocument[]> {
    const worked = new Map(batch.flatMap((waiting) => [...waiting.work]));
    const options = { bandLockBudget: await this.bandLockBudget(), workOf: (item: NormalizedItem) => worked.get(item) };
    let stored: StoredDocument[] = [];
    // The transaction returns nothing: postgres.js keeps what a transaction returned until its connection begins
    // another, and a batch's items (with the documents their strings were sliced from) are megabytes.
    const work = this.db.transaction(async (tx) => {
      stored = await storeAndMatch(
        tx,
        batch.map(({ document }) => document),
        options,
      );
      // Validators are written in the same transaction as the items: never remembered for items we did not keep.
      await recordFetches(
        tx,
        batch.flatMap(({ document }, index) => (document.record ? [document.record(stored[index]!)] : [])),
      );
    });
    await withinDeadline(work, this.deadlineMs, 'storing the items');
    return stored;
  }
}
