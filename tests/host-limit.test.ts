import { describe, expect, it } from 'vitest';
import { HostLimiter, Semaphore } from '../src/fetch/host-limit.js';

/** Lets every promise callback that is ready run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Semaphore', () => {
  it('lets `limit` holders in at once, then the waiters in the order they came, one per release', async () => {
    const slots = new Semaphore(2);
    const order: string[] = [];
    const take = async (name: string) => {
      const release = await slots.acquire();
      order.push(name);
      return release;
    };
    const first = await take('a');
    const second = await take('b');
    const third = take('c');
    const fourth = take('d');
    await settle();
    expect(order).toEqual(['a', 'b']);
    first();
    first(); // a second release of the same slot gives nothing away
    await settle();
    expect(order).toEqual(['a', 'b', 'c']);
    second();
    await settle();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    (await third)();
    (await fourth)();
    expect(slots.idle).toBe(true);
  });

  it('drops a waiter whose signal aborts, and its slot goes to the next', async () => {
    const slots = new Semaphore(1);
    const held = await slots.acquire();
    const controller = new AbortController();
    const abandoned = slots.acquire(controller.signal);
    const next = slots.acquire();
    controller.abort(new Error('shutting down'));
    await expect(abandoned).rejects.toThrow('shutting down');
    held();
    (await next)();
    expect(slots.idle).toBe(true);
  });
});

describe('HostLimiter', () => {
  it('limits each host on its own and forgets a host once nobody holds or waits for it', async () => {
    const limiter = new HostLimiter(1);
    const kyodo = await limiter.acquire('kyodo.example');
    const jiji = await limiter.acquire('jiji.example'); // another host is not held up
    let waited = false;
    const again = limiter.acquire('kyodo.example').then((release) => {
      waited = true;
      return release;
    });
    await settle();
    expect(waited).toBe(false);
    kyodo();
    (await again)();
    jiji();
    expect((limiter as unknown as { hosts: Map<string, unknown> }).hosts.size).toBe(0);
  });
});
