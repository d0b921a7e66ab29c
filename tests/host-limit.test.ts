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

  it('takes a new limit with holders in place: a higher one admits waiters, a lower one waits for holders to leave', async () => {
    const slots = new Semaphore(2);
    const admitted: string[] = [];
    const take = (name: string) =>
      slots.acquire().then((release) => {
        admitted.push(name);
        return release;
      });
    const [a, b] = [await take('a'), await take('b')];
    const [c, d, e] = [take('c'), take('d'), take('e')];
    slots.setLimit(3);
    await settle();
    expect(admitted).toEqual(['a', 'b', 'c']);
    slots.setLimit(1);
    a();
    b();
    await settle();
    expect(admitted).toEqual(['a', 'b', 'c']); // c still holds the one slot
    (await c)();
    await settle();
    expect(admitted).toEqual(['a', 'b', 'c', 'd']);
    (await d)();
    (await e)();
    expect(slots.idle).toBe(true);
  });
});

describe('HostLimiter', () => {
  it('applies a new per-host limit to hosts in use (a config reload), new hosts included', async () => {
    const limiter = new HostLimiter(2);
    const held = [await limiter.acquire('kyodo.example'), await limiter.acquire('kyodo.example')];
    limiter.setPerHost(1);
    let third = false;
    const waiting = limiter.acquire('kyodo.example').then((release) => {
      third = true;
      return release;
    });
    held[0]!();
    await settle();
    expect(third).toBe(false); // one request still in flight: the new limit is reached
    held[1]!();
    (await waiting)();
    const jiji = await limiter.acquire('jiji.example');
    let second = false;
    void limiter.acquire('jiji.example').then((release) => {
      second = true;
      release();
    });
    await settle();
    expect(second).toBe(false);
    jiji();
    await settle();
    expect(second).toBe(true);
  });

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
