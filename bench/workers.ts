/**
 * The fetch pass with two worker processes against one, on one shared store: each runs the real worker (claims due
 * sources with leases, fetches, stores through its own store queue) over fixture servers that answer after 100 ms.
 * Baseline: the same pass by one worker process. Headlines: the speed-up on a first pass (all 200s: parsing and
 * storing share the machine's cores with the fixture servers and the database) and on a second (all 304s, where fetch
 * latency dominates); 2 at most.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'drizzle-orm';
import { openMigratedDatabase } from '../src/db/client.js';
import type { Figure } from './figures.js';
import { sourcesConfig, startFixtureHosts } from './fixture-hosts.js';

const DELAY_MS = 100;
const CONCURRENCY = 8;

function lines(child: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
}

/** One pass by `workerCount` worker processes: over an empty store (200s), or again over the stored one (304s). */
async function pass(workerCount: number, kind: '200' | '304', configDir: string, dataDir: string, sourceCount: number): Promise<number> {
  const database = await openMigratedDatabase(process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dataDir });
  try {
    if (kind === '200') await database.db.execute(sql`truncate topic_stories, item_bands, items, stories, fetch_log, topics, sources cascade`);
    else await database.db.execute(sql`update sources set next_check_at = now(); truncate fetch_log`);
    const children = Array.from({ length: workerCount }, () =>
      spawn(process.execPath, ['--import', 'tsx', new URL('./worker-child.ts', import.meta.url).pathname, configDir, dataDir], {
        env: { ...process.env, LOG_LEVEL: 'silent' },
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const outputs = children.map(lines);
    for (const output of outputs) if ((await output.next()).value !== 'ready') throw new Error('a worker process did not start');
    const started = performance.now();
    for (const child of children) child.stdin!.end('go\n');
    await Promise.all(outputs.map((output) => output.next()));
    const ms = performance.now() - started;
    await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)))));
    const [row] = await database.rows<{ n: number; sources: number }>(sql`select count(*)::int as n, count(distinct source_id)::int as sources from fetch_log`);
    if (row?.n !== sourceCount || row.sources !== sourceCount) throw new Error(`${workerCount} workers fetched ${row?.n} times for ${sourceCount} sources`);
    return ms;
  } finally {
    await database.close();
  }
}

export async function workersBench(sourceCount: number, progress: (line: string) => void): Promise<Figure[]> {
  const hosts = await startFixtureHosts(8, DELAY_MS, sourceCount);
  const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-workers-'));
  try {
    // Each tick claims a few seconds' work, so the second worker finds sources left to claim.
    const configDir = sourcesConfig(hosts, sourceCount, CONCURRENCY, `worker:\n  batch: ${CONCURRENCY * 3}\n`);
    const figures: Figure[] = [];
    const times = { one: { '200': 0, '304': 0 }, two: { '200': 0, '304': 0 } };
    for (const [workers, label] of [
      [1, 'one'],
      [2, 'two'],
    ] as const) {
      for (const kind of ['200', '304'] as const) {
        times[label][kind] = await pass(workers, kind, configDir, dataDir, sourceCount);
        const metric = `fetch pass of ${sourceCount} sources (${kind}s), ${label} worker process${workers > 1 ? 'es' : ''}`;
        figures.push({ benchmark: 'workers', metric, value: times[label][kind], unit: 'ms', size: sourceCount });
      }
    }
    progress(
      `workers: ${sourceCount} sources, 200s: one worker ${times.one['200'].toFixed(0)} ms, two ${times.two['200'].toFixed(0)} ms; ` +
        `304s: one ${times.one['304'].toFixed(0)} ms, two ${times.two['304'].toFixed(0)} ms`,
    );
    for (const kind of ['200', '304'] as const) {
      const metric = `speed-up of two worker processes over one, ${kind}s`;
      figures.push({ benchmark: 'workers', metric, value: times.one[kind] / times.two[kind], unit: 'x', baseline: 'one worker', headline: true });
    }
    return figures;
  } finally {
    await hosts.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
