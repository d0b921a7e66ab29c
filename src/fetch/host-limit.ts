/** At most `limit` holders at a time; the others wait, first come first served. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private limit: number) {}

  /**
   * Changes the limit from now on: a higher one lets waiters in at once; under a lower one, holders keep their slots
   * and nobody new gets one until fewer than the new limit hold them.
   */
  setLimit(limit: number): void {
    this.limit = limit;
    while (this.active < this.limit && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()!();
    }
  }

  /** Nobody holds or waits for a slot. */
  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }

  /** Waits for a slot; rejects with the signal's reason if it is aborted while waiting. The release is idempotent. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.active < this.limit) this.active++;
    else {
      await new Promise<void>((resolve, reject) => {
        const abandon = () => {
          const index = this.waiting.indexOf(granted);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(signal!.reason);
        };
        const granted = () => {
          signal?.removeEventListener('abort', abandon);
          resolve();
        };
        if (signal?.aborted) return reject(signal.reason);
        signal?.addEventListener('abort', abandon, { once: true });
        this.waiting.push(granted);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.active <= this.limit ? this.waiting.shift() : undefined;
      if (next)
        next(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }
}

/** At most `perHost` requests at a time to one host, so 200 sources on one site do not hammer it. */
export class HostLimiter {
  private readonly hosts = new Map<string, Semaphore>();

  constructor(private perHost: number) {}

  /** Changes the limit of every host, those in use included (see Semaphore.setLimit). */
  setPerHost(limit: number): void {
    this.perHost = limit;
    for (const slots of this.hosts.values()) slots.setLimit(limit);
  }

  /** Waits for a slot on `host`; rejects with the signal's reason if it is aborted while waiting. */
  async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    const slots = this.hosts.get(host) ?? new Semaphore(this.perHost);
    this.hosts.set(host, slots);
    // A host's entry lives while someone holds or waits for its slots: hosts seen once are not kept.
    const forgetIfIdle = () => {
      if (slots.idle && this.hosts.get(host) === slots) this.hosts.delete(host);
    };
    try {
      const release = await slots.acquire(signal);
      return () => {
        release();
        forgetIfIdle();
      };
    } catch (error) {
      forgetIfIdle();
      throw error;
    }
  }
}
