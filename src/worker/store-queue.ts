import { type Database, isDatabaseUnavailable, serverError, withinDeadline } from '../db/client.js';
import { log } from '../log.js';
import { bandLockBudget } from '../store/items.js';
import { type FetchRecord, recordFetch } from '../store/sources.js';
import { type StoredDocument, type StoreJob, storeAndMatch } from './store-step.js';

/** A document for the queue: its items, and the fetch record written with them once their outcome is known. */
export interface QueuedDocument extends StoreJob {
  record: (stored: StoredDocument) => FetchRecord;
}

export interface StoreQueueOptions {
  /** How long the first document waits for others to share its transaction. */
  gatherMs?: number;
  /** Items one transaction takes at most; more wait for the next. */
  maxItems?: number;
  /** A transaction taking longer than this is given up on (its documents fail and are fetched again). */
  deadlineMs?: number;
}

interface Waiting {
  document: QueuedDocument;
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
  private readonly gatherMs: number;
  private readonly maxItems: number;
  private readonly deadlineMs: number;

  constructor(
    private readonly db: Database,
    options: StoreQueueOptions = {},
  ) {
    this.gatherMs = options.gatherMs ?? 15;
    this.maxItems = options.maxItems ?? 2_000;
    this.deadlineMs = options.deadlineMs ?? 60_000;
  }

  /** Stores a document's items and its fetch record together; resolves once they are committed. */
  store(document: QueuedDocument): Promise<StoredDocument> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ document, resolve, reject });
      this.schedule();
    });
  }

  private pendingItems(): number {
    return this.waiting.reduce((sum, { document }) => sum + document.items.length, 0);
  }

  private schedule(): void {
    if (this.running || this.waiting.length === 0) return;
    if (this.pendingItems() >= this.maxItems) {
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
      // What arrived meanwhile has waited long enough: store it at once.
      if (this.waiting.length > 0) void this.flush();
    }
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
    const options = { bandLockBudget: await this.bandLockBudget() };
    const work = this.db.transaction(async (tx) => {
      const stored = await storeAndMatch(
        tx,
        batch.map(({ document }) => document),
        options,
      );
      // Validators are written in the same transaction as the items: never remembered for items we did not keep.
      for (const [index, { document }] of batch.entries()) await recordFetch(tx, document.record(stored[index]!));
      return stored;
    });
    return withinDeadline(work, this.deadlineMs, 'storing the items');
  }
}
