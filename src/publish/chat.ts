/**
 * A topic's new stories as a chat message or a push notification, for webhooks that post to Slack, Discord or ntfy
 * directly: a line per story, linking the outlet's page where the service links. Titles and names are outside text: escaped so that they show as written and can
 * neither mention anyone (@everyone, <!channel>), nor format, nor link.
 */
import type { FeedEntry } from '../model/story.js';
import { isWebLink } from '../model/urls.js';
import type { Channel } from './render.js';

/** The most characters Discord takes in a message's content. */
export const DISCORD_MAX_CHARS = 2_000;

/** The longest title a message shows (titles are cut at 256 KiB; a chat line is not). */
const MAX_TITLE_CHARS = 300;

/** A URL in a chat link: the characters that would end the link early percent-encoded (it means the same either way). */
const chatUrl = (url: string) => url.replace(/[\s<>|()]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/** The story's link: the outlet's page when it is http(s), else the story on the topic's page. */
const storyLink = (channel: Channel, entry: FeedEntry) => chatUrl(isWebLink(entry.url) ? entry.url : `${channel.pageUrl}#story-${entry.storyId}`);

/** The title on one line, cut to MAX_TITLE_CHARS. */
function titleOf(entry: FeedEntry): string {
  const title = entry.title.replace(/\s+/g, ' ');
  return title.length > MAX_TITLE_CHARS ? `${title.slice(0, MAX_TITLE_CHARS - 1)}…` : title;
}

/** "JIJI Press (also Arab News, Japan Today)": who carried the story. */
function outlets(entry: FeedEntry): string {
  const first = entry.sourceTitle ?? entry.sourceId;
  const others = entry.alsoReportedBy.map((outlet) => outlet.sourceTitle ?? outlet.sourceId);
  return others.length > 0 ? `${first} (also ${others.join(', ')})` : first;
}

/** "3 new stories", or as the channel counts its entries. */
const count = (channel: Channel, entries: readonly FeedEntry[]) =>
  channel.tally?.count(entries.length) ?? `${entries.length} new ${entries.length === 1 ? 'story' : 'stories'}`;

/** Slack's three control characters, escaped as Slack asks: text then shows as written and cannot link or mention. */
const slackText = (text: string) => text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'));

/** A Slack incoming-webhook message (mrkdwn `text`). */
export function slackMessage(channel: Channel, entries: readonly FeedEntry[]): string {
  const lines = entries.map((entry) => `• <${slackText(storyLink(channel, entry))}|${slackText(titleOf(entry))}> — ${slackText(outlets(entry))}`);
  return JSON.stringify({ text: [`*<${slackText(chatUrl(channel.pageUrl))}|${slackText(channel.title)}>*: ${count(channel, entries)}`, ...lines].join('\n') });
}

/** Discord markdown's active characters (and the start of a mention or a heading) backslash-escaped. */
const discordText = (text: string) => text.replace(/[\\*_~`|>#\-[\]()<@:]/g, '\\$&').replace(/\s+/g, ' ');

/**
 * A Discord webhook message: as many stories as fit in one message, then how many more and where they are. Links in
 * angle brackets (no previews); `allowed_mentions` empty, so that no text in it pings anyone whatever it holds.
 */
export function discordMessage(channel: Channel, entries: readonly FeedEntry[]): string {
  const heading = `**[${discordText(channel.title)}](<${chatUrl(channel.pageUrl)}>)**: ${count(channel, entries)}`;
  const lines = entries.map((entry) => `- [${discordText(titleOf(entry))}](<${storyLink(channel, entry)}>) — ${discordText(outlets(entry))}`);
  const content = fittedLines(channel, [heading, ...lines], DISCORD_MAX_CHARS, (text) => text.length).join('\n');
  return JSON.stringify({ content, allowed_mentions: { parse: [] } });
}

/**
 * The lines (a heading first, if any, and a line per story) that fit in `max` joined by newlines, as `size` measures;
 * when not all do, the last says how many stories more there are.
 */
function fittedLines(channel: Channel, lines: readonly string[], max: number, size: (text: string) => number, heading = 1): string[] {
  const fitted: string[] = [];
  let used = 0;
  for (const [index, line] of lines.entries()) {
    const more = `…and ${lines.length - index} more on ${channel.tally?.restAt ?? "the topic's page"}`;
    const room = index === lines.length - 1 ? 0 : size(more) + 1;
    if (index >= heading && used + size(line) + 1 + room > max) {
      fitted.push(more);
      break;
    }
    fitted.push(line);
    used += size(line) + 1;
  }
  return fitted;
}

/** The most bytes of a notification's text: ntfy turns a longer one into an attachment (4,096 by default). */
export const NOTIFICATION_MAX_BYTES = 4_000;

/**
 * An ntfy notification, published as JSON to the server's root for `topic`: the topic's name and how many new stories
 * as its title, a line per story as plain text (ntfy renders no markup unless asked, so titles need no escaping), as
 * many as fit, and a tap opening the story's page (one story) or the topic's.
 */
export function ntfyMessage(channel: Channel, entries: readonly FeedEntry[], topic: string): string {
  const lines = entries.map((entry) => `• ${titleOf(entry)} — ${outlets(entry)}`);
  const message = fittedLines(channel, lines, NOTIFICATION_MAX_BYTES, Buffer.byteLength, 0).join('\n');
  const click = entries.length === 1 ? storyLink(channel, entries[0]!) : channel.pageUrl;
  return JSON.stringify({ topic, title: `${channel.title}: ${count(channel, entries)}`, message, click, tags: ['newspaper'] });
}

/**
 * An Apprise API notification (POST /notify/<key>), which Apprise passes on to whatever services its key names
 * (Telegram, Matrix, Teams, e-mail…): plain text, so that no title formats or links in any of them, each story's
 * line followed by its page, as many as fit in NOTIFICATION_MAX_BYTES (Telegram's message holds 4,096 characters), and
 * the topic's page.
 */
export function appriseMessage(channel: Channel, entries: readonly FeedEntry[]): string {
  const lines = entries.map((entry) => `• ${titleOf(entry)} — ${outlets(entry)}\n${storyLink(channel, entry)}`);
  // The topic's page last, room kept for it.
  const page = chatUrl(channel.pageUrl);
  const body = [...fittedLines(channel, lines, NOTIFICATION_MAX_BYTES - Buffer.byteLength(page) - 1, Buffer.byteLength, 0), page].join('\n');
  return JSON.stringify({ title: `${channel.title}: ${count(channel, entries)}`, body, type: 'info', format: 'text' });
}
