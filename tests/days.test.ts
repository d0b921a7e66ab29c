/** Calendar days of a time zone: where each starts and ends, across clock changes, checked against the zones' rules. */
import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, ZoneDays } from '../src/model/days.js';

const ms = (iso: string) => Date.parse(iso);
const iso = (instant: number) => new Date(instant).toISOString();

describe('ZoneDays', () => {
  // [zone, an instant, its local date, where that day starts, where the next starts]
  const cases: Array<[string, string, string, string, string]> = [
    ['UTC', '2024-06-02T08:06:19Z', '2024-06-02', '2024-06-02T00:00:00.000Z', '2024-06-03T00:00:00.000Z'],
    // The seed story's 08:06 in Tokyo is still 1 June in UTC.
    ['Asia/Tokyo', '2024-06-01T23:06:19Z', '2024-06-02', '2024-06-01T15:00:00.000Z', '2024-06-02T15:00:00.000Z'],
    ['Asia/Tokyo', '2024-06-01T14:59:59.999Z', '2024-06-01', '2024-05-31T15:00:00.000Z', '2024-06-01T15:00:00.000Z'],
    ['Asia/Kolkata', '2024-06-02T12:00:00Z', '2024-06-02', '2024-06-01T18:30:00.000Z', '2024-06-02T18:30:00.000Z'],
    ['Pacific/Chatham', '2024-06-02T12:00:00Z', '2024-06-03', '2024-06-02T11:15:00.000Z', '2024-06-03T11:15:00.000Z'],
    ['America/Los_Angeles', '2024-06-02T03:00:00Z', '2024-06-01', '2024-06-01T07:00:00.000Z', '2024-06-02T07:00:00.000Z'],
    // Summer time starts at 02:00: a 23-hour day; ends at 02:00: a 25-hour day.
    ['America/New_York', '2024-03-10T12:00:00Z', '2024-03-10', '2024-03-10T05:00:00.000Z', '2024-03-11T04:00:00.000Z'],
    ['America/New_York', '2024-11-03T12:00:00Z', '2024-11-03', '2024-11-03T04:00:00.000Z', '2024-11-04T05:00:00.000Z'],
    ['Europe/London', '2024-10-27T23:30:00Z', '2024-10-27', '2024-10-26T23:00:00.000Z', '2024-10-28T00:00:00.000Z'],
    // Santiago moves its clocks at midnight: 8 September 2024 has no 00:00 (it starts at 01:00, 04:00 UTC), and
    // 6 April 2024 reads 23:00-24:00 twice.
    ['America/Santiago', '2024-09-08T12:00:00Z', '2024-09-08', '2024-09-08T04:00:00.000Z', '2024-09-09T03:00:00.000Z'],
    ['America/Santiago', '2024-09-08T03:59:59Z', '2024-09-07', '2024-09-07T04:00:00.000Z', '2024-09-08T04:00:00.000Z'],
    ['America/Santiago', '2024-04-07T03:30:00Z', '2024-04-06', '2024-04-06T03:00:00.000Z', '2024-04-07T04:00:00.000Z'],
    ['America/Santiago', '2024-04-07T04:00:00Z', '2024-04-07', '2024-04-07T04:00:00.000Z', '2024-04-08T04:00:00.000Z'],
    // Havana's clocks go back from 01:00 to 00:00: 3 November 2024 reads midnight twice, and starts at the first.
    ['America/Havana', '2024-11-03T12:00:00Z', '2024-11-03', '2024-11-03T04:00:00.000Z', '2024-11-04T05:00:00.000Z'],
    ['America/Havana', '2024-11-03T05:30:00Z', '2024-11-03', '2024-11-03T04:00:00.000Z', '2024-11-04T05:00:00.000Z'],
  ];
  it.each(cases)('%s: %s is on %s, which starts at %s and ends at %s', (zone, at, date, start, next) => {
    const days = new ZoneDays(zone);
    expect(days.date(ms(at))).toBe(date);
    expect(iso(days.dayStart(ms(at)))).toBe(start);
    expect(days.date(ms(start))).toBe(date);
    expect(days.date(ms(start) - 1)).not.toBe(date);
    expect(iso(days.nextDayStart(ms(start)))).toBe(next);
  });

  // [zone, start minutes, an instant, where its day starts, where the next starts]
  const shifted: Array<[string, number, string, string, string]> = [
    ['Asia/Tokyo', 360, '2024-06-01T23:06:19Z', '2024-06-01T21:00:00.000Z', '2024-06-02T21:00:00.000Z'],
    ['Asia/Tokyo', 360, '2024-06-01T20:59:59Z', '2024-05-31T21:00:00.000Z', '2024-06-01T21:00:00.000Z'],
    ['UTC', 1_439, '2024-06-02T23:58:00Z', '2024-06-01T23:59:00.000Z', '2024-06-02T23:59:00.000Z'],
    // New York's days from 02:30: on 10 March the clocks skip it (02:00 -> 03:00), so that day starts at the jump;
    // on 3 November 01:30 is read twice, and the day from 01:30 starts at the first.
    ['America/New_York', 150, '2024-03-10T12:00:00Z', '2024-03-10T07:00:00.000Z', '2024-03-11T06:30:00.000Z'],
    ['America/New_York', 90, '2024-11-03T12:00:00Z', '2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z'],
  ];
  it.each(shifted)('%s, days from minute %s: %s is in the day from %s to %s', (zone, minutes, at, start, next) => {
    const days = new ZoneDays(zone, minutes);
    expect(iso(days.dayStart(ms(at)))).toBe(start);
    expect(iso(days.dayStart(ms(start)))).toBe(start);
    expect(days.dayStart(ms(start) - 1)).toBeLessThan(ms(start));
    expect(iso(days.nextDayStart(ms(start)))).toBe(next);
  });

  it('gives days from 01:30 and from 02:30 that hold every fifth hour of a year of clock changes, one after another', () => {
    for (const zone of ['America/Santiago', 'America/Havana', 'Europe/London', 'Australia/Lord_Howe', 'America/New_York']) {
      for (const minutes of [90, 150]) {
        const days = new ZoneDays(zone, minutes);
        for (let instant = ms('2024-01-01T00:00:00Z'); instant < ms('2025-01-01T00:00:00Z'); instant += 5 * 3_600_000) {
          const start = days.dayStart(instant);
          const next = days.nextDayStart(start);
          const hours = (next - start) / 3_600_000;
          const holds = start <= instant && instant < next && days.dayStart(start) === start && days.dayStart(next) === next;
          expect(holds && hours >= 22.5 && hours <= 25.5, `${zone} from ${minutes} min: ${iso(instant)} in ${iso(start)}-${iso(next)}`).toBe(true);
        }
      }
    }
  });

  it('gives a day start for every fifth hour of a year of clock changes (every hour of the day in turn), each its own first instant', () => {
    for (const zone of ['America/Santiago', 'America/Havana', 'Europe/London', 'Australia/Lord_Howe']) {
      const days = new ZoneDays(zone);
      for (let instant = ms('2024-01-01T00:00:00Z'); instant < ms('2025-01-01T00:00:00Z'); instant += 5 * 3_600_000) {
        const start = days.dayStart(instant);
        expect(start <= instant && days.date(start) === days.date(instant) && days.date(start - 1) !== days.date(instant), `${zone} ${iso(instant)}`).toBe(
          true,
        );
      }
    }
  });
});

describe('canonicalTimeZone', () => {
  it.each([
    ['Asia/Tokyo', 'Asia/Tokyo'],
    ['asia/tokyo', 'Asia/Tokyo'],
    ['UTC', 'UTC'],
    ['Asia/Tokio', undefined],
    ['JST', 'Asia/Tokyo'],
    ['Mars/Olympus_Mons', undefined],
    ['', undefined],
  ])('%j is %j', (name, canonical) => {
    expect(canonicalTimeZone(name)).toBe(canonical);
  });
});
