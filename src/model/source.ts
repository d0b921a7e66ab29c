/**
 * Which addresses a source may connect to. By default only public unicast addresses; a source can opt in to all
 * private ranges (`allowPrivateNetwork: true`) or to a list of addresses and CIDR ranges.
 */
export type NetworkPolicy = { kind: 'public-only' } | { kind: 'any' } | { kind: 'allow-list'; entries: string[] };

/** A feed the operator listed, as the config defines it. */
export interface Source {
  id: string;
  /** Absolute URL; file: URLs in YAML are resolved against the YAML file's folder. */
  url: string;
  title?: string;
  pollSeconds: number;
  priority: number;
  tags: string[];
  shortUrlHosts: string[];
  network: NetworkPolicy;
  /** Fetch the page of each new item whose feed text is short, and keep the article read from it. */
  fullText?: boolean;
}

export const DEFAULT_POLL_SECONDS = 15 * 60;

/** How a feed asks to be polled: RSS <ttl> (minutes), <skipHours> (GMT hours) and <skipDays> (day names). */
export interface FeedSchedule {
  ttlMinutes?: number;
  skipHours?: number[];
  skipDays?: string[];
}

/**
 * The items of the last document stored whole, by the hash of each one's XML: an item the next document carries
 * unchanged is known without being parsed, as long as what items take from their feed (`inherited`: the base URL
 * and language) is the same.
 */
export interface DocumentItemHashes {
  inherited: string;
  hashes: string[];
}
