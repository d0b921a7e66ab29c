/**
 * A stop at any moment of the start (opening or waiting for the database, migrating, backfilling topics, the first
 * tick) ends the process with 0 within SHUTDOWN_GRACE_SECONDS + 5 s, and leaves nothing half-done: a topic whose
 * backfill was cut short is backfilled at the next start. On the embedded store and on a database server.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcess, ROOT, runCli, waitFor } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { createThrowawayDatabase, testServerUrl } from './helpers/database.js';

const GRACE_SECONDS = 1;
const seed = (file: string) => pathToFileURL(join(ROOT, 'seeds', file)).href;
const SOURCES = `sources:\n${['jiji-press.atom.xml', 'arabnews-japan.rss.xml', 'japantoday.rdf.xml', 'nippon-wire.feed.json']
  .map((file, index) => `  - id: seed-${index}\n    url: ${seed(file)}\n`)
  .join('')}`;
const WORDS = ['japan', 'defense', 'u.s.', 'boj', 'nikkei', 'kihara', 'austin', 'security', 'yen', 'tokyo'];
/** Sixty topics: a start spends a while backfilling them, one after another. */
const TOPICS = `topics:\n${Array.from({ length: 60 }, (_, index) => `  - slug: t${index}\n    title: T${index}\n    query: '${WORDS[index % WORDS.length]} OR ${WORDS[(index * 7 + 3) % WORDS.length]}'\n`).join('')}`;

/** Sends SIGTERM once the process logs `trigger`, and returns how and how soon after it ended. */
async function stopAt(cli: CliProcess, trigger: RegExp): Promise<{ code: number | null; ms: number }> {
  await waitFor(() => trigger.test(cli.output().stderr) || cli.child.exitCode !== null || undefined, undefined, 60_000);
  const signalled = Date.now();
  cli.child.kill('SIGTERM');
  const code = await cli.exited;
  return { code, ms: Date.now() - signalled };
}

const throwaways: Array<{ drop(): Promise<void> }> = [];
afterAll(async () => Promise.all(throwaways.map((database) => database.drop())));
const throwawayUrl = async () => {
  const database = await createThrowawayDatabase(testServerUrl(), 'wirefeed_stop');
  throwaways.push(database);
  return database.url;
};

describe.each(['embedded store', 'database server'])('stopping during start-up, on the %s', (engine) => {
  it('exits 0 in time at every step, and a later start completes what was cut short', async () => {
    const database: Record<string, string> =
      engine === 'embedded store' ? { DATA_DIR: mkdtempSync(join(tmpdir(), 'wf-stop-')), DATABASE_URL: '' } : { DATABASE_URL: await throwawayUrl() };
    const env = { ...database, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) };
    const small = writeConfigDir({ 'sources.yml': SOURCES, 'topics.yml': "topics:\n  - { slug: t0, title: T0, query: 'japan' }\n" });
    const full = writeConfigDir({ 'sources.yml': SOURCES, 'topics.yml': TOPICS });
    const ingest = runCli(['ingest', '--once', '--config', small], { ...env, LOG_LEVEL: 'silent' });
    expect(await ingest.exited, ingest.output().stderr).toBe(0);

    const points: Array<[string, RegExp]> = [
      // The server listens while the app opens the database, migrates and syncs the config beside it.
      ['as the server starts listening (opening the database, migrating)', /"msg":"feed server listening"/],
      ['in the middle of the topic backfills', /"msg":"topic backfilled"/],
      ['during the first tick', /"msg":"(fetched|worker started)"/],
    ];
    for (const [point, trigger] of points) {
      const run = runCli(['run', '--config', full], env);
      const { code, ms } = await stopAt(run, trigger);
      expect(code, `${point}: ${run.output().stderr.slice(-2000)}`).toBe(0);
      expect(ms, point).toBeLessThan((GRACE_SECONDS + 5) * 1000);
    }

    // Every topic holds what it should: cut-short backfills were done again, none is left half-filled. The
    // reference is the same sources ingested once into a new store with the full config.
    const counts = async (cli: CliProcess) => {
      expect(await cli.exited, cli.output().stderr).toBe(0);
      return (JSON.parse(cli.output().stdout) as Array<{ slug: string; stories: number }>).map((topic) => [topic.slug, topic.stories]);
    };
    const after = await counts(runCli(['topics', '--json', '--config', full], { ...env, LOG_LEVEL: 'silent' }));
    const referenceEnv = { DATA_DIR: mkdtempSync(join(tmpdir(), 'wf-ref-')), DATABASE_URL: '', LOG_LEVEL: 'silent' };
    const referenceIngest = runCli(['ingest', '--once', '--config', full], referenceEnv);
    expect(await referenceIngest.exited, referenceIngest.output().stderr).toBe(0);
    const reference = await counts(runCli(['topics', '--json', '--config', full], referenceEnv));
    expect(after).toEqual(reference);
    expect(reference.filter(([, stories]) => (stories as number) > 0).length).toBeGreaterThan(30);
  });
});

describe('stopping the moment the worker starts', () => {
  // The start-up's stop listener gave way to the running one with a moment between them in which SIGTERM's default
  // action killed the process (most attempts, signalled as soon as "worker started" is read).
  it('still exits 0 after shutting down, each of several times', async () => {
    const env = { DATABASE_URL: await throwawayUrl(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) };
    const config = writeConfigDir({ 'sources.yml': SOURCES, 'topics.yml': 'topics: []\n' });
    for (let attempt = 0; attempt < 5; attempt++) {
      const run = runCli(['run', '--config', config], env);
      run.child.stderr!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('"msg":"worker started"')) run.child.kill('SIGTERM');
      });
      expect(await run.exited, `attempt ${attempt}: ${run.output().stderr.slice(-1500)}`).toBe(0);
      expect(run.output().stderr).toMatch(/"msg":"stopped"/);
    }
  });
});
