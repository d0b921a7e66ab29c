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
  /** Where the topic's new stories are POSTed, with `${NAME}` references read from the environment. */
  webhook?: TopicWebhook;
}

/** A topic's webhook: the URL and the signing secret hold secrets, and are kept out of the store, the logs and the pages. */
export interface TopicWebhook {
  url: string;
  secret?: string;
}

export const DEFAULT_TOPIC_LIMIT = 50;
