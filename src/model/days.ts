/**
 * Calendar days as a time zone has them: where each starts and which date it is. Days are 23 to 25 hours long where
 * the zone moves its clocks; a day whose midnight the clocks skip starts at the jump (America/Santiago's first day of
 * summer time starts at 01:00), and one that reads midnight twice at the first. Checked against every zone the
 * runtime knows, 1995-2025: the one miss is a date that ran backwards (Antarctica/Casey, March 2019).
 */

const HOUR_MS = 3_600_000;

/** The canonical name (Asia/Tokyo for asia/tokyo) of a time zone this runtime knows, or undefined. */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * The days of one time zone, starting at midnight or at `startMinutes` after it (a day from 06:00 to 06:00, for a
 * digest read in the morning). Built once per use: its formatter is what costs.
 */
export class ZoneDays {
  private readonly format: Intl.DateTimeFormat;
  private readonly startMs: number;

  constructor(
    readonly timeZone: string,
    startMinutes = 0,
  ) {
    this.startMs = startMinutes * 60_000;
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** The local date (2024-06-02) at instant `ms`. */
  date(ms: number): string {
    return new Date(this.wallClock(ms)).toISOString().slice(0, 10);
  }

  /** The first instant (ms) of the local day holding instant `ms`. */
  dayStart(ms: number): number {
    const wall = this.wallClock(ms);
    // The wall reading the day starts at ("midnight", or the hour the days start at).
    const midnight = wall - mod(wall - this.startMs, 24 * HOUR_MS);
    // Searched from the offset of `ms`.
    const start = this.firstReading(midnight, midnight - (wall - ms));
    const onTheDay = (instant: number) => this.wallClock(instant) >= midnight;
    if (start <= ms && onTheDay(start) && !onTheDay(start - 1)) return start;
    // Midnight read twice (Havana's clocks go back from 01:00 to 00:00): the day starts at the first instant of its
    // date, found by halving the hours before `ms` in which it must lie (no day is longer than 26 hours).
    let before = ms - 26 * HOUR_MS;
    let after = ms;
    while (after - before > 1) {
      const middle = before + Math.floor((after - before) / 2);
      if (onTheDay(middle)) after = middle;
      else before = middle;
    }
    return after;
  }

  /** The first instant (ms) of the local day after the one starting at `dayStart`. */
  nextDayStart(dayStart: number): number {
    return this.dayStart(dayStart + 36 * HOUR_MS);
  }

  /**
   * The instant (ms) at which the local clock reads `wall` (a reading written as the instant a UTC clock reads it):
   * in a skipped hour, the reading at the offset before the jump; in an hour read twice, the first.
   */
  instant(wall: number): number {
    return this.firstReading(wall, wall);
  }

  /**
   * The instant at which the clock reads `wall`, searched from `guess` at the offset of each guess in turn (settled
   * within two steps unless the clocks move at that reading; a skipped one ends at the offset before the jump). A
   * reading the clocks went back over (01:30 when they go from 02:00 to 01:00) comes twice: the first.
   */
  private firstReading(wall: number, guess: number): number {
    let at = guess;
    for (let step = 0; step < 3; step++) {
      const next = wall - (this.wallClock(at) - at);
      if (next === at) break;
      at = next;
    }
    for (const back of [HOUR_MS, HOUR_MS / 2]) if (this.wallClock(at - back) === wall) at -= back;
    return at;
  }

  /** The wall clock's reading at instant `ms`, as the instant at which a UTC clock reads the same. */
  private wallClock(ms: number): number {
    const part: Record<string, number> = {};
    for (const { type, value } of this.format.formatToParts(ms)) part[type] = Number(value);
    return Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!) + mod(ms, 1000);
  }
}

const mod = (value: number, divisor: number) => ((value % divisor) + divisor) % divisor;
