import { describe, expect, it } from 'vitest';
import { type FetchCondition, QUIET_RULE, quietness, quietText, roughSpan, type SourcePace, withQuiet } from '../src/model/quiet.js';

const HOUR = 3600;
const DAY = 86_400;
const CHECKED = new Date('2024-06-10T09:00:00Z');
const secondsBefore = (seconds: number) => new Date(CHECKED.getTime() - seconds * 1000);
const fetched: FetchCondition = { lastFetchedAt: CHECKED, errorCount: 0, goneAt: null };
/** A pace: `count` items from `oldest` to `newest` seconds before the check, their longest gap `gap` seconds. */
const pace = (count: number, oldest: number, newest: number, gap: number): SourcePace => ({
  count,
  oldest: secondsBefore(oldest),
  newest: secondsBefore(newest),
  longestGapSeconds: gap,
});

describe('when a source is quiet', () => {
  it.each([
    // A wire filing round the clock (longest gap 2 h): quiet once silent past the 6-hour floor, not before.
    ['wire, silent 5 h', pace(500, 20 * DAY, 5 * HOUR, 2 * HOUR), undefined, undefined],
    ['wire, silent 7 h', pace(500, 20 * DAY, 7 * HOUR, 2 * HOUR), undefined, 6 * HOUR],
    // A weekday desk (its weekend gap 64 h): a Sunday is its pace, four days of silence are not.
    ['weekday desk, silent 60 h', pace(200, 30 * DAY, 60 * HOUR, 64 * HOUR), undefined, undefined],
    ['weekday desk, silent 97 h', pace(200, 30 * DAY, 97 * HOUR, 64 * HOUR), undefined, 96 * HOUR],
    // Exactly at the limit is not past it.
    ['at the limit', pace(200, 30 * DAY, 96 * HOUR, 64 * HOUR), undefined, undefined],
    // Too thin or too young a history to judge by its pace.
    ['nine items', pace(9, 60 * DAY, 40 * DAY, 2 * DAY), undefined, undefined],
    ['six days of history', pace(300, 6 * DAY, 3 * DAY, HOUR), undefined, undefined],
    ['a week of history', pace(300, 7 * DAY, 3 * DAY, HOUR), undefined, 6 * HOUR],
    // Its items went out of the window long ago: the window is the month up to its newest item, so it stays quiet.
    ['frozen for a year', pace(40, 395 * DAY, 365 * DAY, DAY), undefined, 36 * HOUR],
    // Its own quietAfter, whatever its pace or history.
    ['quietAfter 2d, silent 3 d', pace(2, 4 * DAY, 3 * DAY, DAY), 2 * DAY, 2 * DAY],
    ['quietAfter 2d, silent 1 d', pace(500, 30 * DAY, DAY, HOUR), 2 * DAY, undefined],
    ['quietAfter never', pace(500, 30 * DAY, 300 * DAY, HOUR), 'never' as const, undefined],
  ])('%s', (_name, sourcePace, quietAfter, limit) => {
    const quiet = quietness(fetched, sourcePace, quietAfter);
    expect(quiet?.limitSeconds).toBe(limit);
    if (quiet) expect(quiet.silentSeconds).toBe((CHECKED.getTime() - sourcePace.newest.getTime()) / 1000);
  });

  it('judges only a source whose last fetch succeeded, as of that fetch', () => {
    const frozen = pace(500, 30 * DAY, 10 * DAY, HOUR);
    expect(quietness(fetched, frozen)).toBeDefined();
    expect(quietness({ ...fetched, errorCount: 1 }, frozen)).toBeUndefined(); // failing says more
    expect(quietness({ ...fetched, goneAt: CHECKED }, frozen)).toBeUndefined();
    expect(quietness({ ...fetched, lastFetchedAt: null }, frozen)).toBeUndefined();
    expect(quietness(fetched, undefined)).toBeUndefined(); // nothing stored: no pace to judge by
    // A worker stopped for a week makes no source look quieter than it was at its last fetch.
    const lastWeek = { ...fetched, lastFetchedAt: secondsBefore(7 * DAY) };
    expect(quietness(lastWeek, pace(500, 30 * DAY, 7 * DAY + HOUR, HOUR))).toBeUndefined();
    // An item dated after the fetch that stored it (clock skew) is no silence.
    expect(quietness(fetched, pace(500, 30 * DAY, -600, HOUR))).toBeUndefined();
  });

  it('keeps its rule where the docs say it is', () => {
    expect(QUIET_RULE).toEqual({ windowSeconds: 30 * DAY, minItems: 10, minHistorySeconds: 7 * DAY, factor: 1.5, floorSeconds: 6 * HOUR });
  });
});

describe('how a quiet source is told', () => {
  it.each([
    [59, '1 min'],
    [89 * 60, '89 min'],
    [90 * 60, '2 h'],
    [47 * HOUR, '47 h'],
    [48 * HOUR, '2 d'],
    [9.6 * DAY, '10 d'],
  ])('%i seconds: %s', (seconds, text) => {
    expect(roughSpan(seconds)).toBe(text);
  });

  it('says what it has been silent for, and against what', () => {
    expect(quietText({ newest: secondsBefore(9 * DAY), silentSeconds: 9 * DAY, limitSeconds: 6 * HOUR, longestGapSeconds: 2 * HOUR })).toBe(
      'nothing new for 9 d (its longest gap in 30 days: 2 h)',
    );
    expect(quietText({ newest: secondsBefore(3 * DAY), silentSeconds: 3 * DAY, limitSeconds: 2 * DAY })).toBe('nothing new for 3 d (quietAfter: 2 d)');
  });

  it('judges rows by their configured source: a paused source or one taken out of the config never', () => {
    const row = (id: string) => ({ id, ...fetched, pace: pace(500, 30 * DAY, 10 * DAY, HOUR) });
    const judged = withQuiet(
      [row('frozen'), row('paused'), row('removed'), row('archive'), { id: 'empty', ...fetched }],
      [{ id: 'frozen' }, { id: 'paused', paused: true }, { id: 'archive', quietAfter: 'never' }, { id: 'empty' }],
    );
    expect(judged.map((entry) => [entry.id, entry.quiet?.limitSeconds])).toEqual([
      ['frozen', 6 * HOUR],
      ['paused', undefined],
      ['removed', undefined],
      ['archive', undefined],
      ['empty', undefined],
    ]);
  });
});
