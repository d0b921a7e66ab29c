import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMigratedDatabase } from '../src/db/client.js';
import { writeConfigDir } from './helpers/config.js';
import { rss2 } from './helpers/feeds.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

/**
 * Several worker processes sharing one Postgres: due sources are claimed with FOR UPDATE SKIP LOCKED leases, so each
 * source is fetched by exactly one of them. Needs a real Postgres (PGlite is one process by design).
 */
const adminUrl = process.env.WIREFEED_TEST_POSTGRES;
const ROOT = resolve(import.meta.dirname, '..');
const SOURCES = 300;

describe.skipIf(!adminUrl)('three worker processes on one Postgres', () => {
  let server: TestServer;
  let databaseUrl: string;
  let dropDatabase: () => Promise<void>;
  const hits = new Map<string, number>();

  beforeAll(async () => {
    server = await startTestServer((request, response) => {
      hits.set(request.url!, (hits.get(request.url!) ?? 0) + 1);
      // Slow enough that the three workers overlap.
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss2(`Outlet ${request.url}`, [{ title: `Story of ${request.url}`, link: `https://outlets.example${request.url}`, pubDate: 'Sun, 02 Jun 2024 08:00:00 +0900' }])), 150);
    });
    const name = `wirefeed_workers_${randomBytes(5).toString('hex')}`;
    const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const url = new URL(adminUrl!);
    url.pathname = `/${name}`;
    databaseUrl = url.href;
    // Migrations run before the workers start, as `docker compose` runs `wirefeed migrate` first.
    await (await openMigratedDatabase({ url: databaseUrl })).close();
    dropDatabase = async () => {
      const cleanup = postgres(adminUrl!, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    };
  });

  afterAll(async () => {
    await server?.close();
    await dropDatabase?.();
  });

  it('fetch every source exactly once between them', async () => {
    const sources = Array.from({ length: SOURCES }, (_, index) => `  - id: s${index}\n    url: ${server.url}/feed/${index}\n    allowPrivateNetwork: true\n    every: 1h\n`).join('');
    const dir = writeConfigDir({ 'sources.yml': `fetch:\n  concurrency: 16\n  perHost: 16\nsources:\n${sources}` });
    const workers = Array.from({ length: 3 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker', '--config', dir], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      return { child, log: () => stderr, exited: new Promise((done) => child.on('exit', done)) };
    });
    try {
      const deadline = Date.now() + 60_000;
      while (hits.size < SOURCES && Date.now() < deadline) await new Promise((done) => setTimeout(done, 200));
      await new Promise((done) => setTimeout(done, 1500)); // would a second fetch of anything show up?
      expect(hits.size).toBe(SOURCES);
      expect([...hits.values()].filter((count) => count !== 1)).toEqual([]);
      const claimedBy = workers.map((worker) => [...worker.log().matchAll(/"claimed":(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0));
      expect(claimedBy.reduce((sum, count) => sum + count, 0)).toBe(SOURCES);
      expect(claimedBy.filter((count) => count > 0).length).toBeGreaterThanOrEqual(2);
    } finally {
      for (const worker of workers) worker.child.kill('SIGTERM');
      await Promise.all(workers.map((worker) => worker.exited));
    }
  });
});
