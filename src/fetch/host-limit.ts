/** At most `perHost` requests at a time to one host, so 200 sources on one site do not hammer it. */
export class HostLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly perHost: number) {}

  async acquire(host: string): Promise<() => void> {
    const running = this.active.get(host) ?? 0;
    if (running < this.perHost) {
      this.active.set(host, running + 1);
    } else {
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(host) ?? [];
        queue.push(resolve);
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
