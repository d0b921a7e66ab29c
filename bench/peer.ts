/**
 * The shape our yardstick peer (Tiny Tiny RSS) was measured on: 200 RSS feeds of 50 items each (about 14 MB) served
 * over loopback HTTP, ingested by the compiled CLI (`wirefeed ingest --once`, what an operator runs) into a fresh
 * database, then again (the same documents, every item a duplicate: no validators are sent, as for the peer).
 * Figures: items per second end to end (process start, migrations and all) and the process's peak RSS. Baseline:
 * bare rss-parser parsing the same documents in this process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Parser from 'rss-parser';
import { connectUrl } from '../src/db/client.js';
import { Corpus } from './corpus.js';
import { feedDocument } from './documents.js';
import type { Figure } from './figures.js';
import { productNodeFlags } from './node-flags.js';

const execute = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');

/** A database of its own: on the server at DATABASE_URL, else an embedded one in a scratch folder. */
async function freshDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (!process.env.DATABASE_URL) {
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-peer-'));
    return { env: { DATABASE_URL: '', DATA_DIR: dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `wirefeed_peer_${process.pid}`;
  const admin = await connectUrl(process.env.DATABASE_URL, { max: 1 });
  await admin.unsafe(`drop database if exists ${name}`);
  await admin.unsafe(`create database ${name}`);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.href },
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** One `ingest --once` run: wall time and peak RSS (GNU time's %M), and what it stored. */
async function ingestOnce(
  configDir: string,
  env: Record<string, string>,
): Promise<{ ms: number; peakMiB: number; summary: { itemsNew: number; itemsDuplicate: number } }> {
  const started = performance.now();
  const { stdout, stderr } = await execute(
    '/usr/bin/time',
    ['-f', 'peak-kb %M', process.execPath, ...productNodeFlags(), CLI, 'ingest', '--once', '--json', '--config', configDir],
    {
      env: { ...process.env, LOG_LEVEL: 'error', ...env },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const ms = performance.now() - started;
  const peakKb = Number(/peak-kb (\d+)/.exec(stderr)?.[1] ?? 0);
  return { ms, peakMiB: peakKb / 1024, summary: JSON.parse(stdout) };
}

export async function peerBench(feedCount: number, itemsPerFeed: number, progress: (line: string) => void): Promise<Figure[]> {
  if (statSync(CLI, { throwIfNoEntry: false }) === undefined) throw new Error('dist/cli.js is missing: run npm run build first');
  const corpus = new Corpus(29);
  const now = Date.now();
  const documents = Array.from({ length: feedCount }, (_, feed) =>
    feedDocument(
      'rss',
      `Outlet ${feed}`,
      Array.from({ length: itemsPerFeed }, (_, item) =>
        corpus.story(feed * itemsPerFeed + item, new Date(now - (feed * itemsPerFeed + item) * 60_000), `peer-${feed}`),
      ),
    ),
  );
  const server = createServer((request, response) => {
    const feed = Number(/\/feed\/(\d+)/.exec(request.url ?? '')?.[1] ?? -1);
    const document = documents[feed];
    if (document === undefined) response.writeHead(404).end();
    else response.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8' }).end(document);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const configDir = mkdtempSync(join(tmpdir(), 'wirefeed-peer-config-'));
  writeFileSync(
    join(configDir, 'sources.yml'),
    `sources:\n${documents.map((_, feed) => `  - id: peer-${feed}\n    url: ${base}/feed/${feed}\n    allowPrivateNetwork: true\n`).join('')}`,
  );
  const database = await freshDatabase();
  try {
    const total = feedCount * itemsPerFeed;
    const megabytes = documents.reduce((sum, document) => sum + Buffer.byteLength(document), 0) / 1e6;
    progress(`peer: ${feedCount} feeds x ${itemsPerFeed} items (${megabytes.toFixed(1)} MB) over loopback HTTP`);
    const parseStarted = performance.now();
    for (const document of documents) await new Parser().parseString(document);
    const parseMs = performance.now() - parseStarted;
    const fresh = await ingestOnce(configDir, database.env);
    if (fresh.summary.itemsNew !== total) throw new Error(`the first ingest stored ${fresh.summary.itemsNew} of ${total} items`);
    const again = await ingestOnce(configDir, database.env);
    if (again.summary.itemsDuplicate !== total) throw new Error(`the second ingest saw ${again.summary.itemsDuplicate} of ${total} items as duplicates`);
    const perSecond = (ms: number) => (total * 1000) / ms;
    progress(
      `peer: ingest --once ${perSecond(fresh.ms).toFixed(0)} new items/s (${(fresh.ms / 1000).toFixed(1)} s, peak ${fresh.peakMiB.toFixed(0)} MiB), ` +
        `${perSecond(again.ms).toFixed(0)} duplicate items/s (peak ${again.peakMiB.toFixed(0)} MiB); bare parse ${perSecond(parseMs).toFixed(0)} items/s`,
    );
    return [
      {
        benchmark: 'peer',
        metric: `bare rss-parser parseString (${feedCount} feeds x ${itemsPerFeed})`,
        value: perSecond(parseMs),
        unit: 'items/s',
        size: total,
      },
      {
        benchmark: 'peer',
        metric: 'ingest --once into a fresh database, all items new',
        value: perSecond(fresh.ms),
        unit: 'items/s',
        size: total,
        headline: true,
      },
      { benchmark: 'peer', metric: 'ingest --once again, all items duplicates', value: perSecond(again.ms), unit: 'items/s', size: total, headline: true },
      { benchmark: 'peer', metric: 'peak RSS of the ingest process, new items', value: fresh.peakMiB, unit: 'MiB' },
      { benchmark: 'peer', metric: 'peak RSS of the ingest process, duplicates', value: again.peakMiB, unit: 'MiB' },
    ];
  } finally {
    await database.drop();
    await new Promise((resolve) => server.close(resolve));
    rmSync(configDir, { recursive: true, force: true });
  }
}
