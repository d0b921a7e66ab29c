/** The store step's decisions as tables: identities, then clusters, with no database. */
import { describe, expect, it } from 'vitest';
import type { ClusterCandidate } from '../src/dedup/cluster.js';
import { type Fingerprint, fingerprint, fingerprintBands } from '../src/dedup/fingerprint.js';
import { incomingOf, planClusters, planIdentities, prepare, type StoredVersion } from '../src/dedup/plan.js';
import type { NormalizedItem } from '../src/model/item.js';
import { byCodeUnits } from '../src/model/text.js';

const LEDE =
  "Japan's defense minister and the U.S. defense secretary agreed on Sunday to speed up work on upgrading command and control ties between the Self-Defense Forces and U.S. forces in Japan, meeting on the sidelines of a security forum.";
const QUAKE =
  'A strong earthquake with a preliminary magnitude of 5.9 struck the Noto Peninsula in Ishikawa Prefecture on Monday morning, the Japan Meteorological Agency said, shaking areas still recovering from the deadly quake.';
const HOUR = 3_600_000;
const T0 = Date.parse('2024-06-02T00:00:00Z');

const item = (url: string, title: string, text: string, hours = 0, fields: Partial<NormalizedItem> = {}): NormalizedItem => ({
  url,
  title,
  contentText: text,
  categories: [],
  publishedAt: new Date(T0 + hours * HOUR),
  dateEstimated: false,
  ...fields,
});
/** A stored candidate, with the whole fingerprint it was stored with (its bands are worked out from it). */
type StoredCandidate = ClusterCandidate & { print: Fingerprint };
const candidate = (storyId: string, title: string, text: string, hours = 0): StoredCandidate => ({
  storyId,
  publishedAt: new Date(T0 + hours * HOUR),
  language: null,
  print: fingerprint(title, text),
});
/** Every band of a candidate pointing at it, as the store's band index would. */
const indexed = (...candidates: StoredCandidate[]) => {
  const byBand = new Map<string, ClusterCandidate[]>();
  for (const entry of candidates) for (const band of fingerprintBands(entry.print)) byBand.set(band, [...(byBand.get(band) ?? []), entry]);
  return byBand;
};

describe('tie-breaking order', () => {
  // Where a locale's collation and code units disagree: the order must not depend on the process's locale.
  it.each([
    ['B', 'a', -1],
    ['b', 'ä', -1],
    ['story-10', 'story-9', -1],
    ['Z', 'z', -1],
    ['same', 'same', 0],
    ['k2', 'k10', 1],
  ])('byCodeUnits(%s, %s) = %i', (a, b, expected) => {
    expect(byCodeUnits(a, b)).toBe(expected);
    expect(byCodeUnits(b, a)).toBe(-expected || 0);
  });
});

describe('identities', () => {
  const now = new Date(T0 + 10 * HOUR);
  const stored = (fields: Partial<StoredVersion>): StoredVersion => ({
    id: 1,
    storyId: 's1',
    publishedAt: new Date(T0),
    updatedAt: new Date(T0),
    contentHash: '',
    ...fields,
  });

  it.each([
    ['a new item', undefined, {}, 'fresh'],
    ['the same version again', 'same', {}, 'duplicate'],
    ['a newer timestamp', 'same', { publishedAt: new Date(T0 + HOUR) }, 'revision'],
    ['changed text, same timestamp', 'other', {}, 'revision'],
    ['an undated item whose text is unchanged', 'same', { dateEstimated: true, publishedAt: now }, 'duplicate'],
    ['an undated item whose text changed', 'other', { dateEstimated: true, publishedAt: now }, 'revision'],
    ['changed text, same timestamp, of a version revised since', 'other', {}, 'duplicate', { updatedAt: new Date(T0 + HOUR) }],
    ['an item read again whose text changed, revised since', 'other', {}, 'revision', { updatedAt: new Date(T0 + HOUR) }, 'different'],
    ['an item read again whose text is unchanged', 'same', {}, 'duplicate', {}, 'same'],
    ['an undated item read again whose text changed', 'other', { dateEstimated: true, publishedAt: now }, 'revision', {}, 'different'],
    ['an item read again from a version a fetch has since revised', 'other', {}, 'duplicate', {}, 'an older version'],
  ] as const)('%s is %s', (_name, hash, fields, expected, storedFields: Partial<StoredVersion> = {}, readFrom?: string) => {
    const incoming = item('https://w.example/1', 'Japan story', 'text', 0, fields);
    const storedHash = hash === 'same' ? incomingOf([{ sourceId: 'wire', items: [incoming] }]).incoming[0]!.hash : 'different';
    // Read again from the stored version ('same' or 'different': whatever is stored), or from an older one.
    const reread = readFrom === undefined ? undefined : new Map([[incoming, readFrom === 'an older version' ? 'older' : storedHash]]);
    const [entry] = incomingOf([{ sourceId: 'wire', items: [incoming], reread }]).incoming;
    const storedVersion = hash === undefined ? undefined : stored({ contentHash: storedHash, ...storedFields });
    const plan = planIdentities([entry!], () => storedVersion, now);
    const kind = plan.fresh.length ? 'fresh' : plan.revisions.length ? 'revision' : 'duplicate';
    expect(kind).toBe(expected);
  });

  it('keeps the newest of one key twice in a document, and counts the other', () => {
    const { incoming, repeats } = incomingOf([
      { sourceId: 'wire', items: [item('https://w.example/1', 'Old', 'a', 0), item('https://w.example/1', 'New', 'b', 1)] },
    ]);
    expect(repeats).toEqual([1]);
    expect(incoming.map((entry) => entry.item.title)).toEqual(['New']);
  });

  it('keeps one version of a page two documents of a batch link, and counts the other against its document', () => {
    const { incoming, repeats } = incomingOf([
      { sourceId: 'wire', items: [item('https://w.example/1', 'Old', 'a', 0), item('https://w.example/2', 'Other', 'c', 0)] },
      { sourceId: 'aggregator', items: [item('https://w.example/1', 'New', 'b', 1)] },
      { sourceId: 'late', items: [item('https://w.example/1', 'Older', 'b', -1)] },
    ]);
    expect(repeats).toEqual([1, 0, 1]);
    expect(incoming.map((entry) => [entry.item.title, entry.sourceId, entry.document])).toEqual([
      ['New', 'aggregator', 1],
      ['Other', 'wire', 0],
    ]);
  });
});

describe('clusters', () => {
  const plan = (items: NormalizedItem[], candidates: StoredCandidate[], starts: Record<string, number> = {}) =>
    planClusters(
      prepare(incomingOf([{ sourceId: 'wire', items }]).incoming),
      indexed(...candidates),
      new Map(Object.entries(starts).map(([id, hours]) => [id, new Date(T0 + hours * HOUR)])),
    );

  it('starts a story for a report nothing stored resembles', () => {
    const result = plan([item('https://w.example/1', 'Quake', QUAKE)], [candidate('stored-a', 'Defense', LEDE)]);
    expect(result.newStories).toHaveLength(1);
    expect(result.storyOf).toEqual([result.newStories[0]!.id]);
    expect(result.merges.size).toBe(0);
  });

  it('joins the stored story of the same report, even as a one-sentence brief under another headline', () => {
    const brief = `${LEDE.split(' between')[0]}.`;
    const result = plan([item('https://w.example/1', 'Kihara, Austin agree', brief, 3)], [candidate('stored-a', 'Japan, U.S. defense chiefs agree', LEDE)], {
      'stored-a': 0,
    });
    expect(result).toEqual({ storyOf: ['stored-a'], newStories: [], merges: new Map() });
  });

  it('merges two stored stories an item bridges into the older, and gives its later items the survivor', () => {
    const bridge = `${LEDE} ${QUAKE}`;
    const result = plan(
      [item('https://w.example/1', 'Both', bridge, 2), item('https://w.example/2', 'Quake again', QUAKE, 3)],
      [candidate('stored-new', 'Quake', QUAKE, 1), candidate('stored-old', 'Defense', LEDE, 0)],
      { 'stored-new': 1, 'stored-old': 0 },
    );
    expect(result.storyOf).toEqual(['stored-old', 'stored-old']);
    expect(result.merges).toEqual(new Map([['stored-old', ['stored-new']]]));
    expect(result.newStories).toEqual([]);
  });

  it('puts two outlets of one new report in one new story, whatever their order in the document', () => {
    const a = item('https://a.example/1', 'Quake hits Noto', QUAKE, 1);
    const b = item('https://b.example/1', 'Strong quake in Ishikawa', `KANAZAWA - ${QUAKE}`, 0);
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const result = plan(order, []);
      expect(result.newStories).toHaveLength(1);
      expect(new Set(result.storyOf).size).toBe(1);
    }
  });
});
