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
}

export const DEFAULT_TOPIC_LIMIT = 50;
