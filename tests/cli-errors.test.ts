/**
 * Every command, and the mistakes an operator makes with it in the first hour: each answered by one line that names
 * the file, option or source and says what to do, exit code 1, and no stack trace.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDriverRejection, userMessage } from '../src/commands/errors.js';
import { UserError } from '../src/model/errors.js';
import { ROOT, runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { createThrowawayDatabase, testServerUrl } from './helpers/database.js';

const SOURCES = 'sources:\n  - id: jiji\n    url: https://jen.jiji.example/rss\ntopics:\n  - slug: japan\n    title: Japan\n    query: japan\n';
const UNREACHABLE = 'postgres://postgres@127.0.0.1:1/wirefeed';

describe('one line for every ordinary mistake', () => {
  let database: Awaited<ReturnType<typeof createThrowawayDatabase>>;
  let dir: string;

  beforeAll(async () => {
    database = await createThrowawayDatabase(testServerUrl(), 'wirefeed_cli');
    dir = writeConfigDir({ 'sources.yml': SOURCES });
    writeFileSync(join(dir, 'feed.xml'), '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>');
    mkdirSync(join(dir, 'a-folder'));
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** [what the user typed, what the one line must say, extra environment] */
  const cases: Array<[string[], RegExp, Record<string, string>?]> = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['run', '--config', 'no-such-folder'], /no-such-folder:1:1: config folder not found/],
    [['worker', '--config', 'no-such-folder'], /config folder not found/],
    [['serve', '--port', '80'], /Unknown option '--port'/],
    [['validate', '--config', 'no-such-folder'], /config folder not found/],
    [['init', '--config', '{dir}'], /already holds sources\.yml; not overwriting: edit those files, or choose a new folder with --config/],
    [['ingest', '--config', '{dir}'], /ingest needs --once/],
    [['ingest', '--once', '--source', 'nope', '--config', '{dir}'], /no source with id "nope"/, { DATABASE_URL: '{database}' }],
    [
      ['ingest', '--once', '--config', '{dir}'],
      /cannot reach the database \(.*\); check DATABASE_URL, or unset it to use the embedded store/,
      { DATABASE_URL: UNREACHABLE },
    ],
    [
      ['sources', 'frobnicate', '--config', '{dir}'],
      /use "sources" to list them, "sources show ID" for one with its fetch history, "sources add URL" to add one, "sources reload ID" to read its pages again, "sources pause ID" \/ "sources resume ID", or "sources test-alert"/,
    ],
    [['sources', 'show', 'nope', '--config', '{dir}'], /no source with id "nope" in /, { DATABASE_URL: '{database}' }],
    [['sources', 'test-alert', '--config', '{dir}'], /the config has no worker\.alerts: give it a webhook to try/],
    [['sources', 'show', 'jiji', '--limit', 'all', '--config', '{dir}'], /--limit must be a positive whole number, not "all"/],
    [['sources', 'add', 'ftp://files.example/feed', '--config', '{dir}'], /"ftp:\/\/files\.example\/feed" is not an http\(s\) URL/],
    [['feed', '--config', '{dir}'], /feed needs a feed URL, or --source ID/],
    [['feed', 'feeds/sources.yml', '--config', '{dir}'], /"feeds\/sources\.yml" is not an http\(s\) URL/],
    [['feed', '--source', 'nope', '--config', '{dir}'], /no source with id "nope"/],
    [['feed', '--source', 'jiji', '--allow-private-network', '--config', '{dir}'], /--allow-private-network is for a URL given alone/],
    [['stories', '--limit', 'ten', '--config', '{dir}'], /--limit must be a positive whole number, not "ten"/],
    [['stories', '--topic', 'nope', '--config', '{dir}'], /no topic with slug "nope"/, { DATABASE_URL: '{database}' }],
    [['topics', 'frobnicate', '--config', '{dir}'], /unknown topics action "frobnicate"/],
    [['topics', 'preview', '--config', '{dir}'], /topics preview needs a topic slug or a query/],
    [['topics', 'preview', 'japan AND', '--config', '{dir}'], /query: .*column/, { DATABASE_URL: '{database}' }],
    [['opml', 'frobnicate', '--config', '{dir}'], /use "opml export" or "opml import FILE"/],
    [['opml', 'import', 'missing.opml', '--config', '{dir}'], /missing\.opml: no such file or folder/],
    [['opml', 'import', '{dir}/a-folder', '--config', '{dir}'], /a-folder: is a folder, not a file/],
    [
      ['opml', 'import', '{dir}/feed.xml', '--config', '{dir}'],
      /feed\.xml: not an OPML document \(no <opml> element\): export the subscriptions from your reader as OPML/,
    ],
    [['backup'], /backup needs one folder/],
    [['backup', '{dir}/copy'], /for a PostgreSQL server \(DATABASE_URL\) use pg_dump/, { DATABASE_URL: UNREACHABLE }],
    [['migrate'], /cannot reach the database/, { DATABASE_URL: UNREACHABLE }],
  ];

  it.each(cases)('wirefeed %j', async (args, expected, env = {}) => {
    const fill = (text: string) => text.replaceAll('{dir}', dir).replaceAll('{database}', database.url);
    const cli = runCli(args.map(fill), { LOG_LEVEL: 'silent', ...Object.fromEntries(Object.entries(env).map(([key, value]) => [key, fill(value)])) });
    const code = await cli.exited;
    const { stderr } = cli.output();
    expect(code, stderr).toBe(1);
    expect(stderr).toMatch(expected);
    expect(stderr, 'no stack trace').not.toMatch(/^\s+at /m);
    expect(stderr.trim().split('\n').length, stderr).toBeLessThanOrEqual(args[0] === 'frobnicate' ? 40 : 2);
  });
});

describe('userMessage', () => {
  const unexpected = new TypeError("Cannot read properties of undefined (reading 'x')");

  it.each([
    [new UserError('feeds already holds sources.yml; not overwriting'), false, 'feeds already holds sources.yml; not overwriting'],
    [Object.assign(new Error("ENOENT: no such file or directory, open 'a.opml'"), { code: 'ENOENT', path: 'a.opml' }), false, 'a.opml: no such file or folder'],
    [Object.assign(new Error('EACCES'), { code: 'EACCES', path: 'feeds/sources.yml' }), false, 'feeds/sources.yml: permission denied'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), false, /^cannot reach the database \(connect ECONNREFUSED/],
    [unexpected, false, "Cannot read properties of undefined (reading 'x') (an unexpected error: run again with --debug for the stack trace)"],
    [unexpected, true, /^TypeError: Cannot read properties[^\n]*\n\s+at /],
  ])('%s (debug %s)', (error, debug, expected) => {
    const message = userMessage(error, debug);
    if (typeof expected === 'string') expect(message).toBe(expected);
    else expect(message).toMatch(expected);
  });
});

describe('rejections no one waits for', () => {
  const fromDriver = new Error('canceling statement due to statement timeout');
  fromDriver.stack = `PostgresError: ${fromDriver.message}\n    at ErrorResponse (file:///srv/wirefeed/node_modules/postgres/src/connection.js:815:30)`;
  it.each([
    ['an error raised in the driver', fromDriver, true],
    ['a lost connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['a server shutting down', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), true],
    ['a bug of ours', new TypeError("Cannot read properties of undefined (reading 'x')"), false],
    ['something that is not an error', 'no such thing', false],
  ])("%s: the driver's = %s", (_name, reason, expected) => {
    expect(isDriverRejection(reason)).toBe(expected);
  });

  /** Runs a script with the guard every command runs with (src/cli.ts), in a child process. */
  const runGuarded = async (body: string): Promise<{ code: number | null; stderr: string }> => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-rejection-'));
    const script = join(dir, 'script.mts');
    writeFileSync(
      script,
      `import postgres from ${JSON.stringify(pathToFileURL(resolve(ROOT, 'node_modules/postgres/src/index.js')).href)};\nimport { surviveDriverRejections } from ${JSON.stringify(pathToFileURL(resolve(ROOT, 'src/commands/errors.ts')).href)};\nsurviveDriverRejections();\n${body}\n`,
    );
    const child = spawn(process.execPath, ['--import', pathToFileURL(resolve(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, script], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    return { code, stderr };
  };

  it("lives through the driver's own first query failing on a new connection, and says so", async () => {
    // A proxy that cuts the first connection when postgres.js sends its internal array-types query, whose promise the
    // driver drops (porsager/postgres#1192, #1223): without the guard the process dies of it.
    const server = new URL(testServerUrl());
    // The test server is reached over TCP, or through a socket folder in ?host= (the embedded engine's).
    const socketDir = server.searchParams.get('host');
    const upstreamAt = socketDir ? [`${socketDir}/.s.PGSQL.${server.port || 5432}`] : [Number(server.port || 5432), server.hostname];
    server.searchParams.delete('host');
    const { code, stderr } = await runGuarded(`
      import { connect, createServer } from 'node:net';
      let cut = false;
      const proxy = createServer((client) => {
        const upstream = connect(...${JSON.stringify(upstreamAt)});
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.pipe(client);
        client.on('data', (chunk) => {
          if (!cut && chunk.includes('typarray')) {
            // What the server sends a connection it terminates (pg_terminate_backend), then the cut.
            cut = true;
            const fields = Buffer.from('SFATAL\\0VFATAL\\0C57P01\\0Mterminating connection due to administrator command\\0\\0');
            const head = Buffer.alloc(5);
            head.write('E');
            head.writeInt32BE(fields.length + 4, 1);
            client.end(Buffer.concat([head, fields]));
            upstream.destroy();
          } else upstream.write(chunk);
        });
      });
      await new Promise((listening) => proxy.listen(0, '127.0.0.1', listening));
      const url = new URL(${JSON.stringify(server.href)});
      url.host = '127.0.0.1:' + proxy.address().port;
      const sql = postgres(url.href, { max: 1, onnotice: () => {} });
      const [row] = await sql\`select 1 as one\`.catch(async () => sql\`select 1 as one\`);
      if (row.one !== 1 || !cut) process.exit(3);
      await sql.end();
      proxy.close();`);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/"msg":"database driver lost an internal query; continuing"/);
  });

  it('still ends the process on any other unhandled rejection', async () => {
    const { code, stderr } = await runGuarded(`Promise.reject(new TypeError('a bug of ours'));\nsetTimeout(() => {}, 1000);`);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/TypeError: a bug of ours/);
  });
});
