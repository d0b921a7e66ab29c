/**
 * The store step's decisions, without I/O: which incoming items are duplicates, revisions or new, which story each
 * new item joins, and which stories merge. `store/items.ts` reads what the plan needs and writes what it decides.
 */
import type { NormalizedItem } from '../model/item.js';
import { byCodeUnits } from '../model/text.js';
import { type ClusterCandidate, matchingStories } from './cluster.js';
import { type Fingerprint, fingerprint, fingerprintBands } from './fingerprint.js';
import { contentHash, itemKey, newStoryId, titleKey } from './key.js';

/** What identifies an item: its dedup key, its title key (for guids that move) and the hash of its text. */
export interface Identity {
  key: string;
  titleKey: string;
  hash: string;
}

/** How the store step gets an item's identity: worked out ahead (outside the transaction) or now. */
export type IdentityOf = (item: NormalizedItem, sourceId: string) => Identity;

export const identityNow: IdentityOf = (item, sourceId) => ({ key: itemKey(item, sourceId), titleKey: titleKey(item, sourceId), hash: contentHash(item) });

/** An item of a document with its identities. */
export interface Incoming extends Identity {
  item: NormalizedItem;
  sourceId: string;
  /** Which document of the batch it came in. */
  document: number;
  /** The content hash of the stored version it was read again from (DocumentItems.reread), if it was. */
  rereadFrom: string | undefined;
}

/** One fetched document's items, as the store step receives them. */
export interface DocumentItems {
  sourceId: string;
  items: readonly NormalizedItem[];
  /**
   * Stored items read again (their article pages re-read by new rules), not fetched, by the content hash of the
   * version each was read from. Changed text revises them whatever their times (they carry their first timestamp,
   * while the stored version may have been revised since), unless the stored version changed meanwhile (a fetch
   * revised it): then the newer version stays.
   */
  reread?: ReadonlyMap<NormalizedItem, string>;
}

/** The stored version an incoming item is one of. */
export interface StoredVersion {
  id: number;
  storyId: string;
  publishedAt: Date;
  updatedAt: Date;
  contentHash: string;
}

export const textOf = (item: NormalizedItem) => item.contentText ?? item.summary ?? '';

/**
 * The documents' items by identity; the same key twice (in one document, or in two documents of one batch that
 * link the same page) keeps its newest version, the earlier document's on a tie. `repeats` counts the others per
 * document, as duplicates of that document.
 */
export function incomingOf(documents: readonly DocumentItems[], identityOf: IdentityOf = identityNow): { incoming: Incoming[]; repeats: number[] } {
  const newest = new Map<string, Incoming>();
  const repeats = documents.map(() => 0);
  for (const [document, { sourceId, items, reread }] of documents.entries()) {
    for (const item of items) {
      const { key, titleKey, hash } = identityOf(item, sourceId); // the work it may come with stays out of the entry
      const entry = { item, sourceId, document, rereadFrom: reread?.get(item), key, titleKey, hash };
      const seen = newest.get(entry.key);
      if (!seen) newest.set(entry.key, entry);
      else if (entry.item.publishedAt > seen.item.publishedAt) {
        repeats[seen.document]!++;
        newest.set(entry.key, entry);
      } else repeats[document]!++;
    }
  }
  return { incoming: [...newest.values()], repeats };
}

/**
 * A newer timestamp, or the same one with changed text, is a revision. An undated item (first-seen time) is revised
 * only when its text changes; one read again from its stored version, only when its text changes and that version is
 * still the one stored. Anything else is a refetch.
 */
export function revisionTime(entry: Incoming, stored: StoredVersion, now: Date): Date | undefined {
  const changed = entry.hash !== stored.contentHash;
  if (entry.rereadFrom !== undefined) return changed && stored.contentHash === entry.rereadFrom ? now : undefined;
  if (entry.item.dateEstimated) return changed ? now : undefined;
  if (entry.item.publishedAt > stored.updatedAt) return entry.item.publishedAt;
  if (changed && entry.item.publishedAt.getTime() === stored.updatedAt.getTime()) return now;
  return undefined;
}

export interface IdentityPlan<S extends StoredVersion> {
  fresh: Incoming[];
  revisions: Array<{ entry: Incoming; stored: S; updatedAt: Date }>;
  /** Refetches of stored versions: nothing to write. */
  duplicates: Incoming[];
}

/** Sorts a document's items into new ones, revisions of stored ones and refetches. */
export function planIdentities<S extends StoredVersion>(
  incoming: readonly Incoming[],
  storedOf: (entry: Incoming) => S | undefined,
  now: Date,
): IdentityPlan<S> {
  const plan: IdentityPlan<S> = { fresh: [], revisions: [], duplicates: [] };
  for (const entry of incoming) {
    const stored = storedOf(entry);
    if (!stored) plan.fresh.push(entry);
    else {
      const updatedAt = revisionTime(entry, stored, now);
      if (updatedAt) plan.revisions.push({ entry, stored, updatedAt });
      else plan.duplicates.push(entry);
    }
  }
  return plan;
}

/** An item's fingerprint with its LSH band keys. */
export interface Printed {
  print: Fingerprint;
  bands: string[];
}

/** A new item ready for clustering: in time order, with its fingerprint and band keys. */
export interface Prepared extends Printed {
  entry: Incoming;
}

/** How the store step gets an item's fingerprint: worked out ahead (outside the transaction) or now. */
export type FingerprintOf = (item: NormalizedItem) => Printed;

export const fingerprintNow: FingerprintOf = (item) => {
  const print = fingerprint(item.title, textOf(item));
  return { print, bands: fingerprintBands(print) };
};

/**
 * What storing an item needs that does not depend on the database: its identities, its fingerprint and bands. The
 * store queue works it out before the transaction, which then only reads, decides and writes.
 */
export interface ItemWork extends Identity, Printed {}

export function itemWork(item: NormalizedItem, sourceId: string): ItemWork {
  const { key, titleKey, hash } = identityNow(item, sourceId);
  const { print, bands } = fingerprintNow(item);
  return { key, titleKey, hash, print, bands };
}

export function prepare(fresh: readonly Incoming[], fingerprintOf: FingerprintOf = fingerprintNow): Prepared[] {
  return [...fresh]
    .sort((a, b) => a.item.publishedAt.getTime() - b.item.publishedAt.getTime() || byCodeUnits(a.key, b.key))
    .map((entry) => {
      const { print, bands } = fingerprintOf(entry.item);
      return { entry, print, bands };
    });
}

export interface ClusterPlan {
  /** The story each prepared item joins, by its index, after the merges below. */
  storyOf: string[];
  /** Stories this document starts (and that no merge absorbed): to create. */
  newStories: Array<{ id: string; publishedAt: Date }>;
  /** Stored stories to fold into another: surviving id -> absorbed ids. */
  merges: Map<string, string[]>;
}

/**
 * Decides which story each new item joins, in time order: every story of a candidate (a stored item sharing a band,
 * or an earlier item of this document) that is the same report; none, and it starts its own; several, and they merge
 * into the oldest (`starts` holds the stored candidates' story start times; the id sorts ties).
 */
export function planClusters(
  prepared: readonly Prepared[],
  candidatesByBand: ReadonlyMap<string, readonly ClusterCandidate[]>,
  starts: ReadonlyMap<string, Date>,
): ClusterPlan {
  const byBand = new Map([...candidatesByBand].map(([band, list]) => [band, [...list]]));
  const started = new Map<string, Date>();
  const merged = new Map<string, string>(); // absorbed story -> the one that absorbed it
  const resolve = (storyId: string): string => (merged.has(storyId) ? resolve(merged.get(storyId)!) : storyId);
  const startOf = (storyId: string) => (started.get(storyId) ?? starts.get(storyId))?.getTime() ?? 0;
  const assigned: string[] = [];

  for (const { entry, print, bands } of prepared) {
    // An item met in several bands is compared once.
    const met = new Set<ClusterCandidate>();
    for (const band of bands) for (const candidate of byBand.get(band) ?? []) met.add(candidate);
    // Candidates of a story merged earlier in this step count for the story that absorbed it.
    const candidates =
      merged.size === 0
        ? [...met]
        : [...met].map(({ storyId, publishedAt, language, print }): ClusterCandidate => ({ storyId: resolve(storyId), publishedAt, language, print }));
    const { item } = entry;
    const matches = [
      ...new Set(matchingStories({ title: item.title, text: textOf(item), publishedAt: item.publishedAt, language: item.language, print }, candidates)),
    ];
    let storyId: string;
    if (matches.length === 0) {
      storyId = newStoryId(entry.key, item.publishedAt);
      started.set(storyId, item.publishedAt);
    } else {
      const [keep, ...absorbed] = matches.sort((a, b) => startOf(a) - startOf(b) || byCodeUnits(a, b));
      storyId = keep!;
      for (const id of absorbed) merged.set(id, storyId);
    }
    assigned.push(storyId);
    const self: ClusterCandidate = { storyId, publishedAt: item.publishedAt, language: item.language ?? null, print };
    for (const band of bands) {
      const list = byBand.get(band);
      if (list) list.push(self);
      else byBand.set(band, [self]);
    }
  }

  const merges = new Map<string, string[]>();
  for (const absorbed of merged.keys()) {
    if (started.has(absorbed)) continue; // started and absorbed in this document: never written
    const keep = resolve(absorbed);
    merges.set(keep, [...(merges.get(keep) ?? []), absorbed]);
  }
  return {
    storyOf: assigned.map(resolve),
    newStories: [...started].filter(([id]) => !merged.has(id)).map(([id, publishedAt]) => ({ id, publishedAt })),
    merges,
  };
}
