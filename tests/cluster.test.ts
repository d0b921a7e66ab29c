import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { items, stories } from '../src/db/schema.js';
import { fingerprint, isSameReport, similarity } from '../src/dedup/fingerprint.js';
import { topicEntries } from '../src/store/topics.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSource } from '../src/worker/ingest.js';
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

  it('treats "U.S." and "US" alike and ignores case and punctuation', () => {
    expect(print('U.S. Marines to move', '').titleTerms).toEqual(print('US marines to MOVE!', '').titleTerms);
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
    let truePositives = 0;
    let falsePositives = 0;
    let falseNegatives = 0;
    const mistakes: string[] = [];
    for (let i = 0; i < WIRE_ITEMS.length; i++) {
      for (let j = i + 1; j < WIRE_ITEMS.length; j++) {
        const a = WIRE_ITEMS[i]!;
        const b = WIRE_ITEMS[j]!;
        const together = storyOf.get(canonical(a.link)) === storyOf.get(canonical(b.link));
        const expected = a.story === b.story;
        if (together && expected) truePositives++;
        else if (together) {
          falsePositives++;
          mistakes.push(`merged: ${a.story}/${a.outlet} + ${b.story}/${b.outlet}`);
        } else if (expected) {
          falseNegatives++;
          mistakes.push(`split: ${a.story}/${a.outlet} | ${b.outlet}`);
        }
      }
    }
    const precision = truePositives / (truePositives + falsePositives);
    const recall = truePositives / (truePositives + falseNegatives);
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
