/**
 * A topic's daily digest: one entry per UTC day listing the day's stories, for a busy topic read once a day. Only
 * finished days are listed, so an entry never changes once a reader has it (today's stories are in tomorrow's).
 * Pure: the caller reads the stories, `renderFeed` writes the entries.
 */
import { escapeHtml } from '../model/escape.js';
import { type FeedEntry, ownEntry } from '../model/story.js';
import type { Topic } from '../model/topic.js';
import { type FeedFormat, topicPageUrl } from '../model/urls.js';
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

const DAY_MS = 86_400_000;

/** The start of the UTC day holding `time`. */
export const utcDayStart = (time: Date) => new Date(Math.floor(time.getTime() / DAY_MS) * DAY_MS);

/** Where a topic's digest is served. */
export const digestUrl = (baseUrl: string, slug: string, format: FeedFormat) => `${baseUrl}/topics/${slug}/digest.${format}`;

/** The digest's channel: the topic's page, the digest's own feed URLs. */
export function digestChannel(baseUrl: string, topic: Topic): Channel {
  return {
    title: `${topic.title} (daily digest)`,
    description: `One entry a day listing the day's stories of the Wirefeed topic ${topic.title} (UTC days).`,
    pageUrl: topicPageUrl(baseUrl, topic.slug),
    feedUrl: (format) => digestUrl(baseUrl, topic.slug, format),
  };
}

/** One story's line: its title linking the outlet's page, and who carried it. */
function storyLine(entry: FeedEntry): string {
  const title = escapeHtml(entry.title);
  const link = entry.url && /^https?:\/\//i.test(entry.url) ? `<a href="${escapeHtml(entry.url)}">${title}</a>` : title;
  const outlets = [entry.sourceTitle ?? entry.sourceId, ...entry.alsoReportedBy.map((outlet) => outlet.sourceTitle ?? outlet.sourceId)];
  return `<li>${link} (${outlets.map(escapeHtml).join(', ')})</li>`;
}

/** What a digest is made of: the topic's stories of its days, newest first, and how many each day holds in all. */
export interface DigestStories {
  stories: readonly FeedEntry[];
  /** Day start (ms) to the day's story count, where more than `stories` holds (a read bounded by its limit). */
  counts: ReadonlyMap<number, number>;
}

/** The days a digest made at `now` lists: from `since` up to the start of today (UTC). */
export function digestWindow(now: Date, days = DIGEST_DAYS): { since: Date; until: Date } {
  const until = utcDayStart(now);
  return { since: new Date(until.getTime() - days * DAY_MS), until };
}

/** The digest's entries, newest day first: each finished UTC day of the window before `now` that has stories. */
export function digestEntries(channel: Channel, slug: string, { stories, counts }: DigestStories, now: Date, days = DIGEST_DAYS): FeedEntry[] {
  const { since, until } = digestWindow(now, days);
  const inWindow = (day: number) => day >= since.getTime() && day < until.getTime();
  const byDay = new Map<number, FeedEntry[]>([...counts.keys()].filter(inWindow).map((day) => [day, []]));
  for (const story of stories) {
    const day = utcDayStart(story.publishedAt).getTime();
    if (!inWindow(day)) continue;
    const listed = byDay.get(day);
    if (listed) listed.push(story);
    else byDay.set(day, [story]);
  }
  return [...byDay.entries()]
    .sort(([a], [b]) => b - a)
    .map(([day, listed]) => {
      const date = new Date(day).toISOString().slice(0, 10);
      const shown = listed.slice(0, DIGEST_STORIES_PER_DAY);
      const total = Math.max(counts.get(day) ?? 0, listed.length);
      const more = total - shown.length;
      const end = new Date(day + DAY_MS);
      return ownEntry({
        storyId: `digest-${slug}-${date}`,
        publishedAt: end,
        title: `${total} ${total === 1 ? 'story' : 'stories'} on ${date}`,
        url: channel.pageUrl,
        contentHtml: `${shown.length > 0 ? `<ul>${shown.map(storyLine).join('')}</ul>` : ''}${more > 0 ? `<p>…and ${more} more on the topic's page.</p>` : ''}`,
      });
    });
}
