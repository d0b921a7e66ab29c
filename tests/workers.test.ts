import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openMigratedDatabase } from '../src/db/client.js';
import { REWRITE_ITEMS, REWRITE_OUTLETS, type RewriteOutlet, rewriteOutletFeed } from './fixtures/wire-rewrites.js';
import { type CliProcess, runCli, waitFor } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { createThrowawayDatabase, testEngine, testServerUrl } from './helpers/database.js';
import { rss2 } from './helpers/feeds.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

/**
 * Several worker processes sharing one Postgres: due sources are claimed with FOR UPDATE SKIP LOCKED leases, so each
 * source is fetched by one of them once per period, and a killed worker's sources are taken over when its leases
 * expire. Runs on a real Postgres server (the embedded one is shared the same way; tests/embedded.test.ts covers it).
 */
const adminUrl = testEngine() === 'postgres' ? testServerUrl() : undefined;
const SOURCES = 300;
const PERIOD_SECONDS = 10;
const LEASE_SECONDS = 5;

describe.skipIf(!adminUrl)('three worker processes on one Postgres', () => {
  let server: TestServer;
  let target: { url: string; drop(): Promise<void> };
  let database: DatabaseHandle;
  const hits = new Map<string, number>();
  /** Every worker started, so that a failed test leaves none polling a dropped database. */
  const started: CliProcess[] = [];
  const startWorkers = (count: number, dir: string) => {
    const workers = Array.from({ length: count }, () => runCli(['worker', '--config', dir], { DATABASE_URL: target.url }));
    started.push(...workers);
    return workers;
  };

  beforeAll(async () => {
    server = await startTestServer((request, response) => {
      const source = /\/feed\/(\d+)$/.exec(request.url!)![1]!;
      hits.set(source, (hits.get(source) ?? 0) + 1);
      const item = { title: `Story of outlet ${source}`, link: `https://outlets.example/${source}`, pubDate: 'Sun, 02 Jun 2024 08:00:00 +0900' };
      // Slow enough that the three workers overlap and a killed worker dies with fetches in flight.
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss2(`Outlet ${source}`, [item])), 150);
    });
    target = await createThrowawayDatabase(adminUrl!, 'wirefeed_workers');
    // Migrations run before the workers start, as `docker compose` runs `wirefeed migrate` first.
    database = await openMigratedDatabase({ url: target.url });
  });

  afterAll(async () => {
    for (const worker of started) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await Promise.all(started.map((worker) => worker.exited));
    await server?.close();
    await database?.close();
    await target?.drop();
  });

  it(`fetch every source once per ${PERIOD_SECONDS}s period between them, and take over the sources of a worker killed mid-run`, async () => {
    const sources = Array.from(
      { length: SOURCES },
      (_, index) => `  - id: s${index}\n    url: ${server.url}/feed/${index}\n    allowPrivateNetwork: true\n    every: ${PERIOD_SECONDS}s\n`,
    ).join('');
    const dir = writeConfigDir({
      'sources.yml': `fetch:\n  concurrency: 16\n  perHost: 16\nworker:\n  tick: '* * * * * *'\n  lease: ${LEASE_SECONDS}s\n  batch: 40\n  minInterval: 1s\nsources:\n${sources}`,
    });
    const workers = startWorkers(3, dir);
    const owners = await Promise.all(workers.map((worker) => waitFor(() => /"owner":"(worker-[^"]+)","sources"/.exec(worker.output().stderr)?.[1], worker)));
    const okFetches = async () => {
      const rows = await database.rows<{ source_id: string; started: number[] }>(sql`
        select source_id, array_agg(extract(epoch from started_at)::float8 order by started_at) as started
        from fetch_log where outcome = 'ok' group by source_id`);
      return new Map(rows.map((row) => [row.source_id, row.started.map(Number)]));
    };
    let killedHeld: string[] = [];
    try {
      // Kill one worker with SIGKILL while it holds leases on sources whose fetches are in flight.
      const killed = workers[0]!;
      await waitFor(async () => {
        const [row] = await database.rows<{ held: number }>(sql`select count(*)::int as held from sources where lease_owner = ${owners[0]}`);
        return row!.held > 0 ? true : undefined;
      }, killed);
      killed.child.kill('SIGKILL');
      await killed.exited;
      killedHeld = (await database.rows<{ id: string }>(sql`select id from sources where lease_owner = ${owners[0]}`)).map((row) => row.id);
      expect(killedHeld.length).toBeGreaterThan(0);

      // Two periods: every source fetched (and stored) twice, the killed worker's ones by the others.
      await waitFor(
        async () => {
          const fetched = await okFetches();
          return fetched.size === SOURCES && [...fetched.values()].every((starts) => starts.length >= 2) ? true : undefined;
        },
        workers[1],
        60_000,
      );
    } finally {
      for (const worker of workers.slice(1)) worker.child.kill('SIGTERM');
      await Promise.all(workers.map((worker) => worker.exited));
    }

    const fetched = await okFetches();
    const tooSoon = [...fetched.entries()].filter(([, starts]) =>
      starts.some((start, index) => index > 0 && start - starts[index - 1]! < PERIOD_SECONDS - 0.5),
    );
    expect(tooSoon).toEqual([]);
    // Every request the feed server saw was a stored fetch, except those the killed worker died with.
    const wasted = [...hits.entries()].filter(([source, count]) => count !== fetched.get(`s${source}`)!.length).map(([source]) => `s${source}`);
    expect(wasted.filter((id) => !killedHeld.includes(id))).toEqual([]);
    const claimedBy = workers.map((worker) => [...worker.output().stderr.matchAll(/"claimed":(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0));
    expect(claimedBy.slice(1).every((count) => count > 0)).toBe(true);
  }, 120_000);

  it("with the default lease, a SIGKILLed worker's claimed sources are fetched by another within 60 s, each once", async () => {
    await database.db.execute(sql`truncate fetch_log, topic_stories, item_bands, items, stories, topics, sources cascade`);
    const COUNT = 60;
    const sources = Array.from(
      { length: COUNT },
      (_, index) => `  - id: t${index}\n    url: ${server.url}/feed/${1000 + index}\n    allowPrivateNetwork: true\n    every: 10m\n`,
    ).join('');
    // The default worker.lease; a claimed batch mostly waits in its worker's queue (2 at a time, 150 ms each).
    const dir = writeConfigDir({
      'sources.yml': `fetch:\n  concurrency: 2\n  perHost: 2\nworker:\n  tick: '* * * * * *'\n  batch: 30\nsources:\n${sources}`,
    });
    const workers = startWorkers(2, dir);
    const owners = await Promise.all(workers.map((worker) => waitFor(() => /"owner":"(worker-[^"]+)","sources"/.exec(worker.output().stderr)?.[1], worker)));
    try {
      const killed = workers[0]!;
      const held = async () =>
        (
          await database.rows<{ id: string }>(sql`
          select id from sources where lease_owner = ${owners[0]} and not exists (select 1 from fetch_log where source_id = sources.id and outcome = 'ok')`)
        ).map((row) => row.id);
      await waitFor(async () => ((await held()).length >= 10 ? true : undefined), killed);
      killed.child.kill('SIGKILL');
      await killed.exited;
      const killedAt = Date.now();
      const orphans = await held();
      expect(orphans.length).toBeGreaterThanOrEqual(10);

      const fetchedAt = async () => {
        const rows = await database.rows<{ source_id: string; fetches: number; first: number }>(sql`
          select source_id, count(*)::int as fetches, min(extract(epoch from started_at))::float8 as first
          from fetch_log where outcome = 'ok' group by source_id`);
        return new Map(rows.map((row) => [row.source_id, { fetches: Number(row.fetches), first: Number(row.first) * 1000 }]));
      };
      const all = await waitFor(
        async () => {
          const fetched = await fetchedAt();
          return fetched.size === COUNT ? fetched : undefined;
        },
        workers[1],
        90_000,
      );
      const takeover = Math.max(...orphans.map((id) => all.get(id)!.first)) - killedAt;
      console.log(`takeover: ${orphans.length} sources of the killed worker fetched by the other within ${(takeover / 1000).toFixed(1)} s`);
      expect(takeover).toBeLessThan(60_000);
      expect([...all.values()].filter((entry) => entry.fetches !== 1)).toEqual([]);
    } finally {
      workers[1]!.child.kill('SIGTERM');
      await Promise.all(workers.map((worker) => worker.exited));
    }
  }, 120_000);

  it('two workers storing outlets of the same stories at the same moment still put each story in one', async () => {
    await database.db.execute(sql`truncate fetch_log, topic_stories, item_bands, items, stories, topics, sources cascade`);
    const outlets = Object.keys(REWRITE_OUTLETS) as RewriteOutlet[];
    const feeds = await startTestServer((request, response) => {
      const outlet = /\/outlet\/([a-z]+)$/.exec(request.url!)![1] as RewriteOutlet;
      // Every outlet answers after the same delay: the two workers' store steps meet, and a worker busy with its
      // batch skips its next ticks, leaving the other outlets to the other worker.
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rewriteOutletFeed(outlet)), 1_500);
    });
    const sources = outlets.map((outlet) => `  - id: ${outlet}\n    url: ${feeds.url}/outlet/${outlet}\n    allowPrivateNetwork: true\n`).join('');
    const dir = writeConfigDir({
      'sources.yml': `fetch:\n  concurrency: 4\n  perHost: 8\nworker:\n  tick: '* * * * * *'\n  batch: 4\nsources:\n${sources}`,
    });
    const workers = startWorkers(2, dir);
    try {
      await waitFor(
        async () => {
          const [row] = await database.rows<{ fetched: number }>(sql`select count(distinct source_id)::int as fetched from fetch_log where outcome = 'ok'`);
          return row!.fetched === outlets.length ? true : undefined;
        },
        workers[0],
        60_000,
      );
    } finally {
      for (const worker of workers) worker.child.kill('SIGTERM');
      await Promise.all(workers.map((worker) => worker.exited));
      await feeds.close();
    }
    const rows = await database.rows<{ source_id: string; guid: string; story_id: string }>(sql`select source_id, guid, story_id from items`);
    expect(rows).toHaveLength(REWRITE_ITEMS.length);
    const storyOf = new Map(rows.map((row) => [`${row.source_id}|${row.guid}`, row.story_id]));
    let together = 0;
    let apart = 0;
    let wronglyTogether = 0;
    for (const [i, a] of REWRITE_ITEMS.entries()) {
      for (const b of REWRITE_ITEMS.slice(i + 1)) {
        const same = storyOf.get(`${a.outlet}|${a.guid}`) === storyOf.get(`${b.outlet}|${b.guid}`);
        if (a.event === b.event) same ? together++ : apart++;
        else if (same) wronglyTogether++;
      }
    }
    // What one process achieves on this set (tests/cluster.test.ts): every outlet of an event in one story.
    expect({ apart, wronglyTogether }).toEqual({ apart: 0, wronglyTogether: 0 });
    expect(together).toBeGreaterThan(100);
    // Both workers stored some of the outlets: the store steps did run side by side.
    const claimed = workers.map((worker) => [...worker.output().stderr.matchAll(/"claimed":(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0));
    expect(
      claimed.every((count) => count > 0),
      `claimed per worker: ${claimed.join(', ')}`,
    ).toBe(true);
  }, 120_000);
});
