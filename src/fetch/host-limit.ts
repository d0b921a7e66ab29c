/** At most `perHost` requests at a time to one host, so 200 sources on one site do not hammer it. */
export class HostLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly perHost: number) {}

  /** Waits for a slot on `host`; rejects with the signal's reason if it is aborted while waiting. */
  async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    const running = this.active.get(host) ?? 0;
    if (running < this.perHost) {
      this.active.set(host, running + 1);
    } else {
      await new Promise<void>((resolve, reject) => {
        const queue = this.waiting.get(host) ?? [];
        const abandon = () => {
          const index = queue.indexOf(granted);
          if (index >= 0) queue.splice(index, 1);
          if (queue.length === 0 && this.waiting.get(host) === queue) this.waiting.delete(host);
          reject(signal!.reason);
        };
        const granted = () => {
          signal?.removeEventListener('abort', abandon);
          resolve();
        };
        if (signal?.aborted) return reject(signal.reason);
        signal?.addEventListener('abort', abandon, { once: true });
        queue.push(granted);
        this.waiting.set(host, queue);
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release(host);
    };
  }

  private release(host: string): void {
    const queue = this.waiting.get(host);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.waiting.delete(host);
    if (next) {
      next(); // the slot passes straight to the next waiter
      return;
    }
    const running = (this.active.get(host) ?? 1) - 1;
    if (running === 0) this.active.delete(host);
    else this.active.set(host, running);
  }
}
