/**
 * Every command, and the mistakes an operator makes with it in the first hour: each answered by one line that names
 * the file, option or source and says what to do, exit code 1, and no stack trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userMessage } from '../src/commands/errors.js';
import { UserError } from '../src/model/errors.js';
import { runCli } from './helpers/cli.js';
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
    [['sources', 'frobnicate', '--config', '{dir}'], /use "sources" to list them or "sources add URL"/],
    [['sources', 'add', 'ftp://files.example/feed', '--config', '{dir}'], /"ftp:\/\/files\.example\/feed" is not an http\(s\) URL/],
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
