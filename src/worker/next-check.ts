import type { CacheHints } from '../fetch/index.js';
import type { FeedSchedule, RecentItems } from '../model/source.js';
import { parseFeedDate } from '../normalize/date.js';

export const MIN_POLL_SECONDS = 60;
export const MAX_POLL_SECONDS = 24 * 3600;
/** Errors back off up to this; a source is never given up on for transient errors. */
export const MAX_BACKOFF_SECONDS = 4 * 3600;

export interface NextCheckInput {
  now: Date;
  pollSeconds: number;
  hints: CacheHints;
  feed?: FeedSchedule;
  /** Consecutive failures including this fetch; 0 after a success. */
  consecutiveErrors: number;
  /** The shortest wait between two fetches (the `worker.minInterval` setting); default MIN_POLL_SECONDS. */
  minSeconds?: number;
  /** Random number in [0, 1) for jitter; injectable for tests. */
  random?: () => number;
}

/** Seconds until a Retry-After (seconds or an HTTP date) allows the next request. */
export function retryAfterSeconds(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = parseFeedDate(value);
  return date ? Math.max(0, Math.ceil((date.getTime() - now.getTime()) / 1000)) : undefined;
}

/** How long the response says it stays fresh: Cache-Control max-age, else Expires relative to Date (or now). */
export function freshnessSeconds(hints: CacheHints, now: Date): number | undefined {
  const maxAge = /(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*"?(\d+)"?/i.exec(hints.cacheControl ?? '')?.[1];
  if (maxAge !== undefined) return Number(maxAge);
  const expires = parseFeedDate(hints.expires);
  if (!expires) return undefined;
  const origin = parseFeedDate(hints.date) ?? now;
  return Math.max(0, Math.round((expires.getTime() - origin.getTime()) / 1000));
}

const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Moves `time` forward to the first whole hour the feed does not ask us to skip (skipHours/skipDays are GMT). */
function afterSkips(time: Date, feed: FeedSchedule | undefined): Date {
  const hours = new Set(feed?.skipHours ?? []);
  const days = new Set((feed?.skipDays ?? []).map((day) => day.toLowerCase()));
  if (hours.size === 0 && days.size === 0) return time;
  let candidate = time;
  for (let step = 0; step < 8 * 24; step++) {
    if (!hours.has(candidate.getUTCHours()) && !days.has(DAY_NAMES[candidate.getUTCDay()]!)) return candidate;
    candidate = new Date(Date.UTC(candidate.getUTCFullYear(), candidate.getUTCMonth(), candidate.getUTCDate(), candidate.getUTCHours() + 1));
  }
  return time; // the feed skips every hour of the week: ignore the request rather than never polling
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** The bounds of an adaptive interval (`every: auto`), and the span of items it reads the source's pace from. */
export const ADAPTIVE_POLL = { minSeconds: 5 * 60, maxSeconds: 6 * 3600, windowSeconds: 7 * 86_400 };

/**
 * How often to fetch a source with `every: auto`: the mean time between its items over the last week (from the oldest
 * of them to now, so a feed that went quiet slows down), kept within ADAPTIVE_POLL's bounds (never under
 * `minSeconds`); the longest for a source with none that week; `fallback` for one never read.
 */
export function adaptivePollSeconds(recent: RecentItems | undefined, now: Date, fallback: number, minSeconds = MIN_POLL_SECONDS): number {
  if (!recent?.anyStored) return fallback;
  const shortest = Math.max(ADAPTIVE_POLL.minSeconds, minSeconds);
  if (recent.count === 0 || !recent.oldest) return Math.max(ADAPTIVE_POLL.maxSeconds, shortest);
  const span = clamp((now.getTime() - recent.oldest.getTime()) / 1000, 0, ADAPTIVE_POLL.windowSeconds);
  return Math.round(clamp(span / recent.count, shortest, Math.max(ADAPTIVE_POLL.maxSeconds, shortest)));
}

/**
 * When to fetch a source next. After a success: the longest of the configured interval, the feed's <ttl>, the
 * response's freshness and Retry-After, clamped to [minSeconds, MAX_POLL_SECONDS], then past skipHours/skipDays.
 * After a failure: exponential backoff from the configured interval with ±20 % jitter, capped at MAX_BACKOFF_SECONDS,
 * and never sooner than a Retry-After.
 */
export function nextCheckAt(input: NextCheckInput): Date {
  const { now, pollSeconds, hints } = input;
  const minSeconds = input.minSeconds ?? MIN_POLL_SECONDS;
  const random = input.random ?? Math.random;
  const retryAfter = retryAfterSeconds(hints.retryAfter, now) ?? 0;
  if (input.consecutiveErrors > 0) {
    const exponential = pollSeconds * 2 ** Math.min(input.consecutiveErrors - 1, 20);
    const jittered = Math.min(exponential, MAX_BACKOFF_SECONDS) * (0.8 + 0.4 * random());
    const wait = Math.max(clamp(jittered, minSeconds, MAX_BACKOFF_SECONDS), Math.min(retryAfter, MAX_POLL_SECONDS));
    return new Date(now.getTime() + Math.round(wait) * 1000);
  }
  const wanted = Math.max(pollSeconds, (input.feed?.ttlMinutes ?? 0) * 60, freshnessSeconds(hints, now) ?? 0, retryAfter);
  const next = new Date(now.getTime() + clamp(wanted, minSeconds, MAX_POLL_SECONDS) * 1000);
  return afterSkips(next, input.feed);
}
