/**
 * The embedded store shared by several processes on one data folder: `run` serving while another process ingests,
 * each seeing the other's writes; the server that holds the data surviving its starter's SIGKILL; and the last
 * process to leave stopping it.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { type Database, LEAVING, openMigratedDatabase, otherClients } from '../src/db/client.js';
import { embeddedServer } from '../src/db/embedded.js';
import * as schema from '../src/db/schema.js';
import { sources } from '../src/db/schema.js';
import { storeItems } from '../src/store/items.js';
import { listeningUrl, ROOT, runCli, waitFor } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { rss2 } from './helpers/feeds.js';
import { type FixtureServer, startFixtureServer } from './helpers/fixture-server.js';

const WIRE_ITEMS = [
  {
    title: 'Japan, U.S. defense chiefs reaffirm command coordination',
    link: 'https://jen.jiji.example/1',
    pubDate: '02 Jun 2024 08:06:19 GMT9',
    description: 'Kihara and Austin met in Singapore.',
  },
  {
    title: 'Japan, Philippines defense ministers hold talks',
    link: 'https://jen.jiji.example/2',
    pubDate: '02 Jun 2024 09:10:00 GMT9',
    description: 'The ministers agreed on drills.',
  },
];
const NEW_ITEM = {
  title: 'Japan, Australia defense chiefs agree on joint exercises',
  link: 'https://jen.jiji.example/3',
  pubDate: '02 Jun 2024 10:00:00 GMT9',
  description: 'Marles and Kihara met.',
};

/** The PID of the embedded server running on a data folder, if any. */
function serverPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

describe('the embedded store across processes', () => {
  let fixtures: FixtureServer;
  let configDir: string;

  beforeAll(async () => {
    fixtures = await startFixtureServer();
    configDir = writeConfigDir({
      'sources.yml': `sources:\n  - id: jiji\n    url: ${fixtures.url}/jiji.rss\n    allowPrivateNetwork: [127.0.0.1]\n`,
      'topics.yml': `topics:\n  - slug: defense\n    title: Defense\n    query: 'japan defense'\n`,
      // One tick a minute: within a test, only the first tick fetches, so the second process brings what is new.
      'worker.yml': "worker:\n  tick: '0 * * * * *'\n",
    });
  });
  afterAll(async () => fixtures?.close());

  /** The topic's titles as the server serves them; none while it is not ready yet (503). */
  const titlesServedBy = async (url: string) => {
    const response = await fetch(`${url}/topics/defense.rss`);
    if (response.status !== 200) return [];
    return (await new Parser().parseString(await response.text())).items.map((item) => item.title);
  };

  it.each([
    ['while run keeps serving', false],
    ['after the process that started the server was killed with SIGKILL', true],
  ])('ingest --once from another process stores what run serves, %s; the last process out stops the server', async (_name, killFirst) => {
    fixtures.set('/jiji.rss', rss2('JIJI Press', WIRE_ITEMS));
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-shared-'));
    const env = { DATA_DIR: dataDir, DATABASE_URL: '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    let run = runCli(['run', '--config', configDir], env);
    try {
      let url = await listeningUrl(run);
      await waitFor(() => /"msg":"fetched"/.test(run.output().stderr) || undefined, run);
      expect(await titlesServedBy(url)).toHaveLength(2);
      const server = serverPid(dataDir);
      expect(server).toBeDefined();
      if (killFirst) {
        run.child.kill('SIGKILL');
        await run.exited;
        expect(serverPid(dataDir)).toBe(server); // the server outlives the process that started it
      }

      fixtures.set('/jiji.rss', rss2('JIJI Press', [NEW_ITEM, ...WIRE_ITEMS]));
      const ingest = runCli(['ingest', '--once', '--source', 'jiji', '--config', configDir], { ...env, LOG_LEVEL: 'silent' });
      expect(await ingest.exited, ingest.output().stderr).toBe(0);
      expect(ingest.output().stdout).toBe('sources: 1 ok, 0 not modified, 0 failed; items: 1 new, 2 duplicate\n');
      if (killFirst) {
        expect(serverPid(dataDir)).toBeUndefined(); // ingest --once was its last client, and stopped it
        run = runCli(['run', '--config', configDir], env);
        url = await listeningUrl(run);
      } else {
        expect(serverPid(dataDir)).toBe(server); // run still uses it: ingest --once left it running
      }
      await waitFor(async () => (await titlesServedBy(url)).includes(NEW_ITEM.title) || undefined, run);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(serverPid(dataDir)).toBeUndefined(); // the last one out stopped it

    const stories = runCli(['stories', '--json', '--config', configDir], { ...env, LOG_LEVEL: 'silent' });
    expect(await stories.exited, stories.output().stderr).toBe(0);
    const titles = (JSON.parse(stories.output().stdout) as Array<{ versions: Array<{ title: string }> }>).flatMap((story) =>
      story.versions.map((version) => version.title),
    );
    expect(titles.sort()).toEqual([NEW_ITEM.title, ...WIRE_ITEMS.map((item) => item.title)].sort());
    expect(serverPid(dataDir)).toBeUndefined();
  });

  it('four processes opening a new data folder at once share one server, and all migrate it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-race-'));
    // migrate takes --config like every command (two of the four give it).
    const migrations = Array.from({ length: 4 }, (_, index) =>
      runCli(['migrate', ...(index % 2 ? ['--config', 'feeds/demo'] : [])], { DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' }),
    );
    const codes = await Promise.all(migrations.map((cli) => cli.exited));
    expect(codes, migrations.map((cli) => cli.output().stderr).join('\n')).toEqual([0, 0, 0, 0]);
    expect(migrations.map((cli) => cli.output().stdout)).toEqual(Array(4).fill('migrations applied (embedded)\n'));
    expect(serverPid(dataDir)).toBeUndefined();
  });

  it('a process arriving while the last one stops the server waits for the stop, then starts a new one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-arriving-'));
    await (await openMigratedDatabase({ dataDir })).close();
    const leaving = embeddedServer(dataDir);
    (await leaving.connect()).destroy(); // started again; nobody uses it
    const first = serverPid(dataDir)!;
    // Another process claims the server and starts a query while this one asks whether anyone still uses it: after
    // the claims were read, before the server is told to stop. Connected then, its query would be cut by the stop.
    const arriving = embeddedServer(dataDir);
    let release!: () => void;
    let client!: postgres.Sql;
    let answer!: Promise<unknown>;
    const stopped = await leaving.stopIfUnused(async () => {
      release = arriving.claim();
      client = postgres({
        host: arriving.socketDir,
        port: arriving.port,
        user: 'postgres',
        database: 'postgres',
        max: 1,
        socket: () => arriving.connect(),
      } as never);
      answer = client`select 1 as one from pg_sleep(0.5)`;
      answer.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 300)); // time enough to connect and send it
      return 0;
    });
    try {
      expect(stopped).toBe(true);
      // A query cut by the stop fails, or is left pending for good by postgres.js (porsager/postgres#1186).
      const cut = new Promise((resolve) => setTimeout(() => resolve('still pending after 10 s'), 10_000).unref());
      expect(await Promise.race([answer, cut])).toEqual([{ one: 1 }]);
      expect(serverPid(dataDir)).not.toBe(first);
      expect(serverPid(dataDir)).toBeDefined();
    } finally {
      await client.end({ timeout: 1 });
      release();
      await arriving.stopIfUnused(() => otherClients(arriving));
    }
    expect(serverPid(dataDir)).toBeUndefined();
  });

  it('does not count as users of the server the processes leaving it at the same moment', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-leaving-'));
    const handle = await openMigratedDatabase({ dataDir });
    const server = embeddedServer(dataDir);
    const connect = (application_name: string) =>
      postgres({ host: server.socketDir, port: server.port, user: 'postgres', database: 'postgres', max: 1, connection: { application_name } });
    const leaving = connect(LEAVING);
    const staying = connect('another wirefeed');
    try {
      await handle.rows(sql`select 1`); // this process's pool: one connection
      await leaving`select 1`;
      expect(await otherClients(server)).toBe(1);
      // Two processes leaving at once each saw the other's asking connection, and left the server running unused.
      await staying`select 1`;
      expect(await otherClients(server)).toBe(2);
    } finally {
      await Promise.all([leaving.end(), staying.end()]);
      await handle.close();
    }
    expect(serverPid(dataDir)).toBeUndefined();
  });

  it('a server killed with SIGKILL is started again by the next query, and recovers what was committed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-crash-'));
    const handle = await openMigratedDatabase({ dataDir });
    try {
      await handle.db.insert(sources).values({ id: 'jiji', url: 'https://jen.jiji.example/rss', pollSeconds: 900, nextCheckAt: new Date() });
      const killed = serverPid(dataDir)!;
      process.kill(-killed, 'SIGKILL'); // the server and its backends (they share a process group), as in a crash
      await waitFor(() => (serverPid(dataDir) === killed ? undefined : true));
      // Each pooled connection fails once (its backend died), as after any outage; then the new server answers.
      const ids = await waitFor(async () => (await handle.rows<{ id: string }>(sql`select id from sources`).catch(() => undefined))?.map((row) => row.id));
      expect(ids).toEqual(['jiji']);
      expect(serverPid(dataDir)).not.toBe(killed);
    } finally {
      await handle.close();
    }
    expect(serverPid(dataDir)).toBeUndefined();
  });

  it('imports the PGlite store of an earlier Wirefeed on the first start, once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wf-pglite-'));
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle } = await import('drizzle-orm/pglite');
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    const old = new PGlite(join(dataDir, 'pglite'));
    const oldDb = drizzle(old, { schema }) as unknown as Database;
    // The schema as the PGlite era left it: the migrations before 0003 (band keys were text then).
    const eraMigrations = mkdtempSync(join(tmpdir(), 'wf-pglite-migrations-'));
    const journal = JSON.parse(readFileSync(join(ROOT, 'src/db/migrations/meta/_journal.json'), 'utf8')) as { entries: Array<{ idx: number; tag: string }> };
    journal.entries = journal.entries.filter((entry) => entry.idx < 3);
    mkdirSync(join(eraMigrations, 'meta'));
    writeFileSync(join(eraMigrations, 'meta/_journal.json'), JSON.stringify(journal));
    for (const { tag } of journal.entries) copyFileSync(join(ROOT, 'src/db/migrations', `${tag}.sql`), join(eraMigrations, `${tag}.sql`));
    await migrate(oldDb as never, { migrationsFolder: eraMigrations });
    const wire = loadConfig(join(ROOT, 'feeds/demo')).sources.find((source) => source.id === 'jiji-press')!;
    const item = {
      title: 'Japan, U.S. defense chiefs reaffirm command coordination',
      url: 'https://jen.jiji.example/1',
      categories: [],
      publishedAt: new Date('2024-06-01T23:06:19Z'),
      dateEstimated: false,
    };
    // Written as the PGlite-era Wirefeed stored it (the store step's statements now speak postgres.js).
    await old.exec(`
      insert into sources (id, url, title, poll_seconds) values ('jiji-press', '${wire.url}', 'JIJI Press', ${wire.pollSeconds});
      insert into stories (id, published_at, updated_at) values ('s1', '2024-06-01T23:06:19Z', '2024-06-01T23:06:19Z');
      insert into items (source_id, story_id, dedup_key, title_key, content_hash, published_at, title, url, title_signature, body_signature, shingle_count)
      values ('jiji-press', 's1', 'url:${item.url}', 'title:jiji-press:x', 'h', '2024-06-01T23:06:19Z', '${item.title}', '${item.url}', '{}', '{}', 0);
      insert into item_bands (band, item_id, published_at) values ('t0:11,22,33,44', 1, '2024-06-01T23:06:19Z');`);
    await old.close();

    const handle = await openMigratedDatabase({ dataDir });
    try {
      expect(await handle.rows(sql`select title, story_id is not null as in_story from items`)).toEqual([{ title: item.title, in_story: true }]);
      expect(await handle.rows(sql`select id from sources`)).toEqual([{ id: 'jiji-press' }]);
      // A text band key becomes the hash the store now keys bands by.
      expect(await handle.rows(sql`select band = hashtextextended('t0:11,22,33,44', 0) as converted, item_id::int from item_bands`)).toEqual([
        { converted: true, item_id: 1 },
      ]);
      // New rows get new ids after the imported ones.
      await handle.db.transaction((tx) =>
        storeItems(tx, 'jiji-press', [{ ...item, title: 'Japan, Philippines hold talks', url: 'https://jen.jiji.example/2' }]),
      );
      expect((await handle.rows<{ id: number }>(sql`select id from items order by id`)).map((row) => Number(row.id))).toEqual([1, 2]);
    } finally {
      await handle.close();
    }
    expect(existsSync(join(dataDir, 'pglite'))).toBe(false);
    expect(existsSync(join(dataDir, 'pglite.imported', 'PG_VERSION'))).toBe(true);
  }, 180_000); // PGlite (WebAssembly) alone takes half a minute to create and migrate the old store on this machine
});
