import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openMigratedDatabase } from '../src/db/client.js';
import { listeningUrl, runCli, waitFor } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { createThrowawayDatabase, testEngine, testServerUrl } from './helpers/database.js';
import { rss2 } from './helpers/feeds.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

/**
 * Our own database going away: at start, and in the middle of an ingest pass. The app reaches Postgres through a
 * TCP proxy the test cuts and restores. Needs a real Postgres.
 */
const adminUrl = testEngine() === 'postgres' ? testServerUrl() : undefined;
const SOURCES = 30;
const ITEMS_PER_SOURCE = 4;

/** Headline words no other fixture story shares, so clustering keeps every story apart. */
function uniqueWords(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return hex
    .match(/.{6}/g)!
    .map((chunk) => chunk.replace(/\d/g, (digit) => 'aeiouybcdf'[Number(digit)]!))
    .join(' ');
}

function feedOf(source: number): string {
  const items = Array.from({ length: ITEMS_PER_SOURCE }, (_, index) => ({
    title: `Wire ${uniqueWords(`${source}-${index}`)}`,
    link: `https://outlet${source}.example/story/${index}`,
    pubDate: new Date(Date.UTC(2024, 5, 1) + (source * ITEMS_PER_SOURCE + index) * 3_600_000).toUTCString(),
  }));
  return rss2(`Outlet ${source}`, items);
}

describe.skipIf(!adminUrl)('database outages', () => {
  let proxy: TcpProxy;
  let target: { url: string; drop(): Promise<void> };
  let direct: DatabaseHandle;
  /** The app's URL: the throwaway database, reached through the proxy. */
  let proxiedUrl: string;

  beforeAll(async () => {
    const server = new URL(adminUrl!);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    target = await createThrowawayDatabase(adminUrl!, 'wirefeed_outage');
    const url = new URL(target.url);
    url.host = `127.0.0.1:${proxy.port}`;
    proxiedUrl = url.href;
    direct = await openMigratedDatabase({ url: target.url }); // as `wirefeed migrate` would before the workers start
  });

  afterAll(async () => {
    await direct?.close();
    await proxy?.close();
    await target?.drop();
  });

  it('an outage mid-ingest loses nothing, duplicates nothing and charges no source', async () => {
    const requests: Array<{ source: string; conditional: boolean }> = [];
    let fixtures: TestServer | undefined;
    fixtures = await startTestServer((request, response) => {
      const source = /\/feed\/(\d+)/.exec(request.url!)![1]!;
      requests.push({ source, conditional: request.headers['if-none-match'] !== undefined });
      if (requests.length === 8) {
        // The database dies while these fetches are in flight, and is back soon after their store steps failed:
        // anything the worker then wrote about them (an error count, a failed fetch) would land.
        proxy.cut();
        setTimeout(() => proxy.restore(), 400);
      }
      if (request.headers['if-none-match'] === `"v-${source}"`) return void response.writeHead(304).end();
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/rss+xml', etag: `"v-${source}"` }).end(feedOf(Number(source))), 100);
    });
    const sources = Array.from(
      { length: SOURCES },
      (_, index) => `  - id: s${index}\n    url: ${fixtures!.url}/feed/${index}\n    allowPrivateNetwork: true\n    every: 1h\n`,
    ).join('');
    const dir = writeConfigDir({
      'sources.yml': `fetch:\n  concurrency: 4\n  perHost: 4\nworker:\n  tick: '* * * * * *'\n  lease: 2s\nsources:\n${sources}`,
      'topics.yml': `topics:\n  - slug: wire\n    title: Wire\n    query: wire\n`,
    });
    // A real worker process: the outage must not crash it (postgres.js can throw from a timer when a connection
    // drops with writes pending; the process survives that, see guardDriverCrashes).
    const worker = runCli(['worker', '--config', dir], { DATABASE_URL: proxiedUrl, LOG_LEVEL: 'info' });
    try {
      const settled = async () => {
        const [row] = await direct.rows<{ ok: number }>(sql`select count(*)::int as ok from sources where last_status = 'ok'`);
        return row!.ok === SOURCES ? true : undefined;
      };
      // A transaction caught by the cut can wedge in postgres.js (porsager/postgres#1186) until the store deadline
      // (30 s) defers its source; the worker's next claim after that stores it.
      await waitFor(settled, worker, 60_000).catch(async (error: Error) => {
        const unsettled = await direct.rows(
          sql`select id, last_status, last_error, error_count, next_check_at, lease_until from sources where last_status is distinct from 'ok'`,
        );
        throw new Error(`${error.message}\nsources not yet stored: ${JSON.stringify(unsettled)}`);
      });
      expect(worker.output().stderr).toMatch(/"msg":"nothing stored; the source is not charged/);
    } finally {
      worker.child.kill('SIGTERM');
      await fixtures.close();
    }
    expect(await worker.exited).toBe(0);

    // Fetches whose store step died with the connection were made again, and without the validators of the lost
    // attempt: the ETag is only kept in the transaction that keeps the items.
    const refetched = new Set(
      requests.filter((request, index) => requests.findIndex((other) => other.source === request.source) < index).map((request) => request.source),
    );
    expect(refetched.size).toBeGreaterThan(0);
    expect(requests.filter((request) => refetched.has(request.source) && request.conditional)).toEqual([]);

    const [counts] = await direct.rows<{ items: number; keys: number; stories: number; members: number }>(sql`
      select (select count(*)::int from items) as items,
             (select count(distinct (source_id, url))::int from items) as keys,
             (select count(*)::int from stories) as stories,
             (select count(*)::int from topic_stories where topic_slug = 'wire') as members`);
    expect(counts).toEqual({
      items: SOURCES * ITEMS_PER_SOURCE,
      keys: SOURCES * ITEMS_PER_SOURCE,
      stories: SOURCES * ITEMS_PER_SOURCE,
      members: SOURCES * ITEMS_PER_SOURCE,
    });
    const charged = await direct.rows<{ id: string }>(sql`select id from sources where error_count > 0 or last_error is not null`);
    expect(charged).toEqual([]);
    const failures = await direct.rows<{ n: number }>(sql`select count(*)::int as n from fetch_log where outcome <> 'ok'`);
    expect(failures[0]!.n).toBe(0);
  }, 100_000);

  it('started while the database is down, the server is healthy but not ready, then ready once it is back', async () => {
    const TOKEN = 'outage-test-token-0123';
    proxy.cut();
    const fixtures = await startTestServer((_request, response) => response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feedOf(99)));
    const dir = writeConfigDir({
      'sources.yml': `sources:\n  - id: outlet\n    url: ${fixtures.url}/feed/99\n    allowPrivateNetwork: true\n`,
      'topics.yml': `topics:\n  - slug: late\n    title: Late\n    query: wire\n    sources: [outlet]\n`,
      // With an access token: asked for by /metrics already while the app waits for its database.
      'publish.yml': `publish:\n  token: ${TOKEN}\n`,
    });
    const cli = runCli(['run', '--config', dir], { DATABASE_URL: proxiedUrl, PORT: '0', HOST: '127.0.0.1' });
    try {
      const url = await listeningUrl(cli);
      await waitFor(() => (/database unavailable at start; retrying/.test(cli.output().stderr) ? true : undefined), cli);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const readiness = await fetch(`${url}/readyz`);
      expect(readiness.status).toBe(503);
      expect(await readiness.text()).toMatch(/^not ready: starting, database unavailable \(.+\); attempt \d+ failed, next in \d+s\n$/);
      expect((await fetch(`${url}/topics/late.rss?token=${TOKEN}`)).status).toBe(503);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);

      proxy.restore();
      await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), cli, 30_000);
      await waitFor(() => (fixtures.requests.length > 0 ? true : undefined), cli);
      await waitFor(async () => {
        const feed = (await (await fetch(`${url}/topics/late.json?token=${TOKEN}`)).json()) as { items: unknown[] };
        return feed.items.length === ITEMS_PER_SOURCE ? true : undefined;
      }, cli);
    } finally {
      proxy.restore();
      cli.child.kill('SIGTERM');
      await fixtures.close();
    }
    expect(await cli.exited).toBe(0);
  }, 60_000);

  it('stops cleanly on SIGTERM while still waiting for the database', async () => {
    proxy.cut();
    const dir = writeConfigDir({ 'sources.yml': 'sources: []\n' });
    const cli = runCli(['worker', '--config', dir], { DATABASE_URL: proxiedUrl });
    try {
      await waitFor(() => (/database unavailable at start; retrying/.test(cli.output().stderr) ? true : undefined), cli);
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      expect(cli.output().stderr).toMatch(/stopped while starting/);
    } finally {
      proxy.restore();
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  }, 30_000);
});
