/**
 * Fingerprints for near-duplicate detection: the same wire report as carried by several outlets, with headline edits,
 * a rewritten lead or only its first paragraphs. Pure functions; the store indexes the LSH bands.
 */
import { containsCjk, foldText } from '../normalize/fold.js';

export const TITLE_HASHES = 16;
export const TITLE_ROWS_PER_BAND = 2;
export const BODY_HASHES = 32;
export const BODY_ROWS_PER_BAND = 2;
/** Words of the body that take part: the opening carries the report; tails differ (boilerplate, related links). */
const BODY_WORDS = 250;
const SHINGLE_WORDS = 3;

const STOPWORDS = new Set(
  (
    'a an the and or but of to in on at by for with from as is are was were be been being it its this that these those ' +
    'has have had will would can could may might says said say than then there their they he she his her we our you your ' +
    'not no after before over about into up out new also more who which what when where how all two one'
  ).split(' '),
);

/** Words of a text for comparison: folded, punctuation dropped ("u.s." -> "us"), CJK as character bigrams. */
export function words(text: string): string[] {
  const folded = foldText(text)
    .replace(/(\p{L})\.(?=\p{L}\.)/gu, '$1')
    .replace(/[’']s\b/g, '');
  const tokens: string[] = [];
  for (const token of folded.match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (!containsCjk(token)) {
      tokens.push(token);
      continue;
    }
    const chars = [...token];
    if (chars.length === 1) tokens.push(token);
    for (let index = 0; index + 1 < chars.length; index++) tokens.push(chars[index]! + chars[index + 1]!);
  }
  return tokens;
}

/** The distinct content words of a headline. */
export function titleTerms(title: string): Set<string> {
  return new Set(words(title).filter((word) => !STOPWORDS.has(word)));
}

/** Overlapping word 3-grams of the opening of title + body. */
export function bodyShingles(title: string, body: string): Set<string> {
  const tokens = words(`${title}\n${body}`).slice(0, BODY_WORDS);
  const shingles = new Set<string>();
  if (tokens.length < SHINGLE_WORDS) {
    if (tokens.length) shingles.add(tokens.join(' '));
    return shingles;
  }
  for (let index = 0; index + SHINGLE_WORDS <= tokens.length; index++) shingles.add(tokens.slice(index, index + SHINGLE_WORDS).join(' '));
  return shingles;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** murmur3's finalizer: a good 32-bit mix, cheap enough for one per shingle per hash function. */
function mix(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

const SEEDS = Array.from({ length: Math.max(TITLE_HASHES, BODY_HASHES) }, (_, index) => mix(0x9e3779b9 ^ Math.imul(index + 1, 0x7feb352d)));

/** MinHash signature: for each of `size` hash functions, the smallest hash over the set (as signed int32 for int4[]). */
export function minhash(set: Iterable<string>, size: number): number[] {
  const signature = new Array<number>(size).fill(0xffffffff);
  let empty = true;
  for (const element of set) {
    empty = false;
    const base = fnv1a(element);
    for (let index = 0; index < size; index++) {
      const hash = mix(base ^ SEEDS[index]!);
      if (hash < signature[index]!) signature[index] = hash;
    }
  }
  return empty ? [] : signature.map((value) => value | 0);
}

/** LSH band keys ("t3:…", "b7:…"): items that share a key are candidates for comparison. */
export function bandKeys(prefix: string, signature: readonly number[], rowsPerBand: number): string[] {
  const keys: string[] = [];
  for (let start = 0; start + rowsPerBand <= signature.length; start += rowsPerBand) {
    keys.push(`${prefix}${start / rowsPerBand}:${signature.slice(start, start + rowsPerBand).join(',')}`);
  }
  return keys;
}

/** Share of equal positions: an estimate of the Jaccard similarity of the two sets. */
export function signatureSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || a.length !== b.length) return 0;
  let equal = 0;
  for (let index = 0; index < a.length; index++) if (a[index] === b[index]) equal++;
  return equal / a.length;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const element of a) if (b.has(element)) shared++;
  return shared / (a.size + b.size - shared);
}

export interface Fingerprint {
  titleTerms: Set<string>;
  titleSignature: number[];
  bodySignature: number[];
  /** Number of distinct body shingles, to turn a Jaccard estimate into containment. */
  shingleCount: number;
}

export function fingerprint(title: string, body: string): Fingerprint {
  const terms = titleTerms(title);
  const shingles = bodyShingles(title, body);
  return { titleTerms: terms, titleSignature: minhash(terms, TITLE_HASHES), bodySignature: minhash(shingles, BODY_HASHES), shingleCount: shingles.size };
}

export function fingerprintBands(print: Pick<Fingerprint, 'titleSignature' | 'bodySignature'>): string[] {
  return [...bandKeys('t', print.titleSignature, TITLE_ROWS_PER_BAND), ...bandKeys('b', print.bodySignature, BODY_ROWS_PER_BAND)];
}

export interface Similarity {
  title: number;
  /** Estimated Jaccard similarity of the body shingles. */
  body: number;
  /** Estimated share of the smaller text's shingles found in the larger (a summary inside a full article). */
  containment: number;
}

export function similarity(a: Fingerprint, b: Fingerprint): Similarity {
  const body = signatureSimilarity(a.bodySignature, b.bodySignature);
  const smaller = Math.min(a.shingleCount, b.shingleCount);
  const union = body > 0 ? ((a.shingleCount + b.shingleCount) * 1) / (1 + body) : 0;
  const shared = body * union;
  return { title: jaccard(a.titleTerms, b.titleTerms), body, containment: smaller > 0 ? Math.min(1, shared / smaller) : 0 };
}

/**
 * Whether two items are the same report. Either the text is largely shared (the same copy, whatever the headline
 * says), or the headlines are close and the text overlaps beyond what a shared dateline or boilerplate explains.
 */
export function isSameReport(score: Similarity): boolean {
  if (score.body >= 0.45 || score.containment >= 0.6) return true;
  if (score.title >= 0.7 && score.containment >= 0.15) return true;
  return score.title >= 0.3 && score.containment >= 0.3;
}
