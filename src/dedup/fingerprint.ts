/**
 * Fingerprints for near-duplicate detection: the same wire report as carried by several outlets, with headline edits,
 * a rewritten lead or only its first paragraphs. Pure functions; the store indexes the LSH bands.
 */
import { containsCjk, foldText } from '../normalize/fold.js';

export const TITLE_HASHES = 16;
export const TITLE_ROWS_PER_BAND = 2;
export const BODY_HASHES = 24;
export const BODY_ROWS_PER_BAND = 2;
/** The lede's own bands: a brief or a trim that keeps the lede shares them with the full copy. */
export const LEDE_HASHES = 8;
export const LEDE_ROWS_PER_BAND = 2;
/** Words of the body that take part: the opening carries the report; tails differ (boilerplate, related links). */
const BODY_WORDS = 250;
/** Words of the lede: about its first sentence. */
const LEDE_WORDS = 40;
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
  const tokens = folded.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (!containsCjk(folded)) return tokens;
  return tokens.flatMap((token) => {
    if (!containsCjk(token)) return [token];
    const chars = [...token];
    if (chars.length === 1) return [token];
    return chars.slice(1).map((char, index) => chars[index]! + char);
  });
}

/** Characters of text read per word wanted: words are rarely longer, and a shorter opening is read whole instead. */
const CHARS_PER_WORD = 24;

/**
 * words(text).slice(0, count), without folding and splitting all of a long text (a full article) for its opening:
 * the opening is read with a margin, so that a word or a "u.s." the cut splits lies past the words kept.
 */
export function leadingWords(text: string, count: number): string[] {
  const cut = (count + 3) * CHARS_PER_WORD;
  if (text.length > cut) {
    const opening = words(text.slice(0, cut));
    if (opening.length > count + 2) return opening.slice(0, count);
  }
  return words(text).slice(0, count);
}

/** The distinct content words of a headline. */
export function titleTerms(title: string): Set<string> {
  return new Set(words(title).filter((word) => !STOPWORDS.has(word)));
}

/**
 * A leading dateline ("TOKYO - ", "SINGAPORE: ", "Singapore, June 2 (Jiji Press)--", "TOKYO, June 3 (Reuters) - ") is
 * the outlet's framing, not the report: left out, so the same copy reads the same from every outlet. Only a prefix
 * that is a city in capitals or ends in an agency in parentheses counts; one anchored regex over the first line.
 */
const DATELINE = /^\s*(\p{Lu}[^\n]{0,58}?)\s*(?:--|\s[-–—]\s|:\s)/u;

export function withoutDateline(text: string): string {
  const match = DATELINE.exec(text);
  if (!match) return text;
  const prefix = match[1]!;
  const framing = /^[\p{Lu}\s.'’-]{3,}(?:,|$)/u.test(prefix) || /\([^)]{2,30}\)$/.test(prefix);
  return framing ? text.slice(match[0].length) : text;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SPACE = 0x20;

/** FNV-1a over the text's UTF-16 units, continuing from `hash`: the hash of a concatenation, without building it. */
function fnv1aFrom(hash: number, text: string): number {
  let next = hash;
  for (let index = 0; index < text.length; index++) next = Math.imul(next ^ text.charCodeAt(index), FNV_PRIME);
  return next;
}

const fnv1a = (text: string) => fnv1aFrom(FNV_OFFSET, text) >>> 0;

/**
 * The shingles of a run of words (each three consecutive words, "a b c"; a shorter run is one shingle) as the FNV-1a
 * hashes of their text, one per position. No shingle string is built: a fingerprint is taken of every new item, and
 * those strings were most of what it allocated.
 */
function shingleHashesOf(tokens: readonly string[]): number[] {
  if (tokens.length < SHINGLE_WORDS) return tokens.length ? [fnv1a(tokens.join(' '))] : [];
  const hashes: number[] = new Array(tokens.length - SHINGLE_WORDS + 1);
  for (let index = 0; index < hashes.length; index++) {
    let hash = fnv1aFrom(FNV_OFFSET, tokens[index]!);
    hash = fnv1aFrom(Math.imul(hash ^ SPACE, FNV_PRIME), tokens[index + 1]!);
    hash = fnv1aFrom(Math.imul(hash ^ SPACE, FNV_PRIME), tokens[index + 2]!);
    hashes[index] = hash >>> 0;
  }
  return hashes;
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
  return minhashOfHashes(Array.from(set, fnv1a), size);
}

/** minhash() of a set given as its elements' fnv1a hashes. */
function minhashOfHashes(hashes: readonly number[], size: number): number[] {
  if (hashes.length === 0) return [];
  const signature = new Array<number>(size);
  for (let index = 0; index < size; index++) {
    const seed = SEEDS[index]!;
    let least = 0xffffffff;
    for (let element = 0; element < hashes.length; element++) {
      const hash = mix(hashes[element]! ^ seed);
      if (hash < least) least = hash;
    }
    signature[index] = least | 0;
  }
  return signature;
}

/** LSH band keys ("t3:…", "b7:…"): items that share a key are candidates for comparison. */
export function bandKeys(prefix: string, signature: readonly number[], rowsPerBand: number): string[] {
  const keys: string[] = [];
  for (let start = 0; start + rowsPerBand <= signature.length; start += rowsPerBand) {
    let key = `${prefix}${start / rowsPerBand}:${signature[start]}`;
    for (let row = start + 1; row < start + rowsPerBand; row++) key += `,${signature[row]}`;
    keys.push(key);
  }
  return keys;
}

/**
 * Share of equal positions: an estimate of the Jaccard similarity of the two sets. Signatures of different lengths
 * (an item stored when signatures were longer) compare on the hash functions they share, the first ones.
 */
export function signatureSimilarity(a: readonly number[], b: readonly number[]): number {
  const length = Math.min(a.length, b.length);
  if (length === 0) return 0;
  let equal = 0;
  for (let index = 0; index < length; index++) if (a[index] === b[index]) equal++;
  return equal / length;
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
  /** Number of distinct body shingles (by hash), to turn a Jaccard estimate into containment. */
  shingleCount: number;
  /**
   * The body shingles themselves, as sorted distinct 32-bit hashes: exact overlap for the candidates the bands find.
   * Absent for items stored before they were kept, which are compared by their signatures.
   */
  shingles?: Int32Array;
  /** MinHash of the lede's shingles; only for band keys, not stored. */
  ledeSignature?: number[];
}

/** What two items are compared by (similarity): a stored candidate is read with no more than this. */
export type Comparable = Pick<Fingerprint, 'titleTerms' | 'bodySignature' | 'shingleCount' | 'shingles'>;

/** Sorted distinct 32-bit hashes of a set of shingles. */
export function shingleHashes(shingles: Iterable<string>): Int32Array {
  return sortedDistinct(Array.from(shingles, fnv1a));
}

function sortedDistinct(hashes: readonly number[]): Int32Array {
  const sorted = new Int32Array(hashes.length);
  for (let index = 0; index < hashes.length; index++) sorted[index] = hashes[index]! | 0;
  sorted.sort();
  let length = 0;
  for (let index = 0; index < sorted.length; index++) if (index === 0 || sorted[index] !== sorted[index - 1]) sorted[length++] = sorted[index]!;
  return sorted.slice(0, length);
}

/**
 * The body shingles are the 3-grams of the opening of the text, without its dateline; the headline takes part only
 * when the text is too short to stand alone (outlets rewrite headlines, and the copy is what they share). The lede's
 * shingles are those of its first words: the first of the body's, as the body then is the text alone.
 */
export function fingerprint(title: string, body: string): Fingerprint {
  const terms = titleTerms(title);
  const bodyWords = leadingWords(withoutDateline(body), BODY_WORDS);
  const standsAlone = bodyWords.length >= 2 * SHINGLE_WORDS;
  const hashes = shingleHashesOf((standsAlone ? bodyWords : [...words(title), ...bodyWords]).slice(0, BODY_WORDS));
  const lede = standsAlone ? hashes.slice(0, Math.min(bodyWords.length, LEDE_WORDS) - SHINGLE_WORDS + 1) : [];
  // Distinct shingles are counted as they are compared, by their 32-bit hashes (two texts share a hash about once in
  // 140,000 items' fingerprints: counting by text cost a map of the words and a sort of its own per item).
  const shingles = sortedDistinct(hashes);
  return {
    titleTerms: terms,
    titleSignature: minhash(terms, TITLE_HASHES),
    bodySignature: minhashOfHashes(hashes, BODY_HASHES),
    shingleCount: shingles.length,
    shingles,
    ledeSignature: minhashOfHashes(lede, LEDE_HASHES),
  };
}

export function fingerprintBands(print: Pick<Fingerprint, 'titleSignature' | 'bodySignature' | 'ledeSignature'>): string[] {
  return [
    ...bandKeys('t', print.titleSignature, TITLE_ROWS_PER_BAND),
    ...bandKeys('b', print.bodySignature, BODY_ROWS_PER_BAND),
    ...bandKeys('l', print.ledeSignature ?? [], LEDE_ROWS_PER_BAND),
  ];
}

/** How many hashes two sorted arrays share: one merge pass. */
function sharedCount(a: Int32Array, b: Int32Array): number {
  let shared = 0;
  let i = 0;
  let j = 0;
  // Without branches: which side moves on is a coin toss to the processor, and V8 compiles Number(boolean) without a
  // jump (2.5x as fast as if/else on texts that share little, the common candidate).
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    shared += Number(x === y);
    i += Number(x <= y);
    j += Number(y <= x);
  }
  return shared;
}

export interface Similarity {
  title: number;
  /** Jaccard similarity of the body shingles: exact when both carry their shingles, else estimated. */
  body: number;
  /** Share of the smaller text's shingles found in the larger (a brief or a trim inside the full copy). */
  containment: number;
  /** Shingles the two texts share (exact, or estimated). */
  shared: number;
}

export function similarity(a: Comparable, b: Comparable): Similarity {
  const title = jaccard(a.titleTerms, b.titleTerms);
  if (a.shingles?.length && b.shingles?.length) {
    const shared = sharedCount(a.shingles, b.shingles);
    const union = a.shingles.length + b.shingles.length - shared;
    return { title, body: shared / union, containment: shared / Math.min(a.shingles.length, b.shingles.length), shared };
  }
  const body = signatureSimilarity(a.bodySignature, b.bodySignature);
  const smaller = Math.min(a.shingleCount, b.shingleCount);
  const union = body > 0 ? ((a.shingleCount + b.shingleCount) * 1) / (1 + body) : 0;
  const shared = body * union;
  return { title, body, containment: smaller > 0 ? Math.min(1, shared / smaller) : 0, shared };
}

/**
 * Whether two items are the same report, by measurement on both labelled sets (tests/cluster.test.ts): most of the
 * copy is shared; or the smaller text lies mostly inside the larger (a brief, a trim, a copy under a rewritten lead),
 * by enough shingles that a shared dateline or boilerplate cannot explain it; or the headlines are close and the text
 * overlaps. Two reports of different events with the same actors (two earthquakes, two market closes) share
 * template phrases, up to about 0.37 of the smaller text in the sets; re-led copies of one report share 0.47 and more.
 */
export function isSameReport(score: Similarity): boolean {
  if (score.body >= 0.4) return true;
  if (score.containment >= 0.45 && score.shared >= 8) return true;
  return score.title >= 0.5 && score.containment >= 0.2;
}
