import { describe, expect, it } from 'vitest';
import { adaptivePollSeconds, freshnessSeconds, MAX_BACKOFF_SECONDS, nextCheckAt, retryAfterSeconds } from '../src/worker/next-check.js';
import { PERMANENT_REDIRECT_CONFIRMATIONS, type RedirectState, trackRedirects } from '../src/worker/redirects.js';

const now = new Date('2024-06-02T00:00:00Z');
const seconds = (date: Date) => (date.getTime() - now.getTime()) / 1000;
const half = () => 0.5; // no jitter

describe('adaptivePollSeconds (every: auto)', () => {
  const ago = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
  it.each([
    ['a source never read: the fallback', undefined, 900],
    ['a source with nothing stored yet: the fallback', { count: 0, oldest: null, anyStored: false }, 900],
    ['a wire with 48 items in the last 24 hours: every 30 minutes', { count: 48, oldest: ago(24), anyStored: true }, 1800],
    ['a feed with 7 items over the week: every day, kept to 6 hours', { count: 7, oldest: ago(7 * 24), anyStored: true }, 6 * 3600],
    ['a feed with 14 items over 42 hours: every 3 hours', { count: 14, oldest: ago(42), anyStored: true }, 3 * 3600],
    ['a burst of 500 items in an hour: kept to 5 minutes', { count: 500, oldest: ago(1), anyStored: true }, 300],
    ['items all dated now: kept to 5 minutes', { count: 3, oldest: now, anyStored: true }, 300],
    ['a feed that went quiet: none this week, every 6 hours', { count: 0, oldest: null, anyStored: true }, 6 * 3600],
  ])('%s', (_name, recent, expected) => {
    expect(adaptivePollSeconds(recent, now, 900)).toBe(expected);
  });

  it('never polls under worker.minInterval, even at the longest', () => {
    expect(adaptivePollSeconds({ count: 500, oldest: new Date(now.getTime() - 3_600_000), anyStored: true }, now, 900, 600)).toBe(600);
    expect(adaptivePollSeconds({ count: 0, oldest: null, anyStored: true }, now, 900, 8 * 3600)).toBe(8 * 3600);
  });
});

describe('nextCheckAt after a success', () => {
  it.each([
    ['the configured interval', { pollSeconds: 900, hints: {} }, 900],
    ['RSS <ttl> when longer', { pollSeconds: 900, hints: {}, feed: { ttlMinutes: 60 } }, 3600],
    ['Cache-Control max-age when longer', { pollSeconds: 900, hints: { cacheControl: 'public, max-age=1800' } }, 1800],
    ['the interval when max-age is shorter', { pollSeconds: 900, hints: { cacheControl: 'max-age=60' } }, 900],
    ['Expires relative to Date', { pollSeconds: 300, hints: { date: 'Sun, 02 Jun 2024 00:00:00 GMT', expires: 'Sun, 02 Jun 2024 02:00:00 GMT' } }, 7200],
    ['Retry-After in seconds', { pollSeconds: 300, hints: { retryAfter: '1200' } }, 1200],
    ['the minimum for a tiny interval', { pollSeconds: 5, hints: {} }, 60],
    ['a configured minimum (worker.minInterval)', { pollSeconds: 5, hints: {}, minSeconds: 2 }, 5],
    ['at least a configured minimum', { pollSeconds: 1, hints: {}, minSeconds: 2 }, 2],
    ['the maximum for a huge max-age', { pollSeconds: 900, hints: { cacheControl: 'max-age=31536000' } }, 86400],
  ])('waits %s', (_name, input, expected) => {
    expect(seconds(nextCheckAt({ now, consecutiveErrors: 0, random: half, ...input }))).toBe(expected);
  });

  it('honours skipHours (GMT) and skipDays', () => {
    // 2024-06-02 is a Sunday; an hour from midnight is 01:00, skipped together with 02:00 and 03:00.
    const skipHours = nextCheckAt({ now, pollSeconds: 3600, hints: {}, feed: { skipHours: [1, 2, 3] }, consecutiveErrors: 0 });
    expect(skipHours.toISOString()).toBe('2024-06-02T04:00:00.000Z');
    const skipDays = nextCheckAt({ now, pollSeconds: 3600, hints: {}, feed: { skipDays: ['Sunday'] }, consecutiveErrors: 0 });
    expect(skipDays.toISOString()).toBe('2024-06-03T00:00:00.000Z');
  });
});

describe('nextCheckAt after failures', () => {
  it('backs off exponentially up to the cap', () => {
    const waits = [1, 2, 3, 4, 5, 10, 50].map((errors) => seconds(nextCheckAt({ now, pollSeconds: 900, hints: {}, consecutiveErrors: errors, random: half })));
    expect(waits).toEqual([900, 1800, 3600, 7200, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS]);
  });

  it('backs off from a configured minimum', () => {
    expect(seconds(nextCheckAt({ now, pollSeconds: 1, hints: {}, consecutiveErrors: 1, random: half, minSeconds: 5 }))).toBe(5);
  });

  it('spreads retries with ±20 % jitter', () => {
    const low = seconds(nextCheckAt({ now, pollSeconds: 900, hints: {}, consecutiveErrors: 2, random: () => 0 }));
    const high = seconds(nextCheckAt({ now, pollSeconds: 900, hints: {}, consecutiveErrors: 2, random: () => 0.999999 }));
    expect(low).toBe(1440);
    expect(high).toBe(2160);
  });

  it('never retries before a Retry-After on 429/503', () => {
    expect(seconds(nextCheckAt({ now, pollSeconds: 60, hints: { retryAfter: '3600' }, consecutiveErrors: 1, random: half }))).toBe(3600);
    expect(seconds(nextCheckAt({ now, pollSeconds: 60, hints: { retryAfter: 'Sun, 02 Jun 2024 05:00:00 GMT' }, consecutiveErrors: 1, random: half }))).toBe(
      18000,
    );
  });
});

describe('cache hints', () => {
  it.each([
    ['120', 120],
    [' 7 ', 7],
    ['Sun, 02 Jun 2024 00:10:00 GMT', 600],
    ['Sat, 01 Jun 2024 00:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('Retry-After %j = %j s', (value, expected) => expect(retryAfterSeconds(value, now)).toBe(expected));

  it.each([
    [{ cacheControl: 'max-age=300, must-revalidate' }, 300],
    [{ cacheControl: 'public, s-maxage=600' }, 600],
    [{ expires: 'Sun, 02 Jun 2024 01:00:00 GMT' }, 3600],
    [{ expires: '0' }, undefined],
    [{}, undefined],
  ])('freshness of %j = %j s', (hints, expected) => expect(freshnessSeconds(hints, now)).toBe(expected));
});

describe('trackRedirects', () => {
  const fresh: RedirectState = { fetchUrl: null, redirectTarget: null, redirectCount: 0 };
  const hop = (status: number, to = 'https://new.example/feed') => ({ status, from: 'https://old.example/feed', to });

  it(`adopts a 301/308 target after ${PERMANENT_REDIRECT_CONFIRMATIONS} fetches in a row`, () => {
    let state = { ...fresh };
    const seen: boolean[] = [];
    for (let fetch = 0; fetch < PERMANENT_REDIRECT_CONFIRMATIONS; fetch++) {
      const { moved, ...next } = trackRedirects(state, [hop(fetch % 2 ? 308 : 301)], 'https://new.example/feed');
      seen.push(moved);
      state = next;
    }
    expect(seen).toEqual([false, false, true]);
    expect(state).toEqual({ fetchUrl: 'https://new.example/feed', redirectTarget: null, redirectCount: 0 });
  });

  it.each([
    ['a 302', [hop(302)]],
    ['a 307', [hop(307)]],
    ['a 301 then a 302', [hop(301, 'https://mid.example/'), hop(302)]],
    ['no redirect', []],
  ])('never moves on %s and resets the count', (_name, redirects) => {
    const state = { fetchUrl: null, redirectTarget: 'https://new.example/feed', redirectCount: 2 };
    expect(trackRedirects(state, redirects, 'https://new.example/feed')).toEqual({ ...fresh, moved: false });
  });

  it('restarts the count when the permanent target changes', () => {
    const state = { fetchUrl: null, redirectTarget: 'https://a.example/feed', redirectCount: 2 };
    expect(trackRedirects(state, [hop(301, 'https://b.example/feed')], 'https://b.example/feed')).toMatchObject({
      redirectTarget: 'https://b.example/feed',
      redirectCount: 1,
      moved: false,
    });
  });
});
