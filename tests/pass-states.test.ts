import { describe, expect, it } from 'vitest';
import type { SourceState } from '../src/store/sources.js';
import { statesInChunks } from '../src/worker/ingest.js';

describe('statesInChunks', () => {
  const reading = () => {
    const reads: string[][] = [];
    const read = async (ids: readonly string[]) => {
      reads.push([...ids]);
      return new Map(ids.map((id) => [id, { etag: `"${id}"` } as SourceState]));
    };
    return { reads, read };
  };

  it('reads a chunk once, when the pass reaches it, however many of its sources ask at once', async () => {
    const { reads, read } = reading();
    const stateOf = statesInChunks(read, ['kyodo', 'jiji', 'nhk', 'asahi', 'mainichi'], 2);
    expect(reads).toEqual([]);
    const first = await Promise.all([stateOf(0), stateOf(1)]);
    expect(first.map((state) => state?.etag)).toEqual(['"kyodo"', '"jiji"']);
    expect(reads).toEqual([['kyodo', 'jiji']]);
    expect((await stateOf(4))?.etag).toBe('"mainichi"');
    expect((await stateOf(2))?.etag).toBe('"nhk"');
    expect((await stateOf(3))?.etag).toBe('"asahi"');
    expect(reads).toEqual([['kyodo', 'jiji'], ['mainichi'], ['nhk', 'asahi']]);
  });

  it('lets a chunk go once each of its sources took its state', async () => {
    const { reads, read } = reading();
    const stateOf = statesInChunks(read, ['kyodo', 'jiji', 'nhk'], 2);
    await stateOf(0);
    await stateOf(1);
    // Asked again (a pass never does), a chunk that was let go is read again: nothing kept it.
    await stateOf(0);
    expect(reads).toEqual([
      ['kyodo', 'jiji'],
      ['kyodo', 'jiji'],
    ]);
  });
});
