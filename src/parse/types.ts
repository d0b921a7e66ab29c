/** A feed document reduced to what Wirefeed needs, before normalization; every field is as the feed wrote it. */
import type { Enclosure } from '../model/item.js';
import type { HubLinks } from '../model/source.js';

export interface ParsedFeed {
  format: 'rss' | 'rdf' | 'atom' | 'json' | 'html';
  title?: string;
  titleType?: 'text' | 'html';
  siteUrl?: string;
  language?: string;
  /** Base URL the document declares (xml:base on the root), if any. */
  baseUrl?: string;
  /** When the feed says it last changed, as written. */
  updated?: string;
  /** RSS <ttl> in minutes, <skipHours> (GMT hours) and <skipDays> (day names): how the feed asks to be polled. */
  ttlMinutes?: number;
  skipHours?: number[];
  skipDays?: string[];
  /** Where the feed says its updates are pushed (WebSub): its hub and self links, as written. */
  push?: HubLinks;
  items: ParsedItem[];
  /** What was read leniently (a document that bent a rule), for the log. */
  warnings?: string[];
  /** The document was cut off (a transfer that broke): only its complete items were read. */
  truncated?: boolean;
}

export interface ParsedItem {
  guid?: string;
  /** The guid is the article's permanent link (RSS isPermaLink absent or true, and an absolute http(s) URL). */
  guidIsLink?: boolean;
  /** The item's main (alternate) link. */
  link?: string;
  /** A short link the feed declares (atom:link rel="shortlink"). */
  shortLink?: string;
  title?: string;
  /** Whether the title is plain text (JSON Feed, Atom type="text") or may hold markup and entities (RSS, Atom "html"). */
  titleType: 'text' | 'html';
  /** Full content (content:encoded, Atom content, JSON content_html) as HTML. */
  contentHtml?: string;
  /** Description or summary as HTML (plain text is valid HTML here). */
  summaryHtml?: string;
  /** Plain text content (JSON Feed content_text). */
  contentText?: string;
  /** Date strings in order of preference: published first, then updated. */
  dates: string[];
  /**
   * The date was read relative to the fetch ("3 hours ago", a time alone on a listing page): it files the item when
   * first seen but is not its identity's, since the next fetch reads another (the item is dateEstimated).
   */
  dateApproximate?: boolean;
  author?: string;
  categories: string[];
  language?: string;
  imageUrl?: string;
  /** The entry's own xml:base, resolved against the document's. */
  baseUrl?: string;
  /** Attached media as written: RSS <enclosure>, Atom rel="enclosure" links, Media RSS audio and video, JSON attachments. */
  enclosures?: Enclosure[];
}

export class FeedParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedParseError';
  }
}
