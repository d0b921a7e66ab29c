import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { openMigratedDatabase } from '../src/db/client.js';
import { sources } from '../src/db/schema.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { listeningUrl, ROOT, runCli, waitFor } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';
import { type FixtureServer, seedDocument, startFixtureServer } from './helpers/fixture-server.js';
import { startTestServer } from './helpers/http-server.js';

/** The seed story's entry: JIJI's own version, the earliest of the three outlets carrying it. */
const SEED_TITLE = 'Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination';

describe('end to end over HTTP', () => {
  let database: TestDatabase;
  let fixtures: FixtureServer;
  let app: App;
  let served: ServedApp;
  let base: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    fixtures = await startFixtureServer({
      '/arabnews/japan.rss': seedDocument('arabnews-japan.rss.xml', 'application/rss+xml; charset=utf-8'),
      '/jiji/feed.atom': seedDocument('jiji-press.atom.xml', 'application/atom+xml'),
      '/japantoday/feed.rdf': seedDocument('japantoday.rdf.xml', 'application/rdf+xml'),
      '/nippon/feed.json': seedDocument('nippon-wire.feed.json', 'application/feed+json'),
    });
    const configDir = writeConfigDir({
      'sources.yml': `sources:
  - id: arabnews-japan
    url: ${fixtures.url}/arabnews/japan.rss
    shortUrlHosts: [arab.news]
    allowPrivateNetwork: true
  - id: jiji-press
    url: ${fixtures.url}/jiji/feed.atom
    allowPrivateNetwork: true
  - id: japan-today
    url: ${fixtures.url}/japantoday/feed.rdf
    allowPrivateNetwork: [127.0.0.1]
  - id: nippon-wire
    url: ${fixtures.url}/nippon/feed.json
    allowPrivateNetwork: [127.0.0.0/8]
  - id: missing
    url: ${fixtures.url}/nothing-here.xml
    allowPrivateNetwork: true
`,
      'topics.yml': `topics:
  - slug: japan-us-security
    title: Japan–US security
    query: 'japan AND ("united states" OR u.s. OR pentagon) AND (defense OR security OR military)'
`,
    });
    app = await openTestApp(database.handle, { configDir });
    served = await serveApp(app);
    base = served.base;
  });

  afterAll(async () => {
    await served?.stop();
    await app?.close();
    await fixtures?.close();
    await database?.close();
  });

  it('fetches the fixture feeds, then serves the topic in all three formats', async () => {
    const first = await ingestSources(ingestContext(app), app.config.sources);
    expect(first).toMatchObject({ ok: 4, failed: 1, itemsNew: 10 });
    expect(first.outcomes.find((outcome) => outcome.sourceId === 'missing')?.error).toBe('HTTP 404');
    expect(fixtures.requests[0]!.headers['user-agent']).toMatch(/^Wirefeed\//);

    // Second pass: the fixture server answers 304 to our validators.
    const firstPassRequests = fixtures.requests.length;
    const second = await ingestSources(ingestContext(app), app.config.sources);
    expect(second).toMatchObject({ ok: 0, notModified: 4, failed: 1, itemsNew: 0 });
    const revalidations = fixtures.requests.slice(firstPassRequests).filter((request) => request.url !== '/nothing-here.xml');
    expect(revalidations.map((request) => request.headers['if-none-match'])).toEqual(Array(4).fill(expect.stringMatching(/^"[0-9a-f]{40}"$/)));

    for (const format of ['rss', 'atom'] as const) {
      const response = await fetch(`${base}/topics/japan-us-security.${format}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(`application/${format}+xml; charset=utf-8`);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const feed = await new Parser().parseString(await response.text());
      expect(feed.items.filter((item) => item.title === SEED_TITLE)).toHaveLength(1);
      expect(feed.items.some((item) => /defense chiefs reaffirm command coordination/i.test(item.title ?? '') && item.title !== SEED_TITLE)).toBe(false);
      expect(feed.items.every((item) => /^https?:\/\/[^/]/.test(item.link ?? ''))).toBe(true);
    }
    const json = await fetch(`${base}/topics/japan-us-security.json`);
    expect(json.headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    const document = (await json.json()) as { version: string; items: Array<{ title: string }> };
    expect(document.version).toBe('https://jsonfeed.org/version/1.1');
    expect(document.items.map((item) => item.title)).toContain(SEED_TITLE);
  });

  it('serves the index page with subscribe and autodiscovery links, health, and plain 404s', async () => {
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain('Japan–US security');
    expect(page).toContain(`<link rel="alternate" type="application/atom+xml" title="Japan–US security" href="${base}/topics/japan-us-security.atom">`);
    for (const format of ['rss', 'atom', 'json']) expect(page).toContain(`href="${base}/topics/japan-us-security.${format}"`);
    expect((await fetch(`${base}/topics/japan-us-security.html`)).status).toBe(200);
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    const missing = await fetch(`${base}/topics/no-such-topic.rss`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('No topic "no-such-topic"\n');
  });
});

describe('the wirefeed command', () => {
  it('validate reports a wrong line with file:line:column and exits 1', async () => {
    const dir = writeConfigDir({ 'topics.yml': 'topics:\n  - slug: t\n    title: T\n    query: japan AND (defense\n' });
    const cli = runCli(['validate', '--config', dir]);
    expect(await cli.exited).toBe(1);
    expect(cli.output().stderr).toMatch(
      /topics\.yml:4:22: topics\[0\]\.query: query: missing "\)" for "\(" opened at column 11\nconfig has 1 problem\(s\); nothing started/,
    );
  });

  it('ingest --once --source ingests one source and prints the summary line', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-data-'));
    const args = ['ingest', '--once', '--source', 'jiji-press', '--config', 'feeds/demo'];
    const first = runCli(args, { DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' });
    expect(await first.exited).toBe(0);
    expect(first.output().stdout).toBe('sources: 1 ok, 0 not modified, 0 failed; items: 3 new, 0 duplicate\n');
    const again = runCli(args, { DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' });
    expect(await again.exited).toBe(0);
    expect(again.output().stdout).toBe('sources: 1 ok, 0 not modified, 0 failed; items: 0 new, 3 duplicate\n');
  });

  it('leaves a paused source alone (ingest --once fetches it only when named), says so in wirefeed sources, and pauses and resumes by command', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-data-'));
    const seeds = (file: string) => pathToFileURL(join(ROOT, 'seeds', file)).href;
    const dir = writeConfigDir({
      'sources.yml': `sources:\n  - id: jiji-press\n    url: ${seeds('jiji-press.atom.xml')}\n  - id: arabnews-japan\n    url: ${seeds('arabnews-japan.rss.xml')}\n    paused: true\n`,
    });
    const environment = { DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' };
    const pass = runCli(['ingest', '--once', '--config', dir], environment);
    expect(await pass.exited).toBe(0);
    expect(pass.output().stdout).toBe('sources: 1 ok, 0 not modified, 0 failed; items: 3 new, 0 duplicate\n');
    const listed = runCli(['sources', '--config', dir], environment);
    expect(await listed.exited).toBe(0);
    expect(listed.output().stdout).toMatch(/\narabnews-japan +paused +never +0 +0 +- +file:/);
    const named = runCli(['ingest', '--once', '--source', 'arabnews-japan', '--config', dir], environment);
    expect(await named.exited).toBe(0);
    expect(named.output().stdout).toBe('sources: 1 ok, 0 not modified, 0 failed; items: 3 new, 0 duplicate\n');
    // sources pause and resume edit the file that defines the source.
    const resumed = runCli(['sources', 'resume', 'arabnews-japan', '--config', dir], environment);
    expect(await resumed.exited).toBe(0);
    expect(resumed.output().stdout).toBe(`resumed arabnews-japan (${join(dir, 'sources.yml')})\n`);
    const paused = runCli(['sources', 'pause', 'jiji-press', '--config', dir], environment);
    expect(await paused.exited).toBe(0);
    expect(paused.output().stdout).toBe(`paused jiji-press (${join(dir, 'sources.yml')})\n`);
    expect(loadConfig(dir).sources.map((source) => [source.id, source.paused ?? false])).toEqual([
      ['jiji-press', true],
      ['arabnews-japan', false],
    ]);
    const unknown = runCli(['sources', 'pause', 'nhk', '--config', dir], environment);
    expect(await unknown.exited).toBe(1);
    expect(unknown.output().stderr).toContain('no source with id "nhk" in ');
  });

  it('ingest --once shows progress on stderr when not on a terminal, and --json prints the outcomes for scripts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-data-'));
    const cli = runCli(['ingest', '--once', '--json', '--config', 'feeds/demo'], { DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: '' });
    expect(await cli.exited).toBe(0);
    const { stdout, stderr } = cli.output();
    // A backfill of an empty store has nothing to report; the ingest pass reports its start and end.
    expect(stderr).toMatch(/^ingest: 0\/4 sources\ningest: 4\/4 sources done in \d+\.\ds\n$/);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ ok: 4, failed: 0, deferred: 0, itemsNew: 10 });
    expect(summary.outcomes.map((outcome: { sourceId: string }) => outcome.sourceId).sort()).toEqual([
      'arabnews-japan',
      'japan-today',
      'jiji-press',
      'nippon-wire',
    ]);
  });

  it('opml export and opml import round-trip through the CLI, with --json reports; topics --json lists the topics', async () => {
    const from = writeConfigDir({
      'sources.yml':
        'sources:\n  - id: jiji\n    url: https://jen.jiji.com/rss\n    title: JIJI Press\n  - id: kyodo\n    url: https://english.kyodonews.net/rss/all.xml\n',
    });
    const exported = runCli(['opml', 'export', '--config', from], { LOG_LEVEL: 'silent' });
    expect(await exported.exited).toBe(0);
    const opmlFile = join(mkdtempSync(join(tmpdir(), 'wirefeed-opml-')), 'feeds.opml');
    writeFileSync(opmlFile, exported.output().stdout);
    const to = writeConfigDir({ 'sources.yml': '# imported\nsources:\n  - id: kyodo\n    url: https://english.kyodonews.net/rss/all.xml\n' });
    const imported = runCli(['opml', 'import', opmlFile, '--json', '--config', to], { LOG_LEVEL: 'silent' });
    expect(await imported.exited).toBe(0);
    expect(JSON.parse(imported.output().stdout)).toEqual({
      file: join(to, 'sources.yml'),
      feeds: 2,
      // The export names each source's id (wirefeed:id), which the import keeps where it is free.
      added: [{ id: 'jiji', url: 'https://jen.jiji.com/rss' }],
      skipped: [{ url: 'https://english.kyodonews.net/rss/all.xml', reason: 'already a source' }],
      notes: [],
    });
    const topics = runCli(['topics', '--json', '--config', 'feeds/demo'], {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'wirefeed-data-')),
      DATABASE_URL: '',
      LOG_LEVEL: 'silent',
    });
    expect(await topics.exited).toBe(0);
    expect(JSON.parse(topics.output().stdout).map((topic: { slug: string; stories: number }) => [topic.slug, topic.stories])).toEqual([
      ['japan-us-security', 0],
      ['nichibei', 0],
      ['japan-economy', 0],
    ]);
  });

  it('opml import reads a list from its URL (private addresses on request), follows the lists it includes, and keeps outside text off the terminal', async () => {
    const opml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0" xmlns:frss="https://freshrss.org/opml">
  <head><title>Desk list</title></head>
  <body>${body}</body>
</opml>`;
    let base = '';
    const lists: Record<string, () => string> = {
      // FreshRSS's dynamic OPML (a folder filled from a list) and an OPML 2.0 include, relative to the list.
      '/desk.opml': () =>
        `${opml(`
    <outline text="Wire" frss:opmlUrl="${base}/wire.opml"/>
    <outline text="Partners" type="include" url="partners.opml"/>
    <outline text="Kyodo &#27;]8;;https://evil.example/&#27;\\News" xmlUrl="https://kyodo.example/rss"/>
    <outline text="Bad" xmlUrl="https://bad.example/&#27;[2J&#x9B;31m"/>`)}`,
      '/wire.opml': () => opml(`<outline text="JIJI Press" xmlUrl="https://jen.jiji.example/rss"/><outline text="Desk again" type="include" url="desk.opml"/>`),
      '/partners.opml': () =>
        opml(`<outline text="Arab News" xmlUrl="https://arabnews.example/japan.rss"/><outline text="Here" type="include" url="file:///etc/passwd"/>`),
    };
    const server = await startTestServer((request, response) => {
      const list = lists[new URL(request.url!, 'http://x').pathname];
      if (!list) return response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'text/x-opml' }).end(list());
    });
    base = server.url;
    try {
      const url = `${server.url}/desk.opml`;
      const config = writeConfigDir({ 'sources.yml': 'sources: []\n' });
      const refused = runCli(['opml', 'import', url, '--config', config], { LOG_LEVEL: 'silent' });
      expect(await refused.exited).toBe(1);
      expect(refused.output().stderr).toMatch(new RegExp(`^wirefeed opml: cannot fetch ${url}: refused .*; add --allow-private-network to allow it\\n$`));
      const imported = runCli(['opml', 'import', url, '--allow-private-network', '--config', config], { LOG_LEVEL: 'silent' });
      expect(await imported.exited).toBe(0);
      const { stdout } = imported.output();
      expect([...stdout].filter((char) => char === '\u001b' || char === '\u009b')).toEqual([]);
      expect(stdout.split('\n').filter((line) => line.startsWith('skipped'))).toEqual([
        `skipped ${server.url}/desk.opml: included again (read once)`,
        'skipped file:///etc/passwd: a list from the web may include only http(s) lists',
      ]);
      expect(stdout).toContain('added kyodo-8-https-evil-example-news: https://kyodo.example/rss\n');
      expect(stdout).toContain('added jiji-press: https://jen.jiji.example/rss\n');
      expect(stdout).toContain('added arab-news: https://arabnews.example/japan.rss\n');
      const written = loadConfig(config).sources;
      expect(written.find((source) => source.id === 'jiji-press')?.tags).toEqual(['wire']);
      expect(written.find((source) => source.id === 'arab-news')?.tags).toEqual(['partners']);
    } finally {
      await server.close();
    }
  });

  it('opml import follows lists on disk by their paths, at most three deep', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wirefeed-lists-'));
    const list = (feed: string, include?: string) =>
      `<opml version="2.0"><body><outline text="${feed}" xmlUrl="https://${feed}.example/rss"/>${include ? `<outline text="${include}" type="include" url="${include}.opml"/>` : ''}</body></opml>`;
    const chain = ['top', 'one', 'two', 'three', 'four'];
    for (const [index, name] of chain.entries()) writeFileSync(join(dir, `${name}.opml`), list(name, chain[index + 1]));
    const config = writeConfigDir({ 'sources.yml': 'sources: []\n' });
    const cli = runCli(['opml', 'import', join(dir, 'top.opml'), '--json', '--config', config], { LOG_LEVEL: 'silent' });
    expect(await cli.exited).toBe(0);
    const report = JSON.parse(cli.output().stdout);
    expect(report.added.map((source: { id: string }) => source.id)).toEqual(['top', 'one', 'two', 'three']);
    expect(report.skipped).toEqual([
      {
        url: join(dir, 'four.opml'),
        reason: `lists nested more than 3 deep or more than 20 in all: import it with wirefeed opml import ${join(dir, 'four.opml')}`,
      },
    ]);
  });

  it('worker with METRICS_PORT serves its health and its own fetch metrics, and no feeds', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-data-'));
    const cli = runCli(['worker', '--config', 'feeds/demo'], { DATA_DIR: dataDir, METRICS_PORT: '0', HOST: '127.0.0.1', DATABASE_URL: '' });
    try {
      const url = await listeningUrl(cli);
      expect(cli.output().stderr).toMatch(/"msg":"worker health and metrics listening"/);
      await waitFor(() => (cli.output().stderr.match(/"msg":"fetched"/g)?.length ?? 0) >= 4 || undefined, cli);
      expect(await (await fetch(`${url}/healthz`)).text()).toBe('ok\n');
      expect(await (await fetch(`${url}/readyz`)).text()).toBe('ready\n');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^wirefeed_fetches_total\{outcome="ok",status="200"\} 4$/m);
      expect((await fetch(`${url}/topics/japan-us-security.rss`)).status).toBe(404);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });

  it('run starts worker and server on the embedded store, serves the demo topic, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-data-'));
    const cli = runCli(['run', '--config', 'feeds/demo'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: '' });
    try {
      const url = await listeningUrl(cli);
      await waitFor(() => (cli.output().stderr.match(/"msg":"fetched"/g)?.length ?? 0) >= 4 || undefined, cli);
      const feed = await new Parser().parseString(await (await fetch(`${url}/topics/japan-us-security.rss`)).text());
      expect(feed.items.map((item) => item.title)).toContain(SEED_TITLE);
      const logLine = cli
        .output()
        .stderr.split('\n')
        .find((line) => line.includes('"source":"arabnews-japan"'))!;
      expect(JSON.parse(logLine)).toMatchObject({ level: 'info', source: 'arabnews-japan', outcome: 'ok', itemsNew: 3 });
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });
});

describe('config reload', () => {
  it('picks up an edited topics file without a restart, keeps the last good config on a bad edit, and reloads on SIGHUP', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-data-'));
    const seeds = (file: string) => pathToFileURL(join(ROOT, 'seeds', file)).href;
    const topic = (slug: string, query: string) => `  - slug: ${slug}\n    title: ${slug}\n    query: '${query}'\n`;
    const dir = writeConfigDir({
      'sources.yml': `sources:\n  - id: jiji-press\n    url: ${seeds('jiji-press.atom.xml')}\n  - id: arabnews-japan\n    url: ${seeds('arabnews-japan.rss.xml')}\n`,
      'topics.yml': `topics:\n${topic('security', 'defense OR military')}`,
    });
    const cli = runCli(['run', '--config', dir], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: '' });
    const reloads = () => cli.output().stderr.match(/"msg":"config reloaded"/g)?.length ?? 0;
    try {
      const url = await listeningUrl(cli);
      await waitFor(() => (cli.output().stderr.match(/"msg":"fetched"/g)?.length ?? 0) >= 2 || undefined, cli);
      expect((await fetch(`${url}/topics/economy.rss`)).status).toBe(404);

      writeFileSync(join(dir, 'topics.yml'), `topics:\n${topic('security', 'defense OR military')}${topic('economy', '"bank of japan" OR boj OR nikkei')}`);
      await waitFor(() => reloads() >= 1 || undefined, cli);
      const feed = await new Parser().parseString(await (await fetch(`${url}/topics/economy.rss`)).text());
      expect(feed.items.map((item) => item.title).sort()).toEqual([
        'BOJ Keeps Policy Rate Unchanged, Eyes Bond Purchase Cuts',
        "Japan's Nikkei ends higher as exporters gain on weaker yen",
      ]);

      writeFileSync(join(dir, 'topics.yml'), `topics:\n${topic('security', 'defense OR (')}`);
      await waitFor(() => /config reload failed/.test(cli.output().stderr) || undefined, cli);
      expect(cli.output().stderr).toMatch(/topics\.yml:4:\d+: topics\[0\]\.query: query: /);
      expect((await fetch(`${url}/topics/economy.rss`)).status).toBe(200); // the last good config still runs

      writeFileSync(join(dir, 'topics.yml'), `topics:\n${topic('security', 'defense OR military')}`);
      await waitFor(() => reloads() >= 2 || undefined, cli);
      const before = reloads();
      cli.child.kill('SIGHUP');
      await waitFor(() => reloads() > before || undefined, cli);
      expect((await fetch(`${url}/topics/economy.rss`)).status).toBe(404);
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect(await cli.exited).toBe(0);
  });
});

describe('shutdown', () => {
  it('on SIGTERM abandons a fetch still running after the grace period, charges nothing to its source, releases its lease and exits 0', async () => {
    const slow = await startTestServer(() => {
      /* never answers */
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-data-'));
    const dir = writeConfigDir({
      'sources.yml': `sources:\n  - id: slow\n    url: ${slow.url}/feed\n    allowPrivateNetwork: true\n  - id: jiji-press\n    url: ${pathToFileURL(join(ROOT, 'seeds/jiji-press.atom.xml')).href}\n`,
    });
    const cli = runCli(['run', '--config', dir], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: '', SHUTDOWN_GRACE_SECONDS: '1' });
    try {
      await waitFor(() => (slow.requests.length > 0 && /"source":"jiji-press"/.test(cli.output().stderr)) || undefined, cli);
      const signalled = Date.now();
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(8_000);
      expect(cli.output().stderr).toMatch(/grace period over: abandoning in-flight fetches/);
      expect(cli.output().stderr).toMatch(/"released":1/);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await slow.close();
    }
    const database = await openMigratedDatabase({ dataDir });
    try {
      const rows = await database.db.select().from(sources).orderBy(sources.id);
      expect(rows.map((row) => [row.id, row.leaseOwner, row.errorCount, row.lastStatus])).toEqual([
        ['jiji-press', null, 0, 'ok'],
        ['slow', null, 0, null],
      ]);
    } finally {
      await database.close();
    }
  });
});
