/**
 * Feed dates as the web writes them: RFC 822/1123 with named, numeric and misspelt zones (the JIJI/Arab News
 * "02 Jun 2024 08:06:19 GMT9" is +09:00), two-digit years, missing or wrong weekdays, and RFC 3339 / ISO 8601.
 */

import type { ZoneDays } from '../model/days.js';
import type { DateOrder } from '../model/source.js';

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  sept: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** Offsets in minutes east of UTC. */
const ZONE_OFFSETS: Record<string, number> = {
  z: 0,
  ut: 0,
  utc: 0,
  gmt: 0,
  wet: 0,
  bst: 60,
  ist: 330,
  cet: 60,
  cest: 120,
  met: 60,
  mest: 120,
  eet: 120,
  eest: 180,
  msk: 180,
  jst: 540,
  kst: 540,
  hkt: 480,
  sgt: 480,
  awst: 480,
  pht: 480,
  wib: 420,
  ict: 420,
  aest: 600,
  aedt: 660,
  nzst: 720,
  nzdt: 780,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
  akst: -540,
  akdt: -480,
  hst: -600,
  ast: -240,
  adt: -180,
  nst: -210,
  ndt: -150,
};

/** "+0900", "+09:00", "-5", "GMT9", "GMT+9", "UTC+05:30", "JST" -> minutes east of UTC. */
function parseZone(zone: string | undefined): number | undefined {
  if (!zone) return 0; // no zone at all: RFC 822 readers assume UTC
  const text = zone.trim().toLowerCase();
  if (text in ZONE_OFFSETS) return ZONE_OFFSETS[text];
  const numeric = /^(?:gmt|utc|ut)?\s*([+-])?(\d{1,2})(?::?(\d{2}))?$/.exec(text);
  if (!numeric) return undefined;
  const [, sign, hours, minutes] = numeric;
  // "+0900" is hours and minutes; "GMT9" or "+9" is hours only.
  const value = Number(hours) * 60 + Number(minutes ?? 0);
  if (Number(hours) > 14 || Number(minutes ?? 0) > 59) return undefined;
  return sign === '-' ? -value : value;
}

/** A zone after a date's time, to the end: "JST", "GMT9", "UTC+05:30", "+0900" (read by parseZone). */
const ZONE_AT_END = String.raw`\s*([a-z]{1,5}\s*[+-]?\d{0,2}(?::?\d{2})?|[+-]\d{1,2}(?::?\d{2})?)?$`;

const RFC822 = new RegExp(
  String.raw`^(?:[a-z]{2,9}\.?,?\s*)?(\d{1,2})[\s-]+([a-z]{3,9})\.?[\s-]+(\d{2,4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?${ZONE_AT_END}`,
  'i',
);

const ISO8601 = /^(\d{4})-?(\d{2})-?(\d{2})(?:[t\s](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?\s*(z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function expandYear(year: string): number {
  const value = Number(year);
  if (year.length === 4) return value;
  if (year.length === 2) return value < 50 ? 2000 + value : 1900 + value;
  return Number.NaN;
}

/**
 * No feed item was published before this: earlier dates are placeholders (.NET writes DateTime.MinValue as
 * 0001-01-01, others write year 0) and are treated as missing.
 */
const EARLIEST_YEAR = 1970;

/** Days in a month; years before 100 never get here (Date.UTC would read them as 1900 + year). */
const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

function utc(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number, offset: number) {
  if (!(year >= EARLIEST_YEAR && year <= 9999) || month < 0 || month > 11 || hour > 24 || minute > 59 || second > 60) return undefined;
  // An impossible day (30 February) is an error, not a day in March.
  if (day < 1 || day > daysIn(year, month)) return undefined;
  const time = Date.UTC(year, month, day, hour, minute, second, ms) - offset * 60_000;
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** Parses a feed date; returns undefined when the text is not a date we can trust. */
export function parseFeedDate(text: string | null | undefined): Date | undefined {
  if (!text) return undefined;
  const value = text.trim().replace(/\s+/g, ' ');
  const iso = ISO8601.exec(value);
  if (iso) {
    const [, year, month, day, hour, minute, second, fraction, zone] = iso;
    const offset = zone ? parseZone(zone) : 0;
    if (offset === undefined) return undefined;
    const ms = fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0;
    return utc(Number(year), Number(month) - 1, Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0), ms, offset);
  }
  const rfc = RFC822.exec(value);
  if (rfc) {
    const [, day, monthName, year, hour, minute, second, zone] = rfc;
    const month = MONTHS[monthName!.toLowerCase().slice(0, monthName!.toLowerCase().startsWith('sept') ? 4 : 3)];
    const offset = parseZone(zone);
    if (month === undefined || offset === undefined) return undefined;
    return utc(expandYear(year!), month, Number(day), Number(hour), Number(minute), Number(second ?? 0), 0, offset);
  }
  return undefined;
}

/** A time after a date in Japanese or numeric forms: "8時6分", "08:06:19", "T08:06" (hour, minute, second). */
const CJK_TIME = String.raw`(?:[\s,T]*(\d{1,2})\s*[:時]\s*(\d{1,2})(?:\s*[:分]\s*(\d{2}))?\s*[分秒]?)?`;
/** A time after a date written in words or with the year last: ", 8:06 a.m.", " at 20:06:19" (hour, minute, second, a or p). */
const CLOCK_TIME = String.raw`(?:,?\s+(?:at\s+)?(\d{1,2})[:.](\d{2})(?::(\d{2}))?(?:\s*([ap])\.?\s?m\.?)?)?`;
/** A weekday in parentheses after a date: "(日)", "(Sun)". */
const WEEKDAY_AFTER = String.raw`(?:\s*\([^()]{1,12}\))?`;
const pageDatePattern = (date: string, time: string) => new RegExp(`^${date}${time}${ZONE_AT_END}`, 'i');

/** "2024/06/02 08:06", "2024-6-2", "2024.06.02", "2024年6月2日 8時6分": year first, then an optional time and zone. */
const NUMERIC_PAGE_DATE = pageDatePattern(String.raw`(\d{4})\s*[/.\-年]\s*(\d{1,2})\s*[/.\-月]\s*(\d{1,2})\s*日?${WEEKDAY_AFTER}`, CJK_TIME);
/**
 * "June 2, 2024, 8:06 a.m. JST", "Sun, Jun 2 2024 at 08:06", "2 June 2024 8:06 PM", "Jun 2, 08:06": a month's name,
 * the year if written, then a time.
 */
const NAMED_PAGE_DATE = pageDatePattern(
  String.raw`(?:[a-z]{2,9}\.?,?\s+)?(?:([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?)(?:,?\s+(\d{4}))?`,
  CLOCK_TIME,
);
/** "6月2日 8時6分", "6月2日(日) 08:06": a Japanese date without its year. */
const JAPANESE_NO_YEAR = pageDatePattern(String.raw`(\d{1,2})\s*月\s*(\d{1,2})\s*日${WEEKDAY_AFTER}`, CJK_TIME);
/** "02/06/2024 08:06", "2.6.2024", "06-02-2024 8:06 PM": day and month first, in the order the source says. */
const YEAR_LAST_PAGE_DATE = pageDatePattern(String.raw`(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})`, CLOCK_TIME);

/** The 24-hour clock's hour of a 12-hour reading ("8" and "p"), or undefined when it is not one. */
function clockHour(hour: string | undefined, half: string | undefined): number | undefined {
  const hours = Number(hour ?? 0);
  if (!half) return hours;
  if (hours < 1 || hours > 12) return undefined;
  return (hours % 12) + (half.toLowerCase() === 'p' ? 12 : 0);
}

/** Longer than any date a page writes ("Wednesday, September 25th, 2024 at 10:45 a.m. GMT+09:00" is 55). */
const MAX_PAGE_DATE_CHARS = 80;

const monthOf = (name: string) => {
  const lower = name.toLowerCase();
  return MONTHS[lower.slice(0, lower.startsWith('sept') ? 4 : 3)];
};

/** A date's parts as written; no year where the page leaves it out (the year it was read in, see parsePageDate). */
type DateParts = [
  year: number | undefined,
  month: number | undefined,
  day: number,
  hour: number | undefined,
  minute: number,
  second: number,
  zone: string | undefined,
];

/** The parts of a date a page writes in one of its own forms (see parsePageDate), or undefined. */
function pageDateParts(value: string, order: DateOrder | undefined): DateParts | undefined {
  const numeric = NUMERIC_PAGE_DATE.exec(value);
  if (numeric) {
    const [, year, month, day, hour, minute, second, zoneName] = numeric;
    return [Number(year), Number(month) - 1, Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0), zoneName];
  }
  const named = NAMED_PAGE_DATE.exec(value);
  if (named) {
    const [, monthFirst, dayAfter, dayFirst, monthAfter, year, hour, minute, second, half, zoneName] = named;
    return [
      year === undefined ? undefined : Number(year),
      monthOf(monthFirst ?? monthAfter!),
      Number(dayAfter ?? dayFirst),
      clockHour(hour, half),
      Number(minute ?? 0),
      Number(second ?? 0),
      zoneName,
    ];
  }
  const japanese = JAPANESE_NO_YEAR.exec(value);
  if (japanese) {
    const [, month, day, hour, minute, second, zoneName] = japanese;
    return [undefined, Number(month) - 1, Number(day), Number(hour ?? 0), Number(minute ?? 0), Number(second ?? 0), zoneName];
  }
  const yearLast = order ? YEAR_LAST_PAGE_DATE.exec(value) : null;
  if (yearLast) {
    const [, first, second, year, hour, minute, seconds, half, zoneName] = yearLast;
    const [day, month] = order === 'day-first' ? [first, second] : [second, first];
    return [Number(year), Number(month) - 1, Number(day), clockHour(hour, half), Number(minute ?? 0), Number(seconds ?? 0), zoneName];
  }
  return undefined;
}

/**
 * How a source's pages write their dates: the zone of their clock, the order of year-last numeric dates, and when
 * they are read (for dates without a year).
 */
export interface PageDateReading {
  zone?: ZoneDays;
  order?: DateOrder;
  now?: Date;
}

const DAY_MS = 86_400_000;

/**
 * A date as a web page writes it (a scraped listing): a year-first numeric date or one with a month's name, with an
 * optional time (12- or 24-hour) and zone, else a feed date. Without a zone, the clock of `zone` (the source's
 * `scrape.timeZone`, UTC by default). Without a year (a month's name, or 月 and 日), the year at `now`. A numeric
 * date with the year last (02/06/2024: which is the month?) only in the order the source says (`scrape.dateOrder`).
 * Dates relative to the fetch ("3 hours ago", "08:06") are parseRelativePageDate's.
 */
export function parsePageDate(text: string | null | undefined, reading: PageDateReading = {}): Date | undefined {
  if (!text) return undefined;
  const value = text.trim().replace(/\s+/g, ' ');
  if (value.length > MAX_PAGE_DATE_CHARS) return undefined;
  const parts = pageDateParts(value, reading.order);
  if (!parts) return parseFeedDate(value);
  const [year, month, day, hour, minute, second, zoneName] = parts;
  if (month === undefined || hour === undefined) return undefined;
  const at = (inYear: number) => {
    const offset = zoneName ? parseZone(zoneName) : 0;
    const date = offset === undefined ? undefined : utc(inYear, month, day, hour, minute, second, 0, offset);
    return !date || zoneName || !reading.zone ? date : new Date(reading.zone.instant(date.getTime()));
  };
  if (year !== undefined) return at(year);
  // No year: the year it was read in, where the page's clock is; last year's when that is more than a day ahead
  // (2 January reading "Dec 31").
  if (!reading.now) return undefined;
  const now = reading.now.getTime();
  const thisYear = reading.zone ? Number(reading.zone.date(now).slice(0, 4)) : reading.now.getUTCFullYear();
  const date = at(thisYear);
  return date && date.getTime() > now + DAY_MS ? at(thisYear - 1) : date;
}

/** How long each unit of a relative date is: "3 hours ago", "5分前". */
const RELATIVE_UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };
const JAPANESE_UNIT: Record<string, string> = { 秒: 's', 分: 'm', 時間: 'h', 日: 'd', 週間: 'w' };
/** "3 hours ago", "an hour ago", "5 mins ago", "2d ago", "about 1 hour ago". */
const RELATIVE_DATE = /^(?:about |over |almost )?(\d{1,4}|an?|one) ?(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|[smhdw]) ago$/i;
/** "5分前", "3時間前", "2日前". */
const JAPANESE_RELATIVE_DATE = /^(\d{1,4}) ?(秒|分|時間|日|週間)前$/;
const JUST_NOW = /^(?:just now|now|たった今|今)$/i;
/** "Today", "Yesterday at", "昨日", before an optional time. */
const DAY_WORD = /^(today|yesterday|今日|きょう|本日|昨日|きのう)(?:,? ?(?:at )?|$)/i;
/** "08:06", "8:06 p.m.", "20:06:19 JST", "8時6分": a time alone, with an optional zone. */
const TIME_ALONE = new RegExp(String.raw`^(\d{1,2}) ?[:.時] ?(\d{1,2})(?::(\d{2}))? ?分?(?: ?([ap])\.? ?m\.?)?${ZONE_AT_END}`, 'i');

/**
 * A date a page writes relative to when it is read: "3 hours ago", "5分前", "just now", "Yesterday", "Today 08:06",
 * "昨日 23:50", or a time alone ("08:06": today's, or yesterday's when that would be later than `now`), in the page's
 * clock. Such a reading moves with the time of the fetch, so the listing marks it approximate: it files an item when
 * first seen and never revises it (see ParsedItem.dateApproximate). Undefined for anything else, or without `now`.
 */
export function parseRelativePageDate(text: string | null | undefined, reading: PageDateReading): Date | undefined {
  if (!text || !reading.now) return undefined;
  const value = text.trim().replace(/\s+/g, ' ');
  if (value.length > MAX_PAGE_DATE_CHARS) return undefined;
  const now = reading.now.getTime();
  if (JUST_NOW.test(value)) return new Date(now);
  const relative = RELATIVE_DATE.exec(value);
  if (relative) {
    const [, count, unit] = relative;
    return new Date(now - (/^\d/.test(count!) ? Number(count) : 1) * RELATIVE_UNIT_MS[unit!.charAt(0).toLowerCase()]!);
  }
  const japanese = JAPANESE_RELATIVE_DATE.exec(value);
  if (japanese) return new Date(now - Number(japanese[1]) * RELATIVE_UNIT_MS[JAPANESE_UNIT[japanese[2]!]!]!);
  const word = DAY_WORD.exec(value);
  const daysBack = word ? Number(/^(yesterday|昨日|きのう)$/i.test(word[1]!)) : 0;
  const rest = word ? value.slice(word[0].length) : value;
  if (word && rest === '') return new Date(now - daysBack * DAY_MS); // "Yesterday": its time not written
  const time = TIME_ALONE.exec(rest);
  if (!time) return undefined;
  const [, hourText, minute, second, half, zoneName] = time;
  const hour = clockHour(hourText, half);
  const offset = zoneName ? parseZone(zoneName) : 0;
  if (hour === undefined || hour > 23 || Number(minute) > 59 || offset === undefined) return undefined;
  const dayOf = (back: number) => {
    // The page's date today (in the zone written beside the time, else its clock's), `back` days before.
    const today = zoneName || !reading.zone ? new Date(now + offset * 60_000).toISOString().slice(0, 10) : reading.zone.date(now);
    const wall = Date.parse(`${today}T00:00:00Z`) - back * DAY_MS + ((hour * 60 + Number(minute)) * 60 + Number(second ?? 0)) * 1000;
    return zoneName || !reading.zone ? wall - offset * 60_000 : reading.zone.instant(wall);
  };
  const at = dayOf(daysBack);
  // A time alone later than now (beyond a clock's skew) is yesterday's: a listing shows today's items by their time.
  return new Date(!word && at > now + FUTURE_TOLERANCE_MS ? dayOf(1) : at);
}

export interface ItemDate {
  date: Date;
  /** True when the feed's date was missing or unusable and first-seen time stands in for it. */
  estimated: boolean;
}

/** Clock skew we accept before calling a date "in the future". */
const FUTURE_TOLERANCE_MS = 15 * 60_000;

/**
 * The date an item is filed under: its own date; or the first-seen time, flagged as estimated, when it has none or
 * claims to be far in the future (a wrong zone or a scheduled post). Estimated dates never take part in identity,
 * so a dateless item is not stored again on every fetch.
 */
export function resolveItemDate(candidates: Array<string | null | undefined>, firstSeen: Date): ItemDate {
  for (const candidate of candidates) {
    const date = parseFeedDate(candidate);
    if (!date) continue;
    if (date.getTime() > firstSeen.getTime() + FUTURE_TOLERANCE_MS) break;
    return { date, estimated: false };
  }
  return { date: firstSeen, estimated: true };
}
