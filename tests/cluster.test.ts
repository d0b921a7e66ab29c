import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { items, stories } from '../src/db/schema.js';
import { CLUSTER_WINDOW_MS, matchingStories } from '../src/dedup/cluster.js';
import { bandKeys, fingerprint, isSameReport, leadingWords, shingleHashes, similarity, withoutDateline, words } from '../src/dedup/fingerprint.js';
import { topicEntries } from '../src/store/topics.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSource } from '../src/worker/ingest.js';
import { HARD_NEGATIVES, REWRITE_ITEMS, REWRITE_OUTLETS, type RewriteOutlet, rewriteOutletFeed } from './fixtures/wire-rewrites.js';
import { OUTLETS, type Outlet, outletFeed, WIRE_ITEMS } from './fixtures/wire-stories.js';
import { writeConfigDir } from './helpers/config.js';
import { testEngine, useTestDatabase } from './helpers/database.js';

const OUTLET_IDS = Object.keys(OUTLETS) as Outlet[];

const testDatabase = useTestDatabase();

/** A config folder with one RSS file per outlet holding its versions of the labelled stories. */
function fixtureConfig(extra: Partial<Record<Outlet, string>> = {}): string {
  const sources = OUTLET_IDS.map(
    (outlet) => `  - id: ${outlet}\n    title: ${OUTLETS[outlet].title}\n    url: file:${outlet}.xml\n${extra[outlet] ?? ''}`,
  ).join('');
  const dir = writeConfigDir({
    'sources.yml': `sources:\n${sources}`,
    'topics.yml': `topics:\n  - slug: japan-us-security\n    title: Japan–US security\n    query: 'japan AND ("united states" OR u.s. OR us OR pentagon) AND (defense OR security OR military)'\n`,
  });
  for (const outlet of OUTLET_IDS) writeFileSync(join(dir, `${outlet}.xml`), outletFeed(outlet));
  return dir;
}

const ingestOutlet = (app: App, outlet: Outlet) => ingestSource(ingestContext(app), app.config.sources.find((source) => source.id === outlet)!);

/** Story of every stored item, keyed by its canonical link. */
async function partition(): Promise<Map<string, string>> {
  const rows = await testDatabase().handle.db.select({ url: items.url, storyId: items.storyId }).from(items);
  return new Map(rows.map((row) => [row.url!, row.storyId]));
}

const canonical = (link: string) => link.replace(/\?utm_source=rss$/, '');

describe('fingerprints', () => {
  const print = (title: string, text: string) => fingerprint(title, text);
  const lead =
    "Japanese Defense Minister Kihara Minoru and U.S. Defense Secretary Lloyd Austin had talks in Singapore on Sunday and reaffirmed the two countries' plan to strengthen command and control coordination to enhance the joint operational capability of Japan's Self-Defense Forces and the U.S. military.";

  it('counts the shingles two texts share exactly, whatever their hashes and overlap', () => {
    const hashes = fc.uniqueArray(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 300 });
    const comparable = (values: readonly number[]) => ({
      titleTerms: new Set<string>(),
      bodySignature: [],
      shingleCount: values.length,
      shingles: Int32Array.from([...values].sort((x, y) => x - y)),
    });
    fc.assert(
      fc.property(hashes, hashes, fc.array(fc.boolean(), { maxLength: 300 }), (left, others, keep) => {
        // Some of the left text's shingles also in the right one, with others of its own.
        const right = [...new Set([...left.filter((_, index) => keep[index]), ...others])];
        const expected = left.filter((value) => right.includes(value)).length;
        const a = comparable(left);
        const b = comparable(right);
        if (a.shingles.length === 0 || b.shingles.length === 0) return;
        expect(similarity(a, b).shared).toBe(expected);
        expect(similarity(b, a).shared).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a headline edit in the same story', () => {
    const a = print('Japan, U.S. defense chiefs reaffirm command coordination', lead);
    const b = print('Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination', `Singapore, June 2 (Jiji Press)--${lead}`);
    expect(isSameReport(similarity(a, b))).toBe(true);
  });

  it('does not merge different reports that share a dateline and credit line', () => {
    const a = print('Japan, U.S. defense chiefs reaffirm command coordination', `SINGAPORE: ${lead}\nJIJI Press`);
    const b = print(
      'Japan, China defense chiefs meet in Singapore',
      "SINGAPORE: Japanese Defense Minister Minoru Kihara and his Chinese counterpart Dong Jun held talks in Singapore on Saturday, the first in-person meeting between the two countries' defense chiefs in a year.\nJIJI Press",
    );
    expect(isSameReport(similarity(a, b))).toBe(false);
  });

  it.each([
    ['TOKYO - Japan said', 'Japan said'],
    ['SINGAPORE: Japan said', 'Japan said'],
    ['Singapore, June 2 (Jiji Press)--Japan said', 'Japan said'],
    ['TOKYO, June 3 (Reuters) - Japan said', 'Japan said'],
    ['NEW YORK – Stocks rose', 'Stocks rose'],
    ['Japan–US security talks - a preview', 'Japan–US security talks - a preview'], // not a city in capitals, no agency
    ['The Nikkei rose: chip stocks led', 'The Nikkei rose: chip stocks led'],
    ['Japan said - in a statement', 'Japan said - in a statement'],
    ['TOKYO', 'TOKYO'],
  ])('leaves the dateline out of %j', (text, expected) => {
    expect(withoutDateline(text)).toBe(expected);
  });

  it('compares the shingles of two texts exactly: a brief inside the full copy is contained whole', () => {
    const full = print('Japan births hit record low', `TOKYO - ${lead} The fertility rate fell to 1.20, the ministry said.`);
    const brief = print('Births fall again', `${lead.split(' and reaffirmed')[0]}.`);
    const score = similarity(full, brief);
    expect(score.containment).toBe(1);
    expect(score.shared).toBe(brief.shingles!.length);
    expect(isSameReport(score)).toBe(true);
    expect(shingleHashes(['a b c', 'b c d', 'a b c'])).toHaveLength(2);
  });

  it('hashes each shingle as the text "a b c" hashes, so fingerprints stored before still compare', () => {
    const body = 'TOKYO (Jiji Press) - The talks went on. The talks went on late into the night, officials said on Sunday.';
    const fingerprinted = fingerprint('Talks run late', body);
    const tokens = words(withoutDateline(body));
    const texts = tokens.slice(0, -2).map((word, index) => `${word} ${tokens[index + 1]} ${tokens[index + 2]}`);
    expect(fingerprinted.shingles).toEqual(shingleHashes(texts));
    expect(fingerprinted.shingleCount).toBe(new Set(texts).size);
    expect(fingerprinted.shingleCount).toBeLessThan(texts.length); // "the talks went", "talks went on" twice
  });

  it('reads only the opening of a long text, to the same words as reading it whole', () => {
    // Pieces that read differently when cut: abbreviations, possessives, long words, CJK runs, combining marks.
    const piece = fc.constantFrom(
      'U.S.',
      'u.s.a.',
      "Japan's",
      'defense',
      'Self-Defense',
      'Ishikawa-ken',
      'x'.repeat(40),
      '日本の防衛相',
      'ｶﾀｶﾅ',
      'Café',
      'e\u0301',
      '5.9',
      '—',
      ' ',
      '  ',
      '\n',
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 0, maxLength: 700 }), fc.integer({ min: 1, max: 60 }), (pieces, count) => {
        const text = pieces.join(' ');
        expect(leadingWords(text, count)).toEqual(words(text).slice(0, count));
      }),
      { numRuns: 300 },
    );
    const article = `TOKYO (Jiji Press) - ${'The ministers also discussed regional security and supply chains. '.repeat(400)}`;
    expect(leadingWords(article, 250)).toEqual(words(article).slice(0, 250));
  });

  it('writes band keys as stored bands were written, so new items still meet stored ones', () => {
    expect(bandKeys('b', [1, -2, 30, 4_000_000_000 | 0], 2)).toEqual(['b0:1,-2', `b1:30,${4_000_000_000 | 0}`]);
    expect(bandKeys('t', [7, 8, 9, 10, 11], 2)).toEqual(['t0:7,8', 't1:9,10']); // a short last band is left out
    expect(bandKeys('l', [5, 6, 7], 3)).toEqual(['l0:5,6,7']);
  });

  it('falls back to the signatures for an item stored before shingles were kept', () => {
    const a = print('Japan, U.S. defense chiefs reaffirm command coordination', lead);
    const { shingles: _dropped, ...old } = print(
      'Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination',
      `Singapore, June 2 (Jiji Press)--${lead}`,
    );
    const score = similarity(a, old);
    expect(score.body).toBeGreaterThan(0.8); // an estimate, from the signatures
    expect(isSameReport(score)).toBe(true);
  });

  it('treats "U.S." and "US" alike and ignores case and punctuation', () => {
    expect(print('U.S. Marines to move', '').titleTerms).toEqual(print('US marines to MOVE!', '').titleTerms);
  });
});

describe('matchingStories', () => {
  const title = 'Japan, US defense chiefs agree to upgrade command ties';
  const text =
    "Japan's defense minister and the U.S. defense secretary agreed on Sunday to speed up work on upgrading command and control ties between the Self-Defense Forces and U.S. forces in Japan, meeting on the sidelines of a security forum.";
  const at = new Date('2024-06-02T08:00:00Z');
  const copy = (storyId: string, language: string | null, hours = 1) => ({
    storyId,
    publishedAt: new Date(at.getTime() + hours * 3_600_000),
    language,
    print: fingerprint(title, text),
  });

  // Languages compare only when both are known: 'und-…' and a missing tag say nothing.
  it.each([
    ['en', 'en', true],
    ['en', 'ja', false],
    ['ja', 'en', false],
    ['en', null, true],
    [null, 'ja', true],
    ['und-Latn', 'ja', true],
    ['en', 'und-Latn', true],
    ['', 'ja', true],
    [null, null, true],
  ])('an item in %j and a copy in %j: the same story %s', (itemLanguage, copyLanguage, same) => {
    const stories = matchingStories({ title, text, publishedAt: at, language: itemLanguage }, [copy('s1', copyLanguage)]);
    expect(stories).toEqual(same ? ['s1'] : []);
  });

  it('leaves out copies outside the window and names each story once, in the order met', () => {
    const hours = CLUSTER_WINDOW_MS / 3_600_000;
    const candidates = [copy('s2', 'en', hours + 1), copy('s1', 'en', -hours), copy('s3', 'en'), copy('s1', 'en', 2)];
    expect(matchingStories({ title, text, publishedAt: at, language: 'en' }, candidates)).toEqual(['s1', 's3']);
  });
});

describe(`wire-story clustering (${testEngine()})`, () => {
  it('groups the labelled fixture set with pairwise precision and recall of at least 0.95', async () => {
    expect(WIRE_ITEMS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(WIRE_ITEMS.map((item) => item.outlet)).size).toBeGreaterThanOrEqual(5);
    const app = await openApp({ configDir: fixtureConfig(), database: testDatabase().handle });
    for (const outlet of OUTLET_IDS)
      expect(await ingestOutlet(app, outlet)).toMatchObject({ outcome: 'ok', itemsNew: WIRE_ITEMS.filter((item) => item.outlet === outlet).length });

    const storyOf = await partition();
    const { precision, recall, mistakes } = pairwise(
      WIRE_ITEMS,
      (item) => item.story,
      (item) => storyOf.get(canonical(item.link)),
      (item) => `${item.story}/${item.outlet}`,
    );
    console.log(
      `clustering: ${WIRE_ITEMS.length} items, pairwise precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}${mistakes.length ? `\n  ${mistakes.join('\n  ')}` : ''}`,
    );
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });

  it('re-ingesting every feed twice, in any order, leaves the same items and stories', async () => {
    const reference = new Map<string, string>();
    {
      const app = await openApp({ configDir: fixtureConfig(), database: testDatabase().handle });
      for (const outlet of OUTLET_IDS) await ingestOutlet(app, outlet);
      for (const [url, storyId] of await partition()) reference.set(url, storyId);
    }
    const groups = (storyOf: Map<string, string>) => {
      const byStory = new Map<string, string[]>();
      for (const [url, storyId] of storyOf) byStory.set(storyId, [...(byStory.get(storyId) ?? []), url]);
      return new Set([...byStory.values()].map((urls) => urls.sort().join(' ')));
    };
    const expected = groups(reference);
    const order = fc.shuffledSubarray([...OUTLET_IDS, ...OUTLET_IDS], { minLength: OUTLET_IDS.length * 2 });
    await fc.assert(
      fc.asyncProperty(order, async (steps) => {
        await testDatabase().reset();
        const app = await openApp({ configDir: fixtureConfig(), database: testDatabase().handle });
        for (const outlet of steps) await ingestOutlet(app, outlet);
        const storyOf = await partition();
        expect(storyOf.size).toBe(WIRE_ITEMS.length);
        expect(groups(storyOf)).toEqual(expected);
      }),
      { numRuns: 5 },
    );
  });

  it('keeps a story id as outlets join, and puts the highest-priority outlet first', async () => {
    const app = await openApp({ configDir: fixtureConfig({ arabnews: '    priority: 10\n' }), database: testDatabase().handle });
    await ingestOutlet(app, 'jiji');
    const jijiLink = canonical(WIRE_ITEMS.find((item) => item.outlet === 'jiji' && item.story === 'kihara-austin-command')!.link);
    const [first] = await app.database.db.select({ storyId: items.storyId }).from(items).where(eq(items.url, jijiLink));
    for (const outlet of ['arabnews', 'japantoday', 'kyodo', 'japantimes'] as const) await ingestOutlet(app, outlet);
    const [after] = await app.database.db.select({ storyId: items.storyId }).from(items).where(eq(items.url, jijiLink));
    expect(after!.storyId).toBe(first!.storyId);

    const entry = (await topicEntries(app.database.db, 'japan-us-security', 50)).find((candidate) => candidate.storyId === first!.storyId)!;
    expect(entry.sourceId).toBe('arabnews'); // priority 10 beats being first
    expect(entry.title).toBe('Japan, U.S. defense chiefs reaffirm command coordination');
    expect(entry.alsoReportedBy.map((outlet) => outlet.sourceId)).toEqual(['jiji', 'japantoday', 'kyodo', 'japantimes']);
    const [story] = await app.database.db.select().from(stories).where(eq(stories.id, first!.storyId));
    expect(story!.publishedAt.toISOString()).toBe('2024-06-01T22:40:00.000Z'); // the earliest version
  });
});

/** Pairwise figures of a clustering against its labels: every pair of items is together or apart, rightly or not. */
function pairwise<T>(labelled: readonly T[], label: (item: T) => string, storyOf: (item: T) => string | undefined, name: (item: T) => string) {
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  const mistakes: string[] = [];
  for (let i = 0; i < labelled.length; i++) {
    for (let j = i + 1; j < labelled.length; j++) {
      const a = labelled[i]!;
      const b = labelled[j]!;
      const together = storyOf(a) === storyOf(b);
      const expected = label(a) === label(b);
      if (together && expected) truePositives++;
      else if (together) {
        falsePositives++;
        mistakes.push(`merged: ${name(a)} + ${name(b)}`);
      } else if (expected) {
        falseNegatives++;
        mistakes.push(`split: ${name(a)} | ${name(b)}`);
      }
    }
  }
  return { precision: truePositives / (truePositives + falsePositives || 1), recall: truePositives / (truePositives + falseNegatives), mistakes };
}

describe(`clustering recall on rewritten wire copy (${testEngine()})`, () => {
  const OUTLETS_OF_SET = Object.keys(REWRITE_OUTLETS) as RewriteOutlet[];

  function rewriteConfig(): string {
    const sources = OUTLETS_OF_SET.map((outlet) => `  - id: ${outlet}\n    title: ${REWRITE_OUTLETS[outlet].title}\n    url: file:${outlet}.xml\n`).join('');
    const dir = writeConfigDir({ 'sources.yml': `sources:\n${sources}` });
    for (const outlet of OUTLETS_OF_SET) writeFileSync(join(dir, `${outlet}.xml`), rewriteOutletFeed(outlet));
    return dir;
  }

  /** The stored grouping, as a set of groups of "outlet|guid", independent of story ids. */
  async function rewriteGroups(outlets: readonly RewriteOutlet[]): Promise<Set<string>> {
    const app = await openApp({ configDir: rewriteConfig(), database: testDatabase().handle });
    for (const outlet of outlets) await ingestSource(ingestContext(app), app.config.sources.find((candidate) => candidate.id === outlet)!);
    const rows = await testDatabase().handle.db.select({ sourceId: items.sourceId, guid: items.guid, storyId: items.storyId }).from(items);
    const byStory = new Map<string, string[]>();
    for (const row of rows) byStory.set(row.storyId, [...(byStory.get(row.storyId) ?? []), `${row.sourceId}|${row.guid}`]);
    return new Set([...byStory.values()].map((members) => members.sort().join(' ')));
  }

  it('groups the same whatever order the outlets are read in', async () => {
    const expected = await rewriteGroups(OUTLETS_OF_SET);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(OUTLETS_OF_SET, { minLength: OUTLETS_OF_SET.length }), async (order) => {
        await testDatabase().reset();
        expect(await rewriteGroups(order)).toEqual(expected);
      }),
      { numRuns: 4 },
    );
  });

  it('keeps trims, briefs, reordered and re-headlined copies in one story, and different events with the same actors apart', async () => {
    const events = new Set(REWRITE_ITEMS.map((item) => item.event));
    expect(events.size).toBeGreaterThanOrEqual(40);
    expect(REWRITE_ITEMS.length).toBeGreaterThanOrEqual(100);
    expect(HARD_NEGATIVES.length).toBeGreaterThanOrEqual(12);

    const app = await openApp({ configDir: rewriteConfig(), database: testDatabase().handle });
    for (const outlet of OUTLETS_OF_SET) {
      const source = app.config.sources.find((candidate) => candidate.id === outlet)!;
      expect(await ingestSource(ingestContext(app), source)).toMatchObject({ outcome: 'ok' });
    }
    const rows = await testDatabase().handle.db.select({ sourceId: items.sourceId, guid: items.guid, storyId: items.storyId }).from(items);
    const storyByGuid = new Map(rows.map((row) => [`${row.sourceId}|${row.guid}`, row.storyId]));
    expect(storyByGuid.size).toBe(REWRITE_ITEMS.length);
    const storyOf = (item: (typeof REWRITE_ITEMS)[number]) => storyByGuid.get(`${item.outlet}|${item.guid}`);

    const { precision, recall, mistakes } = pairwise(
      REWRITE_ITEMS,
      (item) => item.event,
      storyOf,
      (item) => `${item.event}/${item.outlet}`,
    );
    const hardMerged = HARD_NEGATIVES.filter(([a, b]) => {
      const storiesOf = (event: string) => new Set(REWRITE_ITEMS.filter((item) => item.event === event).map(storyOf));
      const left = storiesOf(a);
      return [...storiesOf(b)].some((story) => left.has(story));
    });
    console.log(
      `clustering (rewritten copy): ${REWRITE_ITEMS.length} items, ${events.size} events, pairwise precision ${precision.toFixed(3)}, ` +
        `recall ${recall.toFixed(3)}, hard negatives merged ${hardMerged.length} of ${HARD_NEGATIVES.length}` +
        (mistakes.length ? `\n  ${mistakes.join('\n  ')}` : ''),
    );
    expect(hardMerged).toEqual([]);
    expect(precision).toBeGreaterThanOrEqual(0.99);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });
});
