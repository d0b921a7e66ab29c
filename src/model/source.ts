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
}

export const DEFAULT_POLL_SECONDS = 15 * 60;

/** How a feed asks to be polled: RSS <ttl> (minutes), <skipHours> (GMT hours) and <skipDays> (day names). */
export interface FeedSchedule {
  ttlMinutes?: number;
  skipHours?: number[];
  skipDays?: string[];
}
