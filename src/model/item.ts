/** Attached media: RSS <enclosure>, Atom rel="enclosure", Media RSS, JSON Feed attachments. */
export interface Enclosure {
  url: string;
  type?: string;
  /** Size in bytes, when the feed says. */
  length?: number;
}

/** An item ready for identity, clustering, storage and matching. */
export interface NormalizedItem {
  guid?: string;
  /** Canonical http(s) URL of the item's page. */
  url?: string;
  shortUrl?: string;
  title: string;
  /** Plain-text summary (an excerpt of the content when the feed gives none). */
  summary?: string;
  /** Sanitized HTML with absolute URLs. */
  contentHtml?: string;
  /** Plain text of the content (or of the summary when there is no content). */
  contentText?: string;
  /**
   * True when contentText is contentHtml's own text, as the normalizer reads HTML: a store may keep the HTML alone and
   * read the text back from it (normalize's storedContentText), since both would hold nearly the same characters.
   */
  textFromHtml?: boolean;
  author?: string;
  categories: string[];
  language?: string;
  imageUrl?: string;
  /** Attached media with absolute http(s) URLs (none when absent). */
  enclosures?: Enclosure[];
  publishedAt: Date;
  dateEstimated: boolean;
  /** parsedItemHasher's hash of the item it was normalized from, when the pipeline computed one. */
  parsedHash?: string;
}
