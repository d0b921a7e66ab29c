/**
 * The store step under concurrency and in batches: band locks serialize only writers whose items may join one story,
 * the store queue stores the documents of several sources in one transaction (and one bad document alone fails),
 * and a refetch is known from its parsed form before it is normalized.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type Database, rowsOf, textArray } from '../src/db/client.js';
import { fetchLog, sources, topics } from '../src/db/schema.js';
import { fingerprint, fingerprintBands } from '../src/dedup/fingerprint.js';
import type { NormalizedItem } from '../src/model/item.js';
import type { Source } from '../src/model/source.js';
import { normalizeItem } from '../src/normalize/item.js';
import { type ParsedItem, parseFeed } from '../src/parse/index.js';
import { storeDocuments, storeItems } from '../src/store/items.js';
import { type FetchRecord, recordFetches, syncSources } from '../src/store/sources.js';
import { addMemberships, backfillTopic, forEachRecentItem, touchTopics } from '../src/store/topics.js';
import { compileTopics, TopicMatcher } from '../src/topics/topics.js';
import { normalizeDocument } from '../src/worker/ingest.js';
import { prepareDocument, type QueuedDocument, StoreQueue } from '../src/worker/store-queue.js';
import { type StoredDocument, storeAndMatch } from '../src/worker/store-step.js';
import { normalizedRewrite, REWRITE_ITEMS, rewriteOutletFeed } from './fixtures/wire-rewrites.js';
import { testEngine, useTestDatabase } from './helpers/database.js';

const testDatabase = useTestDatabase();

const versionsOf = (event: string) => REWRITE_ITEMS.filter((item) => item.event === event);
/** Two events with several outlets each, that share no story. */
const [first, second] = [...new Set(REWRITE_ITEMS.map((item) => item.event))].filter((event) => versionsOf(event).length >= 2);

async function addSources(ids: string[]) {
  await testDatabase()
    .handle.db.insert(sources)
    .values(ids.map((id) => ({ id, url: `https://${id}.example/feed.xml`, pollSeconds: 900 })));
}

/** A full collection, after the current job (WeakRefs it created stay alive until it ends). */
async function collectGarbage() {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let round = 0; round < 3; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
}

/** A fetch record for tests that look at the items, not at what the record says of them. */
const bareRecord = (sourceId: string): FetchRecord => ({
  sourceId,
  startedAt: new Date(),
  durationMs: 1,
  outcome: 'ok',
  itemsNew: 0,
  itemsDuplicate: 0,
  nextCheckAt: new Date(),
  state: {},
});

/**
 * Runs `hold` in a transaction of its own and keeps that transaction open, with the locks it took, until the returned
 * release is called (it resolves once the transaction has ended; calling it again is harmless).
 */
async function holdingTransaction(db: Database, hold: (tx: Database) => Promise<unknown>): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const holding = new Promise<void>((resolve) => (held = resolve));
  const holder = db.transaction(async (tx) => {
    await hold(tx);
    held();
    await released;
  });
  await Promise.race([holding, holder]);
  return async () => {
    release();
    await holder;
  };
}

const within = <T>(work: Promise<T>, ms: number) => Promise.race([work.then(() => 'done'), new Promise((resolve) => setTimeout(() => resolve('waiting'), ms))]);

/** Two unrelated wire reports, and a version of one dated `hours` after T0: for the topic-entry and merge tests. */
const T0 = Date.parse('2024-06-02T08:00:00Z');
const HOUR = 3_600_000;
const TALKS =
  "Japan's defense minister and the U.S. defense secretary agreed on Sunday to speed up work on upgrading command and control ties between the Self-Defense Forces and U.S. forces in Japan, meeting on the sidelines of a security forum.";
const QUAKE =
  'A strong earthquake with a preliminary magnitude of 5.9 struck the Noto Peninsula in Ishikawa Prefecture on Monday morning, the Japan Meteorological Agency said, shaking areas still recovering from the deadly quake.';
const reportAt = (url: string, title: string, text: string, hours: number): NormalizedItem => ({
  url,
  title,
  contentText: text,
  categories: [],
  language: 'en',
  publishedAt: new Date(T0 + hours * HOUR),
  dateEstimated: false,
});

describe(`the store step (${testEngine()})`, () => {
  it('lets writers of unrelated stories store at once; an outlet of a story being stored waits and joins it', async () => {
    const { db } = testDatabase().handle;
    const [wire, copy] = versionsOf(first!);
    const [unrelated] = versionsOf(second!);
    await addSources([wire!.outlet, copy!.outlet, unrelated!.outlet].filter((id, index, all) => all.indexOf(id) === index));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let stored!: (storyId: string) => void;
    const storedFirst = new Promise<string>((resolve) => (stored = resolve));
    // A writer storing the wire copy holds its bands' locks until it commits.
    const holder = db.transaction(async (tx) => {
      const result = await storeItems(tx, wire!.outlet, [normalizedRewrite(wire!)]);
      stored(result.stored[0]!.storyId);
      await released;
    });
    const storyId = await storedFirst;
    try {
      expect(
        await within(
          db.transaction((tx) => storeItems(tx, unrelated!.outlet, [normalizedRewrite(unrelated!)])),
          5_000,
        ),
      ).toBe('done');
      const joining = db.transaction((tx) => storeItems(tx, copy!.outlet, [normalizedRewrite(copy!)]));
      expect(await within(joining, 700)).toBe('waiting');
      release();
      await holder;
      const result = await joining;
      expect(result.stored.map((item) => item.storyId)).toEqual([storyId]);
    } finally {
      release();
      await holder;
    }
  });

  it('gives each item it stores its own bands, and none to an item another writer stored while it waited', async () => {
    const { db } = testDatabase().handle;
    const [wire] = versionsOf(first!);
    const [unrelated] = versionsOf(second!);
    await addSources([wire!.outlet]);
    const taken = normalizedRewrite(wire!);
    // Later than the item taken meanwhile: it follows it in the step's order, so a band's position must skip that one.
    const kept = { ...normalizedRewrite(unrelated!), publishedAt: new Date(taken.publishedAt.getTime() + 3_600_000) };
    const release = await holdingTransaction(db, (tx) => storeItems(tx, wire!.outlet, [taken]));
    let step: Promise<Awaited<ReturnType<typeof storeItems>>> | undefined;
    try {
      step = db.transaction((tx) => storeItems(tx, wire!.outlet, [taken, kept]));
      expect(await within(step, 500)).toBe('waiting'); // read both as new, then waits for the taken one's bands
    } finally {
      await release();
    }
    const result = await step!;
    expect([result.stored.map(({ item }) => item.url), result.duplicates]).toEqual([[kept.url], 1]);
    const bandsOf = async (item: NormalizedItem) =>
      (
        await rowsOf<{ band: string }>(
          db,
          sql`select b.band::text as band from item_bands b join items i on i.id = b.item_id where i.url = ${item.url!} order by b.band`,
        )
      ).map(({ band }) => band);
    const expected = async (item: NormalizedItem) =>
      (
        await rowsOf<{ band: string }>(
          db,
          sql`select hashtextextended(band, 0)::text as band from unnest(${textArray(fingerprintBands(fingerprint(item.title, item.contentText!)))}) as band order by hashtextextended(band, 0)`,
        )
      ).map(({ band }) => band);
    expect(await bandsOf(kept)).toEqual(await expected(kept));
    expect(await bandsOf(taken)).toEqual(await expected(taken));
  });

  it('locks clustering as a whole when a step has more bands than its budget', async () => {
    const { db } = testDatabase().handle;
    const [wire] = versionsOf(first!);
    const [unrelated] = versionsOf(second!);
    await addSources([wire!.outlet, unrelated!.outlet].filter((id, index, all) => all.indexOf(id) === index));
    const release = await holdingTransaction(db, (tx) => storeItems(tx, wire!.outlet, [normalizedRewrite(wire!)], { bandLockBudget: 0 }));
    try {
      const other = db.transaction((tx) => storeItems(tx, unrelated!.outlet, [normalizedRewrite(unrelated!)]));
      expect(await within(other, 700)).toBe('waiting');
      await release();
      expect((await other).stored).toHaveLength(1);
    } finally {
      await release();
    }
  });

  it("keeps an item's exact shingles, which later items are compared with, and a band row for each of its bands, not its signatures", async () => {
    const { db } = testDatabase().handle;
    const [wire] = versionsOf(first!);
    await addSources([wire!.outlet]);
    const item = normalizedRewrite(wire!);
    const [stored] = (await db.transaction((tx) => storeItems(tx, wire!.outlet, [item]))).stored;
    const [row] = await rowsOf<{ shingles: Buffer; bands: string; signatures: number }>(
      db,
      sql`select shingles, (select count(*) from item_bands where item_id = items.id) as bands,
        cardinality(title_signature) + cardinality(body_signature) as signatures from items where id = ${stored!.id}`,
    );
    const print = fingerprint(item.title, item.contentText!);
    expect(new Int32Array(row!.shingles.buffer.slice(row!.shingles.byteOffset, row!.shingles.byteOffset + row!.shingles.byteLength))).toEqual(print.shingles);
    expect(Number(row!.bands)).toBe(new Set(fingerprintBands(print)).size);
    expect(Number(row!.signatures)).toBe(0);
  });

  it('stores and revises every column as the item has it: quotes, backslashes, braces, commas, NULL and non-Latin text intact', async () => {
    const { db } = testDatabase().handle;
    const [wire] = versionsOf(first!);
    await addSources([wire!.outlet]);
    const awkward = ['"quoted"', 'back\\slash', '{braced}', 'a,b', 'NULL', '', '防衛相 \\"会談\\"'];
    const item: NormalizedItem = {
      ...normalizedRewrite(wire!),
      title: `Kihara, Austin "reaffirm" C:\\path {x} NULL 防衛`,
      author: 'NULL',
      categories: awkward,
      contentHtml: '<p class="lead">Minoru \\ "Kihara" {met} Austin, NULL</p>',
      imageUrl: 'https://jen.jiji.example/img/"a".jpg',
      enclosures: [{ url: 'https://jen.jiji.example/a.mp3', type: 'audio/mpeg', length: 1024 }],
    };
    const columns = sql`select title, author, categories, content_html, image_url, enclosures, summary, revision from items`;
    const expected = {
      title: item.title,
      author: 'NULL',
      categories: awkward,
      content_html: item.contentHtml,
      image_url: item.imageUrl,
      enclosures: item.enclosures,
      summary: item.summary,
    };
    await db.transaction((tx) => storeItems(tx, wire!.outlet, [item]));
    expect(await rowsOf(db, columns)).toEqual([{ ...expected, revision: 0 }]);
    // A revision (new text, a later time) rewrites the same columns the same way.
    const revised = {
      ...item,
      summary: `${item.summary} "updated"`,
      categories: [...awkward, 'new'],
      publishedAt: new Date(item.publishedAt.getTime() + 60_000),
    };
    const [result] = [await db.transaction((tx) => storeItems(tx, wire!.outlet, [revised]))];
    expect(result!.revised).toHaveLength(1);
    expect(await rowsOf(db, columns)).toEqual([{ ...expected, summary: revised.summary, categories: revised.categories, revision: 1 }]);
  });

  it('stores the documents of several sources in one transaction, each with its fetch record', async () => {
    const { db } = testDatabase().handle;
    const outlets = ['kyodo', 'jiji', 'reuters', 'japantoday'] as const;
    await addSources([...outlets]);
    await db.insert(topics).values({ slug: 'all', title: 'All', query: 'japan OR tokyo OR the', definitionHash: 'x' });
    const matcher = new TopicMatcher(compileTopics([{ slug: 'all', title: 'All', query: 'japan OR tokyo OR the', limit: 50 }]));
    const queue = new StoreQueue(db, { gatherMs: 50 });
    const startedAt = new Date();
    const document = (outlet: string, items: NormalizedItem[]): QueuedDocument => ({
      sourceId: outlet,
      items,
      topics: matcher,
      record: ({ result }: StoredDocument) => ({
        sourceId: outlet,
        startedAt,
        durationMs: 1,
        outcome: 'ok',
        httpStatus: 200,
        itemsNew: result.stored.length,
        itemsDuplicate: result.duplicates,
        nextCheckAt: new Date(startedAt.getTime() + 900_000),
        state: { errorCount: 0 },
      }),
    });
    const itemsOf = (outlet: string) => REWRITE_ITEMS.filter((item) => item.outlet === outlet).map(normalizedRewrite);
    const results = await Promise.all(outlets.map((outlet) => queue.store(document(outlet, itemsOf(outlet)))));
    expect(results.map(({ result }) => result.stored.length)).toEqual(outlets.map((outlet) => itemsOf(outlet).length));
    // One transaction: every row it wrote carries its id.
    const writers = await testDatabase().handle.rows<{ xmin: string }>(
      sql`select distinct xmin::text from items union select distinct xmin::text from fetch_log`,
    );
    expect(writers).toHaveLength(1);
    expect((await db.select().from(fetchLog)).map((row) => [row.sourceId, row.itemsNew]).sort()).toEqual(
      outlets.map((outlet) => [outlet, itemsOf(outlet).length]).sort(),
    );
    // Each membership counted once, for the document that proposed it first.
    const [{ n } = { n: 0 }] = await testDatabase().handle.rows<{ n: number }>(sql`select count(*)::int as n from topic_stories`);
    expect(results.reduce((sum, { matched }) => sum + matched, 0)).toBe(n);
    expect(n).toBeGreaterThan(0);
    // Stories span the documents: every event the four outlets carried is one story.
    const stories = await testDatabase().handle.rows<{ guid: string; story_id: string }>(sql`select guid, story_id from items`);
    const storyOf = new Map(stories.map((row) => [row.guid, row.story_id]));
    for (const event of new Set(REWRITE_ITEMS.filter((item) => (outlets as readonly string[]).includes(item.outlet)).map((item) => item.event))) {
      const ids = new Set(versionsOf(event).flatMap((item) => (storyOf.has(item.guid) ? [storyOf.get(item.guid)] : [])));
      expect(ids.size, event).toBe(1);
    }
  });

  it('stores the other documents of a batch when one fails, and fails that one alone', async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo', 'jiji']);
    const matcher = new TopicMatcher([]);
    const queue = new StoreQueue(db, { gatherMs: 50 });
    const itemsOf = (outlet: string) => REWRITE_ITEMS.filter((item) => item.outlet === outlet).map(normalizedRewrite);
    // A source removed from the database while its fetch was in flight: its items cannot be stored.
    const outcomes = await Promise.allSettled(
      ['kyodo', 'removed', 'jiji'].map((sourceId) =>
        queue.store({ sourceId, items: itemsOf(sourceId === 'removed' ? 'reuters' : sourceId), topics: matcher, record: () => bareRecord(sourceId) }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason).slice(0, 200)).toMatch(
      /^PostgresError: insert or update on table "items" violates foreign key constraint/,
    );
    const bySource = await testDatabase().handle.rows<{ source_id: string; n: number }>(
      sql`select source_id, count(*)::int as n from items group by source_id order by source_id`,
    );
    expect(bySource).toEqual([
      { source_id: 'jiji', n: itemsOf('jiji').length },
      { source_id: 'kyodo', n: itemsOf('kyodo').length },
    ]);
  });

  it('matches a prepared document once, before its batch: the transaction only writes', async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo']);
    const compiled = compileTopics([{ slug: 'all', title: 'All', query: 'japan OR tokyo OR the', limit: 50 }]);
    const matched: string[] = [];
    const matcher = new TopicMatcher(compiled);
    const counting = {
      match: (item: NormalizedItem, sourceId: string) => {
        matched.push(item.guid!);
        return matcher.match(item, sourceId);
      },
    };
    const items = REWRITE_ITEMS.filter((item) => item.outlet === 'kyodo').map(normalizedRewrite);
    const prepared = prepareDocument({ sourceId: 'kyodo', items, topics: counting, record: () => bareRecord('kyodo') });
    expect(matched).toEqual(items.map((item) => item.guid));
    const { result, matched: memberships } = await new StoreQueue(db).store(prepared);
    expect(result.stored).toHaveLength(items.length);
    expect(memberships).toBeGreaterThan(0);
    expect(matched).toHaveLength(items.length);
  });

  it("runs the store step's statements prepared, each planned for its own parameters, without JIT", async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo']);
    const items = REWRITE_ITEMS.filter((item) => item.outlet === 'kyodo').map(normalizedRewrite);
    const prepared = await db.transaction(async (tx) => {
      await storeItems(tx, 'kyodo', items);
      return rowsOf<{ statement: string; plan: string; jit: string }>(
        tx,
        sql`select statement, current_setting('plan_cache_mode') as plan, current_setting('jit') as jit
            from pg_prepared_statements where statement like '%insert into items%'`,
      );
    });
    // Prepared on this connection (described once, not before every execution), never with a generic plan, and never
    // compiled.
    expect(prepared).toHaveLength(1);
    expect(prepared[0]).toMatchObject({ plan: 'force_custom_plan', jit: 'off' });
  });

  it("keeps two index entries per membership: the key (story first) also finds a story's memberships", async () => {
    const indexes = await testDatabase().handle.rows<{ indexdef: string }>(
      sql`select indexdef from pg_indexes where tablename = 'topic_stories' order by indexname`,
    );
    expect(indexes.map(({ indexdef }) => indexdef.replace(/^.* USING btree /, ''))).toEqual([
      '(topic_slug, published_at DESC, story_id DESC)',
      '(story_id, topic_slug)',
    ]);
  });

  it('compares a candidate stored without its shingles (before migration 0003) by its signature', async () => {
    const { db } = testDatabase().handle;
    const [wire] = versionsOf(first!);
    await addSources(['kyodo', 'jiji']);
    const [stored] = (await db.transaction((tx) => storeItems(tx, 'kyodo', [normalizedRewrite(wire!)]))).stored;
    // As a row stored before migration 0003 holds it: its signatures, no shingles.
    const print = fingerprint(wire!.title, normalizedRewrite(wire!).contentText!);
    await db.execute(
      sql`update items set shingles = null, title_signature = ${`{${print.titleSignature.join(',')}}`}::int[], body_signature = ${`{${print.bodySignature.join(',')}}`}::int[]`,
    );
    const reprint = { ...normalizedRewrite(wire!), url: 'https://jiji.example/reprint', guid: 'jiji-reprint' };
    const { stored: joined } = await db.transaction((tx) => storeItems(tx, 'jiji', [reprint]));
    expect(joined.map((item) => item.storyId)).toEqual([stored!.storyId]);
  });

  it('syncs the config into sources writing only what changed: new ones inserted, changed ones updated, a moved one reset', async () => {
    const { db } = testDatabase().handle;
    const source = (id: string, fields: Partial<Source> = {}): Source => ({
      id,
      url: `https://${id}.example/feed.xml`,
      pollSeconds: 900,
      priority: 0,
      network: { kind: 'public-only' },
      shortUrlHosts: [],
      tags: [],
      ...fields,
    });
    const versions = async () =>
      new Map((await testDatabase().handle.rows<{ id: string; xmin: string }>(sql`select id, xmin::text from sources`)).map((row) => [row.id, row.xmin]));
    await syncSources(db, [source('kyodo'), source('jiji'), source('nhk')]);
    await db.execute(sql`update sources set etag = '"v1"', error_count = 3`);
    const before = await versions();
    expect([...before.keys()].sort()).toEqual(['jiji', 'kyodo', 'nhk']);
    await syncSources(db, [source('kyodo'), source('jiji'), source('nhk')]);
    expect(await versions()).toEqual(before); // nothing rewritten
    await syncSources(db, [
      source('kyodo', { title: 'Kyodo News' }),
      source('jiji', { url: 'https://jiji.example/moved.xml' }),
      source('nhk'),
      source('asahi'),
    ]);
    const after = await versions();
    expect(
      [...after]
        .filter(([id, version]) => before.get(id) !== version)
        .map(([id]) => id)
        .sort(),
    ).toEqual(['asahi', 'jiji', 'kyodo']);
    const rows = await testDatabase().handle.rows<{ id: string; title: string | null; etag: string | null; error_count: number }>(
      sql`select id, title, etag, error_count from sources order by id`,
    );
    expect(rows).toEqual([
      { id: 'asahi', title: null, etag: null, error_count: 0 },
      { id: 'jiji', title: null, etag: null, error_count: 0 }, // moved: starts afresh
      { id: 'kyodo', title: 'Kyodo News', etag: '"v1"', error_count: 3 },
      { id: 'nhk', title: null, etag: '"v1"', error_count: 3 },
    ]);
  });

  it("files topic entries at their story's time, moves them only when it moves, and carries them into a merge's survivor", async () => {
    const { db, rows } = testDatabase().handle;
    await addSources(['early', 'late', 'third']);
    const definitions = [
      { slug: 'all', title: 'All', query: 'the', limit: 50 },
      { slug: 'late-only', title: 'Late', query: 'the', sources: ['late'], limit: 50 },
      { slug: 'third-only', title: 'Third', query: 'the', sources: ['third'], limit: 50 },
    ];
    // late-only has a webhook: its new entries are queued for it.
    await db.insert(topics).values(
      definitions.map(({ slug, title, query }) => ({
        slug,
        title,
        query,
        definitionHash: 'x',
        notifies: slug === 'late-only',
        webhooks: slug === 'late-only' ? [''] : [],
      })),
    );
    const matcher = new TopicMatcher(compileTopics(definitions));
    const store = (sourceId: string, items: NormalizedItem[]) => db.transaction((tx) => storeAndMatch(tx, [{ sourceId, items, topics: matcher }]));
    const queued = async () =>
      (await rows<{ topic_slug: string; story_id: string }>(sql`select topic_slug, story_id from webhook_deliveries`)).map(Object.values);
    const entries = () =>
      rows<{ topic_slug: string; story_id: string; published_at: string; xmin: string }>(
        sql`select topic_slug, story_id, to_json(published_at) #>> '{}' as published_at, xmin::text from topic_stories order by topic_slug, story_id`,
      );
    const at = (hours: number) => new Date(T0 + hours * HOUR).toISOString();
    const storyTime = async (id: string) => {
      const [row] = await rows<{ published_at: string }>(sql`select published_at from stories where id = ${id}`);
      return row && new Date(row.published_at).toISOString();
    };

    // The quake reported at 02:00 by one outlet: its story starts then.
    const [quake] = (await store('early', [reportAt('https://early.example/quake', 'Quake hits Noto', QUAKE, 2)]))[0]!.result.stored;
    // Another outlet's copy, dated an hour earlier, joins it and files it under its own topic: the story's time moves
    // to 01:00, and so do its entries, old and new.
    const [copy] = (await store('late', [reportAt('https://late.example/quake', 'Strong quake in Ishikawa', `KANAZAWA - ${QUAKE}`, 1)]))[0]!.result.stored;
    expect(copy!.storyId).toBe(quake!.storyId);
    expect(await queued()).toEqual([['late-only', quake!.storyId]]);
    expect(await storyTime(quake!.storyId)).toBe(at(1));
    const afterCopy = await entries();
    expect(afterCopy.map(({ topic_slug, published_at }) => [topic_slug, new Date(published_at).toISOString()])).toEqual([
      ['all', at(1)],
      ['late-only', at(1)],
    ]);
    // A third copy, dated later, leaves the story's time where it is: its new entry is filed at the story's time, not
    // its own, and the entries already there are not rewritten.
    await store('third', [reportAt('https://third.example/quake', 'Noto quake', `(Kyodo) ${QUAKE}`, 5)]);
    const afterThird = await entries();
    expect(afterThird.map(({ topic_slug, published_at }) => [topic_slug, new Date(published_at).toISOString()])).toEqual([
      ['all', at(1)],
      ['late-only', at(1)],
      ['third-only', at(1)],
    ]);
    expect(afterThird.slice(0, 2).map(({ xmin }) => xmin)).toEqual(afterCopy.map(({ xmin }) => xmin));

    // An older story of its own (the defense talks, at midnight), then an item carrying both texts: it bridges the two
    // stories, the quake's is absorbed into the older, and its entries go with it, at the survivor's time.
    const [talks] = (await store('early', [reportAt('https://early.example/talks', 'Defense chiefs agree', TALKS, 0)]))[0]!.result.stored;
    expect(talks!.storyId).not.toBe(quake!.storyId);
    await store('third', [reportAt('https://third.example/both', 'Defense talks; quake in Noto', `${TALKS} ${QUAKE}`, 3)]);
    expect(await storyTime(quake!.storyId)).toBeUndefined();
    expect((await entries()).map(({ topic_slug, story_id, published_at }) => [topic_slug, story_id, new Date(published_at).toISOString()])).toEqual([
      ['all', talks!.storyId, at(0)],
      ['late-only', talks!.storyId, at(0)],
      ['third-only', talks!.storyId, at(0)],
    ]);
    // The queued delivery of the absorbed story now sends the story that absorbed it.
    expect(await queued()).toEqual([['late-only', talks!.storyId]]);
  });

  it('files a story it started without a conflict check, but not one that absorbed a stored story and its entries', async () => {
    const { db, rows } = testDatabase().handle;
    await addSources(['early', 'late']);
    const definitions = [
      { slug: 'all', title: 'All', query: 'the', limit: 50 },
      { slug: 'late-only', title: 'Late', query: 'the', sources: ['late'], limit: 50 },
    ];
    await db.insert(topics).values(definitions.map(({ slug, title, query }) => ({ slug, title, query, definitionHash: 'x' })));
    const matcher = new TopicMatcher(compileTopics(definitions));
    const store = async (sourceId: string, items: NormalizedItem[]) =>
      (await db.transaction((tx) => storeAndMatch(tx, [{ sourceId, items, topics: matcher }])))[0]!;

    const first = await store('late', [reportAt('https://late.example/quake', 'Quake hits Noto', QUAKE, 2)]);
    const [quake] = first.result.stored;
    expect(quake!.startedStory).toBe(true);
    expect(first.matched).toBe(2);
    // One document: the talks at 01:00 start a story, older than the quake's; a later item carrying both texts bridges
    // them, so the new story absorbs the stored one, whose entries it takes over before its own are filed.
    const second = await store('early', [
      reportAt('https://early.example/talks', 'Defense chiefs agree', TALKS, 1),
      reportAt('https://early.example/both', 'Defense talks; quake in Noto', `${TALKS} ${QUAKE}`, 3),
    ]);
    const [talks, both] = second.result.stored;
    expect(both!.storyId).toBe(talks!.storyId);
    expect([talks!.startedStory, both!.startedStory]).toEqual([false, false]);
    expect(second.matched).toBe(0);
    const entries = await rows<{ topic_slug: string; story_id: string }>(sql`select topic_slug, story_id from topic_stories order by topic_slug`);
    expect(entries.map(({ topic_slug, story_id }) => [topic_slug, story_id])).toEqual([
      ['all', talks!.storyId],
      ['late-only', talks!.storyId],
    ]);
  });

  it('tells its caller the topics a new or revised item matches, and none for a refetch', async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo']);
    const definitions = [
      { slug: 'quakes', title: 'Quakes', query: 'earthquake', limit: 50 },
      { slug: 'markets', title: 'Markets', query: 'stocks', limit: 50 },
    ];
    await db.insert(topics).values(definitions.map(({ slug, title, query }) => ({ slug, title, query, definitionHash: 'x' })));
    const matcher = new TopicMatcher(compileTopics(definitions));
    const quake = (text: string): NormalizedItem => ({
      guid: 'kyodo-quake-1',
      url: 'https://kyodo.example/quake-1',
      title: 'Strong quake hits Noto',
      contentText: text,
      categories: [],
      language: 'en',
      publishedAt: new Date('2024-06-03T00:10:00Z'),
      dateEstimated: false,
    });
    const store = async (item: NormalizedItem) => {
      const [document] = await db.transaction((tx) => storeAndMatch(tx, [{ sourceId: 'kyodo', items: [item], topics: matcher }]));
      const { stored, revised, duplicates } = document!.result;
      return { stored: stored.length, revised: revised.length, duplicates, changedTopics: document!.changedTopics, matched: document!.matched };
    };
    const first = 'A strong earthquake struck the Noto Peninsula on Monday morning.';
    expect(await store(quake(first))).toEqual({ stored: 1, revised: 0, duplicates: 0, changedTopics: ['quakes'], matched: 1 });
    expect(await store(quake(first))).toEqual({ stored: 0, revised: 0, duplicates: 1, changedTopics: [], matched: 0 });
    // The same report corrected in place: no topic gains a story, but the quake topic's entry changed.
    const corrected = `${first} The Japan Meteorological Agency revised its magnitude to 6.0.`;
    expect(await store(quake(corrected))).toEqual({ stored: 0, revised: 1, duplicates: 0, changedTopics: ['quakes'], matched: 0 });
  });

  it("keeps an item's text once where it is its HTML's, and gives it back to topic previews and backfills", async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo']);
    const context = { feedUrl: 'https://kyodo.example/feed.xml', fetchedAt: new Date('2024-06-03T01:00:00Z'), shortUrlHosts: [] };
    const filler = 'Officials in Okinawa said ferries would stay in port and schools would close. '.repeat(8);
    const parsed = (guid: string, fields: Partial<ParsedItem>): ParsedItem => ({
      guid,
      link: `https://kyodo.example/${guid}`,
      title: 'Storm nears Okinawa',
      titleType: 'text',
      dates: ['2024-06-03T00:00:00Z'],
      categories: [],
      ...fields,
    });
    // The word the topic looks for is only at the end of the HTML's text, past the summary excerpted from it.
    const html = normalizeItem(
      parsed('storm-1', { contentHtml: `<p>${filler}</p><p>The <b>typhoon</b> weakened overnight.</p>` }),
      { format: 'rss', items: [] },
      context,
    );
    const own = normalizeItem(parsed('storm-2', { contentText: `${filler} A second typhoon formed.` }), { format: 'json', items: [] }, context);
    expect([html.textFromHtml, own.textFromHtml]).toEqual([true, false]);
    expect(html.summary).not.toContain('typhoon');
    await storeItems(db, 'kyodo', [html, own]);
    const rows = await rowsOf<{ url: string; content_html: string | null; content_text: string | null }>(
      db,
      sql`select url, content_html, content_text from items order by url`,
    );
    expect(rows).toEqual([
      { url: 'https://kyodo.example/storm-1', content_html: html.contentHtml, content_text: null },
      { url: 'https://kyodo.example/storm-2', content_html: null, content_text: own.contentText },
    ]);
    const read: Array<string | null> = [];
    await forEachRecentItem(db, new Date(0), (page) => read.push(...page.map((item) => item.contentText)));
    expect(read).toEqual([html.contentText, own.contentText]);
    const [typhoons] = compileTopics([{ slug: 'typhoons', title: 'Typhoons', query: 'typhoon weakened', limit: 50, backfillDays: 100_000 }]);
    expect(await backfillTopic(db, typhoons!, new TopicMatcher([typhoons!]))).toBe(1);
  });

  it("compares a new outlet's copy with the revised text of an item revised in the same step", async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo', 'jiji']);
    const at = new Date('2024-06-03T00:10:00Z');
    const QUAKE =
      'A strong earthquake with a preliminary magnitude of 5.9 struck the Noto Peninsula in Ishikawa Prefecture on Monday morning, the Japan Meteorological Agency said, shaking areas still recovering from the deadly quake.';
    const TALKS =
      "Japan's defense minister and the U.S. defense secretary agreed on Sunday to speed up work on upgrading command and control ties between the Self-Defense Forces and U.S. forces in Japan, meeting on the sidelines of a security forum.";
    const item = (guid: string, text: string): NormalizedItem => ({
      guid,
      url: `https://${guid.split('-')[0]}.example/${guid}`,
      title: 'Breaking',
      contentText: text,
      categories: [],
      language: 'en',
      publishedAt: at,
      dateEstimated: false,
    });
    // Kyodo's placeholder, then the same item rewritten in place with the report, stored in one step with Jiji's copy
    // of that report: the copy must meet the rewritten text (its bands and shingles), not the placeholder.
    const [placeholder] = (await db.transaction((tx) => storeItems(tx, 'kyodo', [item('kyodo-1', TALKS)]))).stored;
    const [revision, copy] = await db.transaction((tx) =>
      storeDocuments(tx, [
        { sourceId: 'kyodo', items: [item('kyodo-1', QUAKE)] },
        { sourceId: 'jiji', items: [item('jiji-1', `TOKYO - ${QUAKE}`)] },
      ]),
    );
    expect(revision!.revised.map(({ storyId }) => storyId)).toEqual([placeholder!.storyId]);
    expect(copy!.stored.map(({ storyId }) => storyId)).toEqual([placeholder!.storyId]);
  });

  it('marks as changed the topics named and the topics holding a story named, no others', async () => {
    const { db } = testDatabase().handle;
    await db.insert(topics).values(['named', 'holder', 'other'].map((slug) => ({ slug, title: slug, query: 'japan', definitionHash: 'x' })));
    await db.execute(sql`insert into stories (id, published_at, updated_at) values ('s1', now(), now()), ('s2', now(), now())`);
    await db.execute(sql`insert into topic_stories (topic_slug, story_id, published_at) values ('holder', 's1', now()), ('other', 's2', now())`);
    await db.execute(sql`update topics set changed_at = '2024-06-02T00:00:00Z'`);
    const changed = async () =>
      (await testDatabase().handle.rows<{ slug: string }>(sql`select slug from topics where changed_at > '2024-06-02T00:00:00Z' order by slug`)).map(
        ({ slug }) => slug,
      );
    await touchTopics(db, { slugs: [], storyIds: [] });
    expect(await changed()).toEqual([]);
    await touchTopics(db, { slugs: ['named'], storyIds: ['s1', 'no-such-story'] });
    expect(await changed()).toEqual(['holder', 'named']);
  });

  it('files stories under topics at their times, and counts each new membership once, for the first document proposing it', async () => {
    const { db } = testDatabase().handle;
    await db.execute(sql`insert into stories (id, published_at, updated_at) values
      ('s1', '2024-06-01T00:00:00Z', now()), ('s2', '2024-06-02T00:00:00Z', now()), ('s3', '2024-06-03T00:00:00Z', now())`);
    await db.execute(sql`insert into topic_stories (topic_slug, story_id, published_at) values ('security', 's3', '2024-06-03T00:00:00Z')`);
    // Only "security" has webhooks, two: its new memberships are queued for each, in the same statement.
    await db.execute(sql`insert into topics (slug, title, query, definition_hash, notifies, webhooks) values
      ('security', 'Security', 'security', '', true, '{"",desk}'), ('trade', 'Trade', 'trade', '', false, '{}')`);
    const added = await addMemberships(
      db,
      [
        // Document 2 proposes s1 under both topics; document 0 proposes it under one of them (and so counts it). s1 is a
        // story the caller started: filed without a conflict check, each topic once.
        { storyId: 's1', topicSlugs: ['security', 'trade'], proposer: 2, startedStory: true },
        { storyId: 's1', topicSlugs: ['security'], proposer: 0, startedStory: true },
        { storyId: 's2', topicSlugs: [], proposer: 1 },
        { storyId: 's2', topicSlugs: ['trade'], proposer: 1 },
        { storyId: 's2', topicSlugs: ['trade'], proposer: 2 },
        // Filed already: counts for no one. A story gone (merged away meanwhile): files nothing.
        { storyId: 's3', topicSlugs: ['security'], proposer: 1 },
        { storyId: 'gone', topicSlugs: ['security'], proposer: 3 },
      ],
      'queue',
    );
    expect(Object.fromEntries(added)).toEqual({ 0: 1, 1: 1, 2: 1 });
    const queued = await testDatabase().handle.rows<{ topic_slug: string; webhook: string; story_id: string }>(
      sql`select topic_slug, webhook, story_id from webhook_deliveries order by webhook`,
    );
    expect(queued.map((row) => [row.story_id, row.topic_slug, row.webhook])).toEqual([
      ['s1', 'security', ''],
      ['s1', 'security', 'desk'],
    ]);
    const rows = await testDatabase().handle.rows<{ topic_slug: string; story_id: string; published_at: Date }>(
      sql`select topic_slug, story_id, published_at from topic_stories order by story_id, topic_slug`,
    );
    expect(rows.map((row) => [row.story_id, row.topic_slug, new Date(row.published_at).toISOString()])).toEqual([
      ['s1', 'security', '2024-06-01T00:00:00.000Z'],
      ['s1', 'trade', '2024-06-01T00:00:00.000Z'],
      ['s2', 'trade', '2024-06-02T00:00:00.000Z'],
      ['s3', 'security', '2024-06-03T00:00:00.000Z'],
    ]);
    expect(await addMemberships(db, [{ storyId: 's1', topicSlugs: [], proposer: 0 }], 'queue')).toEqual(new Map());
    // A backfill's filings are not queued.
    await db.execute(sql`insert into stories (id, published_at, updated_at) values ('s4', '2024-06-04T00:00:00Z', now())`);
    expect(await addMemberships(db, [{ storyId: 's4', topicSlugs: ['security'], proposer: 0 }], 'skip')).toEqual(new Map([[0, 1]]));
    expect(await testDatabase().handle.rows(sql`select 1 from webhook_deliveries`)).toHaveLength(2);
  });

  it('refreshes planner statistics beside the batches that follow, never holding them up', async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo', 'jiji']);
    // ANALYZE takes this lock on each table it reads: held here, the queue's ANALYZE waits until the end of the test.
    const release = await holdingTransaction(db, (tx) => tx.execute(sql`lock table topic_stories in share update exclusive mode`));
    try {
      const queue = new StoreQueue(db);
      const grown = Array.from(
        { length: 1_000 },
        (_, index): NormalizedItem => ({
          guid: `kyodo-${index}`,
          url: `https://kyodo.example/${index}`,
          title: `Report number ${index} from the wire`,
          contentText: `Item ${index} of a thousand: enough stored items for the queue to refresh the planner's statistics.`,
          categories: [],
          publishedAt: new Date(Date.UTC(2024, 5, 2, 0, index)),
          dateEstimated: false,
        }),
      );
      expect(
        (await queue.store({ sourceId: 'kyodo', items: grown, topics: new TopicMatcher([]), record: () => bareRecord('kyodo') })).result.stored,
      ).toHaveLength(1_000);
      const next = REWRITE_ITEMS.filter((item) => item.outlet === 'jiji').map(normalizedRewrite);
      // Stored while the ANALYZE it started still waits for the lock.
      const { result } = await queue.store({ sourceId: 'jiji', items: next, topics: new TopicMatcher([]), record: () => bareRecord('jiji') });
      expect(result.stored).toHaveLength(next.length);
      // The ANALYZE is sent beside the batches, on a connection of its own: it may reach the server after this one.
      const analyzeWaiting = async () =>
        (
          await testDatabase().handle.rows<{ waiting: number }>(
            sql`select count(*)::int as waiting from pg_stat_activity where query like 'analyze items%' and wait_event_type = 'Lock'`,
          )
        )[0]?.waiting ?? 0;
      let waiting = await analyzeWaiting();
      for (let tries = 0; waiting === 0 && tries < 100; tries++) {
        await new Promise((done) => setTimeout(done, 50));
        waiting = await analyzeWaiting();
      }
      expect(waiting).toBe(1);
    } finally {
      await release();
    }
  });

  it('stores what waited during a batch together with what that batch released', async () => {
    const { db } = testDatabase().handle;
    const outlets = ['kyodo', 'jiji', 'reuters', 'japantoday', 'arabnews'];
    await addSources(outlets);
    const queue = new StoreQueue(db, { gatherMs: 1 });
    const documentOf = (sourceId: string): QueuedDocument => ({ sourceId, items: [], topics: new TopicMatcher([]), record: () => bareRecord(sourceId) });
    // The first batch waits on a lock of the fetch log, and a document arrives meanwhile.
    const release = await holdingTransaction(db, (tx) => tx.execute(sql`lock table fetch_log in exclusive mode`));
    const first = queue.store(documentOf('kyodo'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waited = queue.store(documentOf('jiji'));
    // Its fetcher, released by the first batch, hands over its next documents at once (as pipelined() does).
    const next = first.then(() => Promise.all(['reuters', 'japantoday', 'arabnews'].map((outlet) => queue.store(documentOf(outlet)))));
    await release();
    await Promise.all([waited, next]);
    const batches = await testDatabase().handle.rows<{ sources: string }>(
      sql`select string_agg(source_id, ' ' order by source_id) as sources from fetch_log group by xmin::text order by 1`,
    );
    expect(batches.map((batch) => batch.sources)).toEqual(['arabnews japantoday jiji reuters', 'kyodo']);
  });

  it('keeps nothing of a committed batch: its items are garbage once its callers are done with them', async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo']);
    const queue = new StoreQueue(db);
    // A caller that stores a document and is done with it, leaving only a weak reference to what was stored.
    const storeAndForget = async () => {
      const items = REWRITE_ITEMS.filter((item) => item.outlet === 'kyodo').map(normalizedRewrite);
      const { result } = await queue.store({ sourceId: 'kyodo', items, topics: new TopicMatcher([]), record: () => bareRecord('kyodo') });
      expect(result.stored).toHaveLength(items.length);
      return new WeakRef(result.stored);
    };
    const held = await storeAndForget();
    await collectGarbage();
    // The database client once kept what a transaction returned until its connection began the next one.
    expect(held.deref()).toBeUndefined();
  });

  it('records the fetches of a batch in two statements: a state sets only the fields it names, a later record wins', async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo', 'jiji']);
    const lastModified = 'Sun, 02 Jun 2024 08:06:19 GMT';
    await db
      .update(sources)
      .set({ etag: '"v1"', lastModified, errorCount: 3, siteUrl: 'https://www.kyodo.example/', leaseOwner: 'w1', leaseUntil: new Date() });
    const startedAt = new Date('2024-06-02T08:10:00Z');
    const nextCheckAt = new Date('2024-06-02T08:25:00Z');
    const base = { startedAt, durationMs: 12.6, itemsNew: 0, itemsDuplicate: 0, nextCheckAt };
    await recordFetches(db, [
      { ...base, sourceId: 'kyodo', outcome: 'not-modified', httpStatus: 304, state: { errorCount: 0 } },
      { ...base, sourceId: 'jiji', outcome: 'failed', httpStatus: 503, error: 'HTTP 503 from \u0000jiji', state: { errorCount: 4 } },
      {
        ...base,
        sourceId: 'jiji',
        outcome: 'ok',
        httpStatus: 200,
        itemsNew: 2,
        state: {
          errorCount: 0,
          etag: null,
          redirectCount: 1,
          fetchUrl: 'https://jiji.example/feed2.xml',
          goneAt: null,
          documentHash: 'c0ffee',
          documentItems: 2,
          documentSchedule: { ttlMinutes: 30, skipDays: ['Sunday'] },
        },
        siteUrl: 'https://www.jiji.example/',
      },
    ]);
    const rows = await db.select().from(sources).orderBy(sources.id);
    const common = { lastFetchedAt: startedAt, nextCheckAt, leaseOwner: null, leaseUntil: null, lastModified };
    expect(rows.find((row) => row.id === 'kyodo')).toMatchObject({
      ...common,
      etag: '"v1"',
      errorCount: 0,
      lastStatus: 'not-modified',
      lastError: null,
      siteUrl: 'https://www.kyodo.example/',
      fetchUrl: null,
      documentHash: null,
      documentSchedule: null,
    });
    expect(rows.find((row) => row.id === 'jiji')).toMatchObject({
      ...common,
      etag: null,
      errorCount: 0,
      redirectCount: 1,
      fetchUrl: 'https://jiji.example/feed2.xml',
      goneAt: null,
      lastStatus: 'ok',
      lastError: null,
      siteUrl: 'https://www.jiji.example/',
      documentHash: 'c0ffee',
      documentItems: 2,
      documentSchedule: { ttlMinutes: 30, skipDays: ['Sunday'] },
    });
    const log = await db.select().from(fetchLog).orderBy(fetchLog.id);
    expect(log.map((row) => [row.sourceId, row.outcome, row.httpStatus, row.itemsNew, row.durationMs, row.error])).toEqual([
      ['kyodo', 'not-modified', 304, 0, 13, null],
      ['jiji', 'failed', 503, 0, 13, 'HTTP 503 from jiji'],
      ['jiji', 'ok', 200, 2, 13, null],
    ]);
  });

  it('knows a refetch from its parsed form: its items are counted as duplicates without being normalized', async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo']);
    const feed = await parseFeed(rewriteOutletFeed('kyodo'));
    const context = { feedUrl: 'https://english.kyodonews.example/rss', fetchedAt: new Date(), shortUrlHosts: [] };
    const limits = { maxItems: 1_000, maxItemChars: 100_000 };
    const first = await normalizeDocument(db, feed, limits, 'kyodo', context);
    expect(first.knownDuplicates).toBe(0);
    await db.transaction((tx) => storeItems(tx, 'kyodo', first.items));
    const again = await normalizeDocument(db, feed, limits, 'kyodo', context);
    expect(again).toEqual({ items: [], knownDuplicates: feed.items.length });
    // Another source's identical document is not its refetch; a changed item is normalized again.
    expect((await normalizeDocument(db, feed, limits, 'jiji', context)).items).toHaveLength(feed.items.length);
    const changed = { ...feed, items: feed.items.map((item, index) => (index === 0 ? { ...item, title: `${item.title} (update)` } : item)) };
    const revised = await normalizeDocument(db, changed, limits, 'kyodo', context);
    expect(revised.items.map((item) => item.title)).toEqual([`${feed.items[0]!.title} (update)`]);
    expect(revised.knownDuplicates).toBe(feed.items.length - 1);
  });

  it("gives items stored without a parsed-item hash their own source's hash on a refetch, so the next is known early", async () => {
    const { db } = testDatabase().handle;
    await addSources(['kyodo', 'jiji']);
    const feed = await parseFeed(rewriteOutletFeed('kyodo'));
    const context = { feedUrl: 'https://english.kyodonews.example/rss', fetchedAt: new Date(), shortUrlHosts: [] };
    const limits = { maxItems: 1_000, maxItemChars: 100_000 };
    const store = async (sourceId: string) => {
      const { items } = await normalizeDocument(db, feed, limits, sourceId, context);
      return db.transaction((tx) => storeItems(tx, sourceId, items));
    };
    const unhashed = async () => (await testDatabase().handle.rows<{ n: number }>(sql`select count(*)::int as n from items where raw_hash is null`))[0]!.n;
    await store('kyodo');
    // As items stored before migration 0003 are.
    await db.execute(sql`update items set raw_hash = null`);
    // Another outlet's copy of the same pages is a duplicate by key, and leaves kyodo's rows as they are.
    expect((await store('jiji')).duplicates).toBe(feed.items.length);
    expect(await unhashed()).toBe(feed.items.length);
    const refetch = await store('kyodo');
    expect(refetch).toMatchObject({ stored: [], revised: [], duplicates: feed.items.length });
    expect(await unhashed()).toBe(0);
    expect(await normalizeDocument(db, feed, limits, 'kyodo', context)).toEqual({ items: [], knownDuplicates: feed.items.length });
  });
});
