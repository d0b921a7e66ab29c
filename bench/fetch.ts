/**
 * One pass over many sources on fixture servers that answer each request after 100 ms: the whole fetch path (address
 * guard, per-host limit, decoding, parsing, storing, the fetch log) against the ideal sources x 0.1 s / concurrency.
 * Then the same pass answered with 304s.
 */
import { sql } from 'drizzle-orm';
import { openApp } from '../src/app.js';
import type { DatabaseHandle } from '../src/db/client.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import type { Figure } from './figures.js';
import { sourcesConfig, startFixtureHosts } from './fixture-hosts.js';

const DELAY_MS = 100;
const HOSTS = 8;
const CONCURRENCY = 8;

export async function fetchBench(database: DatabaseHandle, sourceCount: number, progress: (line: string) => void): Promise<Figure[]> {
  await database.db.execute(sql`truncate topic_stories, item_bands, items, stories, fetch_log, topics, sources cascade`);
  const hosts = await startFixtureHosts(HOSTS, DELAY_MS, sourceCount);
  const app = await openApp({ configDir: sourcesConfig(hosts, sourceCount, CONCURRENCY), database });
  try {
    const ideal = (sourceCount * DELAY_MS) / CONCURRENCY;
    const pass = async () => {
      const started = performance.now();
      const summary = await ingestSources(ingestContext(app), app.config.sources, { concurrency: CONCURRENCY });
      return { ms: performance.now() - started, summary };
    };
    const first = await pass();
    if (first.summary.ok !== sourceCount)
      throw new Error(`${first.summary.failed} of ${sourceCount} sources failed: ${first.summary.outcomes.find((outcome) => outcome.error)?.error}`);
    const second = await pass();
    if (second.summary.notModified !== sourceCount) throw new Error(`expected ${sourceCount} not-modified answers, got ${second.summary.notModified}`);
    progress(`fetch: ${sourceCount} sources: ${first.ms.toFixed(0)} ms (200s), ${second.ms.toFixed(0)} ms (304s), ideal ${ideal.toFixed(0)} ms`);
    return [
      { benchmark: 'fetch', metric: `ideal pass: ${sourceCount} sources x ${DELAY_MS} ms / ${CONCURRENCY}`, value: ideal, unit: 'ms', size: sourceCount },
      { benchmark: 'fetch', metric: 'full pass, 200s (fetch, parse, store)', value: first.ms, unit: 'ms', size: sourceCount },
      { benchmark: 'fetch', metric: 'full pass, 304s', value: second.ms, unit: 'ms', size: sourceCount },
      { benchmark: 'fetch', metric: 'ideal / actual, 200s', value: ideal / first.ms, unit: 'x', baseline: 'ideal pass', headline: true },
      { benchmark: 'fetch', metric: 'ideal / actual, 304s', value: ideal / second.ms, unit: 'x', baseline: 'ideal pass', headline: true },
    ];
  } finally {
    await app.close();
    await hosts.close();
  }
}
