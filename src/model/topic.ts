import type { ProxySetting } from './source.js';

/** A published topic feed: the stories whose items match `query` (and not `exclude`). */
export interface Topic {
  slug: string;
  title: string;
  description?: string;
  query: string;
  exclude?: string;
  /** Only items from these sources (ids or tags). */
  sources?: string[];
  /** Only items in these languages (lower-case primary tags). */
  language?: string[];
  /** Stories per feed page. */
  limit: number;
  /** How far back a new or changed topic is matched against stored items. */
  backfillDays?: number;
  /** The time zone (IANA name) whose days the topic's daily digest lists; unset: publish.timeZone. */
  timeZone?: string;
  /** When the digest's days start and its entries appear, in minutes after local midnight; unset: publish.digestAt. */
  digestAtMinutes?: number;
  /** Where the topic's new stories are POSTed, with `${NAME}` references read from the environment; names unique. */
  webhooks?: TopicWebhook[];
  /**
   * Access tokens that open this topic's feeds, page and digest (besides publish.token's): a topic with tokens asks
   * for one, and is listed only to readers with one.
   */
  tokens?: string[];
}

/** A topic's webhook: the URL and the signing secret hold secrets, and are kept out of the store, the logs and the pages. */
export interface TopicWebhook {
  /** What tells the topic's webhooks apart: its queue's key, '' for the one a topic may leave unnamed. */
  name: string;
  url: string;
  secret?: string;
  /** What is POSTed: a JSON Feed of the new stories (the default), a message for Slack's or Discord's webhooks, or an ntfy or Apprise notification. */
  format?: WebhookFormat;
  /** Headers the receiver asks for (an Authorization token), names in lower case. */
  headers?: Record<string, string>;
  /** The proxy its POSTs go through (its own `proxy`, else `fetch.proxy` or the environment's); none: straight to the receiver. */
  proxy?: ProxySetting;
}

export const WEBHOOK_FORMATS = ['jsonfeed', 'slack', 'discord', 'ntfy', 'apprise'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** How logs, metrics and commands name a webhook: its name, or its format when it has none. */
export const webhookLabel = (webhook: TopicWebhook) => webhook.name || (webhook.format ?? 'jsonfeed');

export const DEFAULT_TOPIC_LIMIT = 50;
