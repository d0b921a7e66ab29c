import { describe, expect, it } from 'vitest';
import { startProgress } from '../src/commands/progress.js';

function fakeOutput(isTTY: boolean) {
  const writes: string[] = [];
  let time = 0;
  return { output: { isTTY, columns: 100, write: (text: string) => writes.push(text) }, writes, clock: { now: () => time, set: (ms: number) => (time = ms) } };
}

describe('progress when not on a terminal', () => {
  it('prints a line at the start, at most one per interval, and one at the end', () => {
    const { output, writes, clock } = fakeOutput(false);
    const progress = startProgress('ingest', 300, 'sources', { output, now: clock.now, intervalMs: 5000 });
    for (let done = 1; done <= 300; done++) {
      clock.set(done * 100); // a source every 100 ms: 30 s in all
      progress.advance(1, `s${done}`);
    }
    progress.finish();
    expect(writes).toEqual([
      'ingest: 0/300 sources\n',
      'ingest: 50/300 sources (16%) after 5.0s\n',
      'ingest: 100/300 sources (33%) after 10.0s\n',
      'ingest: 150/300 sources (50%) after 15.0s\n',
      'ingest: 200/300 sources (66%) after 20.0s\n',
      'ingest: 250/300 sources (83%) after 25.0s\n',
      'ingest: 300/300 sources done in 30.0s\n',
    ]);
  });

  it('says nothing when there is nothing to do', () => {
    const { output, writes, clock } = fakeOutput(false);
    const progress = startProgress('backfill japan', 0, 'items', { output, now: clock.now });
    progress.advance(0);
    progress.finish();
    expect(writes).toEqual([]);
  });
});

describe('progress on a terminal', () => {
  it('redraws one line at most ten times a second, then clears it', () => {
    const { output, writes, clock } = fakeOutput(true);
    const progress = startProgress('ingest', 4, 'sources', { output, now: clock.now });
    clock.set(50);
    progress.advance(1, 'jiji-press'); // too soon after the first draw
    clock.set(150);
    progress.advance(1, 'arabnews-japan');
    clock.set(160);
    progress.advance(2, 'japan-today'); // the last one is always drawn
    progress.finish();
    expect(writes).toEqual([
      '\r\x1b[Kingest [------------------------] 0/4 sources 0%',
      '\r\x1b[Kingest [############------------] 2/4 sources 50% arabnews-japan',
      '\r\x1b[Kingest [########################] 4/4 sources 100% japan-today',
      '\r\x1b[K',
    ]);
  });

  it('fits the line to the terminal width', () => {
    const { output, writes } = fakeOutput(true);
    output.columns = 30;
    startProgress('ingest', 10, 'sources', { output }).advance(10, 'a-source-with-a-very-long-identifier');
    expect(writes.every((text) => text.replace('\r\x1b[K', '').length <= 29)).toBe(true);
  });
});
