import { type Comparable, type Fingerprint, fingerprint, isSameReport, similarity } from './fingerprint.js';

/** Items further apart than this are never the same report. */
export const CLUSTER_WINDOW_MS = 48 * 3600_000;

export interface ClusterCandidate {
  storyId: string;
  publishedAt: Date;
  language: string | null;
  print: Comparable;
}

export interface Clusterable {
  title: string;
  text: string;
  publishedAt: Date;
  language?: string | null;
}

/** A language tag that says something: not absent, empty or 'und-…'. */
const knownLanguage = (tag: string | null | undefined) => (tag && !tag.startsWith('und') ? tag : undefined);

/**
 * The stories an item belongs to among the candidates that share an LSH band with it: every story with a version
 * inside the window that is the same report. More than one means the item bridges stories that must merge.
 */
export function matchingStories(item: Clusterable & { print?: Fingerprint }, candidates: readonly ClusterCandidate[]): string[] {
  const print = item.print ?? fingerprint(item.title, item.text);
  const at = item.publishedAt.getTime();
  // Languages compare when both are known: 'en' and 'ja' never match; an unknown or 'und-…' one may.
  const language = knownLanguage(item.language);
  const stories = new Set<string>();
  for (const candidate of candidates) {
    if (stories.has(candidate.storyId)) continue;
    if (Math.abs(candidate.publishedAt.getTime() - at) > CLUSTER_WINDOW_MS) continue;
    if (language && candidate.language !== language && knownLanguage(candidate.language)) continue;
    if (isSameReport(similarity(print, candidate.print))) stories.add(candidate.storyId);
  }
  return [...stories];
}
