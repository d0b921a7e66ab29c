/**
 * What a topic's webhook is sent, as pure functions: the body in its format (a JSON Feed of the new stories, a Slack
 * or Discord message, an ntfy or Apprise notification) and the headers, signed as Standard Webhooks sign. worker/webhooks.ts delivers them.
 */
import { createHmac } from 'node:crypto';
import { USER_AGENT } from '../fetch/index.js';
import type { Alert } from '../model/alerts.js';
import { type FeedEntry, ownEntry } from '../model/story.js';
import type { Topic, TopicWebhook } from '../model/topic.js';
import { appriseMessage, discordMessage, ntfyMessage, slackMessage } from './chat.js';
import { type Channel, renderFeed, topicChannel } from './render.js';

/**
 * The Standard Webhooks signature of a message: HMAC-SHA256 of `id.timestamp.body` in base64, after "v1,". A secret
 * written as `whsec_<base64>` (as Standard Webhooks libraries make them) is that key's bytes; any other is its UTF-8.
 */
export function webhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** A topic with a webhook. */
export type WebhookTopic = Topic & { webhook: TopicWebhook };

/** What a delivery says happened: new stories, a test the operator sent (`wirefeed topics test-webhook`), or sources' health. */
export type WebhookEvent = 'new_stories' | 'test' | 'source_alerts';

/** What a delivery POSTs. */
export interface WebhookMessage {
  body: string;
  contentType: string;
  /** Where, when not the webhook's URL (ntfy's JSON goes to the server's root). */
  url?: string;
}

/** A delivery's body in its webhook's format (its links on the server at `publicUrl`, as config load leaves it: no trailing slash), and its content type. */
export function webhookBody(publicUrl: string, topic: WebhookTopic, entries: FeedEntry[], event: WebhookEvent = 'new_stories'): WebhookMessage {
  return messageOf(topic.webhook, topicChannel(publicUrl, topic), entries, { event, topic: topic.slug });
}

/** The channel of alerts: "Wirefeed alerts: 2 alerts", the rest on the sources page. */
const alertsChannel = (publicUrl: string): Channel => ({
  title: 'Wirefeed alerts',
  description: "Changes in the health of Wirefeed's sources and webhooks",
  pageUrl: `${publicUrl}/sources`,
  feedUrl: () => `${publicUrl}/sources`,
  tally: { count: (entries) => `${entries} alert${entries === 1 ? '' : 's'}`, restAt: 'the sources page' },
});

/**
 * `worker.alerts`' body: each alert an entry written by Wirefeed (what happened its title, what it is about its
 * byline, where to look its link), in the webhook's format.
 */
export function alertsBody(
  publicUrl: string,
  webhook: TopicWebhook,
  alerts: readonly Alert[],
  at: Date,
  event: Extract<WebhookEvent, 'source_alerts' | 'test'> = 'source_alerts',
): WebhookMessage {
  const entries = alerts.map((alert) =>
    ownEntry({ storyId: `alert-${alert.key}-${at.getTime()}`, publishedAt: at, title: alert.text, url: alert.url, sourceTitle: alert.about }),
  );
  return messageOf(webhook, alertsChannel(publicUrl), entries, { event });
}

/** Entries on a channel as the webhook's format has them. */
function messageOf(webhook: TopicWebhook, channel: Channel, entries: FeedEntry[], extension: Record<string, string>): WebhookMessage {
  switch (webhook.format ?? 'jsonfeed') {
    case 'slack':
      return { body: slackMessage(channel, entries), contentType: 'application/json' };
    case 'discord':
      return { body: discordMessage(channel, entries), contentType: 'application/json' };
    case 'apprise':
      return { body: appriseMessage(channel, entries), contentType: 'application/json' };
    case 'ntfy': {
      const { root, topic: ntfyTopic } = ntfyTarget(webhook.url);
      return { body: ntfyMessage(channel, entries, ntfyTopic), contentType: 'application/json', url: root };
    }
    case 'jsonfeed':
      return { body: renderFeed('json', { channel, entries, extension }), contentType: 'application/feed+json; charset=utf-8' };
  }
}

/**
 * Where an ntfy topic's URL (https://ntfy.sh/wirefeed-security, maybe under a path, maybe with ?auth=) publishes JSON:
 * the same URL without its last path segment, which is the topic.
 */
export function ntfyTarget(url: string): { root: string; topic: string } {
  const parsed = new URL(url);
  const segments = parsed.pathname.split('/');
  const topic = decodeURIComponent(segments.pop() ?? '');
  parsed.pathname = `${segments.join('/')}/`;
  return { root: parsed.href, topic };
}

/** The headers of one delivery; the id stays the same when the same stories are sent again. */
export function webhookHeaders(webhook: TopicWebhook, id: string, timestamp: number, body: string, contentType: string): Record<string, string> {
  return {
    // The receiver's own first (config refuses the names below among them).
    ...webhook.headers,
    'content-type': contentType,
    'user-agent': USER_AGENT,
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    ...(webhook.secret ? { 'webhook-signature': webhookSignature(webhook.secret, id, timestamp, body) } : {}),
  };
}
