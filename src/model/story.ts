import type { Enclosure } from './item.js';

/** Another outlet's version of a story. */
export interface Outlet {
  sourceId: string;
  sourceTitle: string | null;
  title: string;
  url: string | null;
}

/** A story as a topic feed publishes it: its representative version, and the outlets that also carried it. */
export interface FeedEntry {
  storyId: string;
  publishedAt: Date;
  updatedAt: Date;
  title: string;
  url: string | null;
  summary: string | null;
  contentHtml: string | null;
  author: string | null;
  categories: string[];
  language: string | null;
  imageUrl: string | null;
  enclosures: Enclosure[];
  sourceId: string;
  sourceTitle: string | null;
  /** The story's other versions, earliest first ("Also reported by"). */
  alsoReportedBy: Outlet[];
}

/**
 * An entry Wirefeed writes itself rather than an outlet (a digest's day, a test delivery): what it has, the rest empty,
 * credited to Wirefeed unless `fields` say otherwise.
 */
export const ownEntry = (fields: Pick<FeedEntry, 'storyId' | 'publishedAt' | 'title' | 'url'> & Partial<FeedEntry>): FeedEntry => ({
  updatedAt: fields.publishedAt,
  summary: null,
  contentHtml: null,
  author: null,
  categories: [],
  language: null,
  imageUrl: null,
  enclosures: [],
  sourceId: 'wirefeed',
  sourceTitle: 'Wirefeed',
  alsoReportedBy: [],
  ...fields,
});

/** Where a page of a topic feed ends: entries are ordered by (published_at, story_id), newest first. */
export interface FeedCursor {
  publishedAt: Date;
  storyId: string;
}

/** A story as the index page lists it. */
export type Headline = Pick<FeedEntry, 'storyId' | 'title' | 'url' | 'sourceId' | 'sourceTitle' | 'publishedAt'>;

/** A story with every outlet's version, for inspecting clustering. */
export interface StoryListing {
  storyId: string;
  publishedAt: Date;
  updatedAt: Date;
  /** Every version, the representative first, then by time. */
  versions: Array<{ sourceId: string; title: string; url: string | null; guid: string | null; publishedAt: Date; revision: number }>;
}
