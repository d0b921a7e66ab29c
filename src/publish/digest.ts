/**
 * A topic's daily digest: one entry per day (in the topic's time zone) listing the day's stories, for a busy topic
 * read once a day. Only finished days are listed, so an entry never changes once a reader has it (today's stories are
 * in tomorrow's). Pure: the caller reads the stories, `renderFeed` writes the entries.
 */
import { ZoneDays } from '../model/days.js';
import { escapeHtml } from '../model/escape.js';
import { type FeedEntry, ownEntry } from '../model/story.js';
import type { Topic } from '../model/topic.js';
import { type FeedFormat, isWebLink, topicPageUrl } from '../model/urls.js';
import type { Channel } from './render.js';

/** Finished days a digest lists. */
export const DIGEST_DAYS = 7;
/** Stories one day's entry lists at most; the rest are counted (the topic's page has them all). */
export const DIGEST_STORIES_PER_DAY = 100;
/**
 * Stories read for one digest, newest first: three times what its entries can list. A topic busier than that over the
 * window has its oldest days listed short or not at all (their entries still count every story), never its newest.
 */
export const DIGEST_READ_LIMIT = 3 * DIGEST_STORIES_PER_DAY * DIGEST_DAYS;

/** Where a topic's digest is served. */
export const digestUrl = (baseUrl: string, slug: string, format: FeedFormat) => `${baseUrl}/topics/${slug}/digest.${format}`;

/** The digest's channel: the topic's page, the digest's own feed URLs. */
export function digestChannel(baseUrl: string, topic: Topic, timeZone: string, startMinutes = 0): Channel {
  const days = `${timeZone === 'UTC' ? 'UTC days' : `days in ${timeZone}`}${startMinutes === 0 ? '' : ` from ${clockTime(startMinutes)}`}`;
  return {
    title: `${topic.title} (daily digest)`,
    description: `One entry a day listing the day's stories of the Wirefeed topic ${topic.title} (${days}).`,
    pageUrl: topicPageUrl(baseUrl, topic.slug),
    feedUrl: (format) => digestUrl(baseUrl, topic.slug, format),
  };
}

/** One story's line: its title linking the outlet's page, and who carried it. */
function storyLine(entry: FeedEntry): string {
  const title = escapeHtml(entry.title);
  const link = isWebLink(entry.url) ? `<a href="${escapeHtml(entry.url)}">${title}</a>` : title;
  const outlets = [entry.sourceTitle ?? entry.sourceId, ...entry.alsoReportedBy.map((outlet) => outlet.sourceTitle ?? outlet.sourceId)];
  return `<li>${link} (${outlets.map(escapeHtml).join(', ')})</li>`;
}

/** What a digest is made of: the topic's stories of its days, newest first, and how many each day holds in all. */
export interface DigestStories {
  stories: readonly FeedEntry[];
  /** Day start (ms) to the day's story count, where more than `stories` holds (a read bounded by its limit). */
  counts: ReadonlyMap<number, number>;
}

/** "06:00" for 360 minutes after midnight. */
const clockTime = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** The finished days a digest lists, in its time zone. */
export interface DigestWindow {
  /** The zone's days, starting at midnight or at the hour the digest is read (publish.digestAt). */
  days: ZoneDays;
  startMinutes: number;
  /** Where each day starts (ms), oldest first, and then today: `days + 1` instants. */
  starts: readonly number[];
}

/**
 * The days a digest made at `now` lists: the `count` finished days of `timeZone` before today, each starting
 * `startMinutes` after midnight.
 */
export function digestWindow(now: Date, timeZone = 'UTC', startMinutes = 0, count = DIGEST_DAYS): DigestWindow {
  const days = new ZoneDays(timeZone, startMinutes);
  const starts = [days.dayStart(now.getTime())];
  while (starts.length <= count) starts.unshift(days.dayStart(starts[0]! - 1));
  return { days, startMinutes, starts };
}

/**
 * digestWindow for a server: each time zone's window is worked out once a day (about 0.3 ms with Intl's calendar) and
 * reused until the next day starts there, rather than on every digest request.
 */
export function digestWindows(): (now: Date, timeZone: string, startMinutes?: number) => DigestWindow {
  const windows = new Map<string, { window: DigestWindow; until: number }>();
  return (now, timeZone, startMinutes = 0) => {
    const key = `${timeZone} ${startMinutes}`;
    const known = windows.get(key);
    if (known && now.getTime() >= known.window.starts.at(-1)! && now.getTime() < known.until) return known.window;
    const window = digestWindow(now, timeZone, startMinutes);
    windows.set(key, { window, until: window.days.nextDayStart(window.starts.at(-1)!) });
    return window;
  };
}

/** The index of the window's day holding `ms`, or -1 outside the window. */
function dayIndex(starts: readonly number[], ms: number): number {
  if (ms < starts[0]! || ms >= starts.at(-1)!) return -1;
  let day = 0;
  while (ms >= starts[day + 1]!) day++;
  return day;
}

/** The digest's entries, newest day first: each finished day of the window that has stories. */
export function digestEntries(channel: Channel, slug: string, { stories, counts }: DigestStories, { days, startMinutes, starts }: DigestWindow): FeedEntry[] {
  const byDay = new Map<number, FeedEntry[]>([...counts.keys()].filter((start) => starts.slice(0, -1).includes(start)).map((start) => [start, []]));
  for (const story of stories) {
    const day = dayIndex(starts, story.publishedAt.getTime());
    if (day < 0) continue;
    const listed = byDay.get(starts[day]!);
    if (listed) listed.push(story);
    else byDay.set(starts[day]!, [story]);
  }
  return [...byDay.entries()]
    .sort(([a], [b]) => b - a)
    .map(([start, listed]) => {
      const end = starts[starts.indexOf(start) + 1]!;
      const shown = listed.slice(0, DIGEST_STORIES_PER_DAY);
      const total = Math.max(counts.get(start) ?? 0, listed.length);
      const more = total - shown.length;
      const stories = `${total} ${total === 1 ? 'story' : 'stories'}`;
      // A calendar day is named by its date; a day read in the morning by the time it ends ("to 06:00 on 2024-06-03").
      const date = days.date(startMinutes === 0 ? start : end);
      const clock = clockTime(startMinutes);
      const [id, title] = startMinutes === 0 ? [date, `${stories} on ${date}`] : [`${date}-${clock.replace(':', '')}`, `${stories} to ${clock} on ${date}`];
      return ownEntry({
        storyId: `digest-${slug}-${id}`,
        publishedAt: new Date(end),
        title,
        url: channel.pageUrl,
        contentHtml: `${shown.length > 0 ? `<ul>${shown.map(storyLine).join('')}</ul>` : ''}${more > 0 ? `<p>…and ${more} more on the topic's page.</p>` : ''}`,
      });
    });
}
