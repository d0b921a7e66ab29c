/** The fetchers' turns at the event loop: one slice per turn, the earliest document's first. */
import { describe, expect, it } from 'vitest';
import { EventLoopTurns } from '../src/worker/turns.js';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('event-loop turns', () => {
  it('runs one slice per turn, so what else the event loop has to do waits for one slice, not for all that are queued', async () => {
    const turns = new EventLoopTurns();
    let slices = 0;
    let slicesBefore = -1;
    // Stands for the database's answer to the store transaction: due while the slices are queued.
    const other = new Promise<void>((resolve) =>
      setTimeout(() => {
        slicesBefore = slices;
        resolve();
      }, 1),
    );
    await Promise.all([
      ...Array.from({ length: 10 }, async () => {
        await turns.place()();
        busy(3);
        slices++;
      }),
      other,
    ]);
    expect(slices).toBe(10);
    expect(slicesBefore).toBeLessThanOrEqual(2);
  });

  it("gives the earlier document's slices their turns first, so documents are finished one after another", async () => {
    const turns = new EventLoopTurns();
    const first = turns.place();
    const second = turns.place();
    const order: string[] = [];
    const read = async (name: string, turn: () => Promise<void>) => {
      for (let slice = 0; slice < 3; slice++) {
        await turn();
        order.push(name);
      }
    };
    await Promise.all([read('second', second), read('first', first)]);
    expect(order).toEqual(['first', 'first', 'first', 'second', 'second', 'second']);
  });
});
