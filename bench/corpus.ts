/** Deterministic synthetic wire copy for benchmarks: stories of random words, and edited copies of them. */
import type { NormalizedItem } from '../src/model/item.js';

export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'to', 'mi', 'ra', 'sen', 'do', 'ku', 'ni', 'ya', 'shi', 'ma', 'no', 'ri', 'ta', 'ho', 'be', 'lu', 'gar', 'vin', 'pel'];
const COMMON = [
  'japan',
  'u.s.',
  'defense',
  'minister',
  'tokyo',
  'government',
  'security',
  'china',
  'military',
  'talks',
  'said',
  'the',
  'of',
  'and',
  'to',
  'in',
  'on',
  'a',
  'for',
  'with',
];

export class Corpus {
  private readonly random: () => number;
  private readonly vocabulary: string[];

  constructor(seed = 1) {
    this.random = prng(seed);
    this.vocabulary = Array.from({ length: 6000 }, () => Array.from({ length: 2 + Math.floor(this.random() * 3) }, () => this.pick(SYLLABLES)).join(''));
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  private word(): string {
    return this.random() < 0.3 ? this.pick(COMMON) : this.pick(this.vocabulary);
  }

  sentence(words: number): string {
    return Array.from({ length: words }, () => this.word()).join(' ');
  }

  /** A new report: an 8-word headline and about 120 words of text. */
  story(id: number, publishedAt: Date, sourceId = 'bench'): NormalizedItem {
    const text = Array.from({ length: 6 }, () => `${this.sentence(20)}.`).join(' ');
    return {
      url: `https://bench.example/${sourceId}/${id}`,
      title: this.sentence(8),
      summary: text.slice(0, 200),
      contentText: text,
      contentHtml: `<p>${text}</p>`,
      categories: [],
      language: 'en',
      publishedAt,
      dateEstimated: false,
    };
  }

  /** Another outlet's version of `item`: an edited headline, a rewritten lead, its own URL. */
  copy(item: NormalizedItem, id: number, sourceId: string): NormalizedItem {
    const words = item.title.split(' ');
    words[Math.floor(this.random() * words.length)] = this.word();
    const sentences = (item.contentText ?? '').split('. ');
    sentences[0] = this.sentence(20);
    return {
      ...item,
      url: `https://bench.example/${sourceId}/${id}`,
      title: words.join(' '),
      contentText: sentences.join('. '),
      contentHtml: `<p>${sentences.join('. ')}</p>`,
      publishedAt: new Date(item.publishedAt.getTime() + 30 * 60_000),
    };
  }
}
