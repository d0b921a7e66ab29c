import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { COMMON_FEED_PATHS, discoverFeeds, feedLinksInHtml } from '../src/discover/index.js';
import { HttpClient } from '../src/fetch/index.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { atom, rss2 } from './helpers/feeds.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

describe('feedLinksInHtml', () => {
  const page = 'https://www.japantoday.example/national/story';
  it.each([
    [
      'an RSS link, absolute',
      '<link rel="alternate" type="application/rss+xml" title="Japan Today" href="https://japantoday.example/feed">',
      [{ url: 'https://japantoday.example/feed', type: 'application/rss+xml', title: 'Japan Today' }],
    ],
    [
      'an Atom link, relative to the page',
      '<link rel="alternate" type="application/atom+xml" href="feed.atom">',
      [{ url: 'https://www.japantoday.example/national/feed.atom', type: 'application/atom+xml' }],
    ],
    [
      'a link relative to <base href>',
      '<base href="/news/"><link rel="alternate" type="application/feed+json" href="feed.json">',
      [{ url: 'https://www.japantoday.example/news/feed.json', type: 'application/feed+json' }],
    ],
    [
      'upper case, extra rel words, a charset in the type',
      '<LINK REL="Alternate Home" TYPE="application/RSS+xml; charset=utf-8" HREF="/rss">',
      [{ url: 'https://www.japantoday.example/rss', type: 'application/rss+xml' }],
    ],
    [
      'an entity in the URL',
      '<link rel="alternate" type="application/rss+xml" href="/feed?cat=japan&amp;lang=en">',
      [{ url: 'https://www.japantoday.example/feed?cat=japan&lang=en', type: 'application/rss+xml' }],
    ],
    [
      'no stylesheets, translations or canonical links',
      '<link rel="alternate stylesheet" type="text/css" href="/a.css"><link rel="alternate" hreflang="ja" href="/ja/"><link rel="canonical" href="/x">',
      [],
    ],
    ['no script URLs', '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">', []],
    [
      'each URL once',
      '<link rel="alternate" type="application/rss+xml" href="/feed"><link rel="alternate" type="application/rss+xml" href="https://www.japantoday.example/feed">',
      [{ url: 'https://www.japantoday.example/feed', type: 'application/rss+xml' }],
    ],
  ])('%s', (_name, head, expected) => {
    expect(feedLinksInHtml(`<!doctype html><html><head>${head}</head><body></body></html>`, page)).toEqual(expected);
  });
});

const HTML = { 'content-type': 'text/html; charset=utf-8' };
const RSS = { 'content-type': 'application/rss+xml' };
const story = {
  title: 'Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination',
  link: 'https://jen.jiji.example/news/1',
  pubDate: 'Sun, 02 Jun 2024 08:06:19 +0900',
};

describe("discovering a site's feed over HTTP", () => {
  const http = new HttpClient();
  let site: TestServer;
  let bare: TestServer;
  beforeAll(async () => {
    const pages: Record<string, [Record<string, string>, string]> = {
      '/': [
        HTML,
        '<html><head><base href="/news/"><title>Wire</title><link rel="alternate" type="application/rss+xml" title="Wire (RSS)" href="rss.xml"><link rel="alternate" type="application/atom+xml" href="/news/atom.xml"></head><body>Latest</body></html>',
      ],
      '/news/rss.xml': [RSS, rss2('JIJI Wire', [story])],
      '/news/atom.xml': [
        { 'content-type': 'application/atom+xml' },
        atom('JIJI Wire (Atom)', [{ title: story.title, link: story.link, id: 'tag:jiji.example,2024:1', updated: '2024-06-01T23:06:19Z' }]),
      ],
      '/plain/': [HTML, '<html><head><title>No links here</title></head><body>Hello</body></html>'],
    };
    site = await startTestServer((request, response) => {
      const path = request.url!;
      // The /plain/ page announces nothing; its site keeps a feed at a common path.
      if (path === '/feed.xml') return void response.writeHead(200, RSS).end(rss2('Common path wire', [story]));
      const page = pages[path];
      if (!page) return void response.writeHead(404, HTML).end('<html><body>not found</body></html>');
      response.writeHead(200, page[0]).end(page[1]);
    });
    // A site without a feed: its page announces a "feed" that is a login page, and no common path has one.
    bare = await startTestServer((request, response) => {
      if (request.url === '/')
        return void response.writeHead(200, HTML).end('<html><head><link rel="alternate" type="application/rss+xml" href="/members/feed"></head></html>');
      if (request.url === '/members/feed') return void response.writeHead(200, HTML).end('<html><body>Sign in to continue</body></html>');
      if (request.url === '/api/latest.json') {
        return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"items":[{"title":"Yen slips","url":"/news/1"}]}}');
      }
      response.writeHead(404, HTML).end('<html><body>not found</body></html>');
    });
  });
  afterAll(async () => {
    await http.close();
    await site.close();
    await bare.close();
  });

  const network = { kind: 'any' } as const;

  it('takes the URL itself when it is a feed', async () => {
    const found = await discoverFeeds(`${site.url}/news/rss.xml`, { http, network });
    expect(found.feeds).toEqual([{ url: `${site.url}/news/rss.xml`, title: 'JIJI Wire', format: 'RSS', items: 1, via: 'given' }]);
  });

  it('follows the links a page announces, in its order', async () => {
    const found = await discoverFeeds(`${site.url}/`, { http, network });
    expect(found.feeds.map((feed) => [feed.url, feed.format, feed.via])).toEqual([
      [`${site.url}/news/rss.xml`, 'RSS', 'link'],
      [`${site.url}/news/atom.xml`, 'Atom', 'link'],
    ]);
  });

  it('tries common feed paths when the page announces none', async () => {
    const found = await discoverFeeds(`${site.url}/plain/`, { http, network });
    expect(found.feeds).toEqual([{ url: `${site.url}/feed.xml`, title: 'Common path wire', format: 'RSS', items: 1, via: 'common-path' }]);
    expect(found.rejected.map((entry) => entry.url)).toEqual(['/feed', '/feed/', '/rss', '/rss/'].map((path) => `${site.url}${path}`));
  });

  it('refuses private addresses unless allowed', async () => {
    await expect(discoverFeeds(`${site.url}/`, { http, network: { kind: 'public-only' } })).rejects.toThrow(/127\.0\.0\.1/);
  });

  describe('wirefeed sources add', () => {
    const configWith = () =>
      writeConfigDir({
        'sources.yml':
          '# yaml-language-server: $schema=../schema/config.schema.json\n# Wire services first.\nsources:\n  - id: kyodo\n    url: https://english.kyodonews.example/rss/all.xml\n',
      });

    it("shows what it found and appends the first feed, keeping the file's comments", async () => {
      const dir = configWith();
      const cli = runCli(['sources', 'add', `${site.url}/`, '--allow-private-network', '--config', dir], { LOG_LEVEL: 'silent' });
      expect(await cli.exited).toBe(0);
      expect(cli.output().stdout).toBe(
        `found 2 feeds at ${site.url}/:\n` +
          `  1. ${site.url}/news/rss.xml "JIJI Wire" (RSS, 1 item; announced by the page)\n` +
          `  2. ${site.url}/news/atom.xml "JIJI Wire (Atom)" (Atom, 1 item; announced by the page)\n` +
          `added jiji-wire: ${site.url}/news/rss.xml to ${join(dir, 'sources.yml')}\n`,
      );
      const text = readFileSync(join(dir, 'sources.yml'), 'utf8');
      expect(text).toMatch(/^# yaml-language-server: .*\n# Wire services first\.\n/);
      // --allow-private-network lets the source reach the range its host is in, not every private address.
      expect(loadConfig(dir).sources.map((source) => [source.id, source.url, source.title, source.network])).toEqual([
        ['kyodo', 'https://english.kyodonews.example/rss/all.xml', undefined, { kind: 'public-only' }],
        ['jiji-wire', `${site.url}/news/rss.xml`, 'JIJI Wire', { kind: 'allow-list', entries: ['127.0.0.0/8'] }],
      ]);

      const again = runCli(['sources', 'add', `${site.url}/`, '--allow-private-network', '--pick', '2', '--id', 'jiji-atom', '--full-text', '--config', dir], {
        LOG_LEVEL: 'silent',
      });
      expect(await again.exited).toBe(0);
      expect(loadConfig(dir).sources.map((source) => [source.id, source.fullText])).toEqual([
        ['kyodo', undefined],
        ['jiji-wire', undefined],
        ['jiji-atom', {}],
      ]);

      const twice = runCli(['sources', 'add', `${site.url}/news/rss.xml`, '--allow-private-network', '--config', dir], { LOG_LEVEL: 'silent' });
      expect(await twice.exited).toBe(1);
      expect(twice.output().stdout).toMatch(/not added: .*\/news\/rss\.xml: already a source\n$/);
    });

    it('changes nothing with --dry-run, and reports in JSON with --json', async () => {
      const dir = configWith();
      const before = readFileSync(join(dir, 'sources.yml'), 'utf8');
      const cli = runCli(['sources', 'add', `${site.url}/plain/`, '--allow-private-network', '--dry-run', '--json', '--config', dir], { LOG_LEVEL: 'silent' });
      expect(await cli.exited).toBe(0);
      expect(JSON.parse(cli.output().stdout)).toMatchObject({ feeds: [{ url: `${site.url}/feed.xml`, via: 'common-path' }], added: [], skipped: [] });
      expect(readFileSync(join(dir, 'sources.yml'), 'utf8')).toBe(before);
    });

    it('says what it tried when there is no feed, and exits 1', async () => {
      const dir = configWith();
      const cli = runCli(['sources', 'add', `${bare.url}/`, '--allow-private-network', '--config', dir], { LOG_LEVEL: 'silent' });
      expect(await cli.exited).toBe(1);
      expect(cli.output().stdout).toBe(
        `${[`no feed found at ${bare.url}/`, `  not a feed: ${bare.url}/members/feed: not a feed: got an HTML page`]
          .concat(COMMON_FEED_PATHS.map((path) => `  not a feed: ${bare.url}${path}: HTTP 404`))
          .concat(
            `a page that lists news without a feed can be read as one: see what \`wirefeed scrape ${bare.url}/ --items CSS\` finds, then give the source \`scrape:\` rules`,
          )
          .join('\n')}\n`,
      );
    });

    it('points a JSON document that is no JSON Feed at scrape rules with format json', async () => {
      const cli = runCli(['sources', 'add', `${bare.url}/api/latest.json`, '--allow-private-network', '--json', '--config', configWith()], {
        LOG_LEVEL: 'silent',
      });
      expect(await cli.exited).toBe(1);
      expect(JSON.parse(cli.output().stdout)).toMatchObject({ feeds: [], page: 'json' });
      const text = runCli(['sources', 'add', `${bare.url}/api/latest.json`, '--allow-private-network', '--config', configWith()], { LOG_LEVEL: 'silent' });
      expect(await text.exited).toBe(1);
      expect(text.output().stdout).toContain(
        `it is JSON, not a JSON Feed: a JSON list of news can be read as a feed: see what \`wirefeed scrape ${bare.url}/api/latest.json --format json --items PATH\` finds`,
      );
    });

    it('discovers a feed behind an API key with --header, writing the reference as given, and names a header it cannot send', async () => {
      const members = await startTestServer((request, response) => {
        if (request.headers['x-api-key'] !== 'k-123' || request.headers['user-agent'] !== 'DeskReader/2.0') return void response.writeHead(403).end();
        if (request.url === '/wire/rss.xml') return void response.writeHead(200, RSS).end(rss2('Members Wire', [story]));
        response.writeHead(404, HTML).end('<html><body>not found</body></html>');
      });
      try {
        const dir = configWith();
        const add = (extra: string[]) =>
          runCli(['sources', 'add', `${members.url}/wire/rss.xml`, '--allow-private-network', ...extra, '--config', dir], {
            LOG_LEVEL: 'silent',
            WIREFEED_TEST_WIRE_KEY: 'k-123',
          });
        const cli = add(['--header', `X-Api-Key: \${WIREFEED_TEST_WIRE_KEY}`, '--header', 'User-Agent: DeskReader/2.0']);
        expect(await cli.exited, cli.output().stderr).toBe(0);
        const text = readFileSync(join(dir, 'sources.yml'), 'utf8');
        expect(text).toContain(`X-Api-Key: \${WIREFEED_TEST_WIRE_KEY}`);
        expect(text).toContain('User-Agent: DeskReader/2.0');
        expect(text).not.toContain('k-123');
        for (const [extra, message] of [
          [['--header', 'Host: wire.example'], '--header Host: is set by Wirefeed itself'],
          [['--header', 'X-Api-Key'], '--header takes "Name: value", not "X-Api-Key"'],
          [['--header', `X-Api-Key: \${WIREFEED_TEST_UNSET_KEY}`], '--header X-Api-Key: the environment variable WIREFEED_TEST_UNSET_KEY is not set'],
          [
            ['--header', 'Authorization: Bearer x', '--username', 'desk', '--password-env', 'WIREFEED_TEST_WIRE_KEY'],
            '--username: and an Authorization header cannot both be given',
          ],
        ] as const) {
          const refused = add([...extra]);
          expect(await refused.exited).toBe(1);
          expect(refused.output().stderr).toBe(`wirefeed sources: ${message}\n`);
        }
      } finally {
        await members.close();
      }
    });

    it('discovers a feed behind a login with --username and --password-env, and writes a reference to the password', async () => {
      const basic = `Basic ${Buffer.from('newsroom:s3cret pass').toString('base64')}`;
      const members = await startTestServer((request, response) => {
        if (request.headers.authorization !== basic) return void response.writeHead(401, { 'www-authenticate': 'Basic realm="wire"' }).end();
        if (request.url === '/wire/rss.xml') return void response.writeHead(200, RSS).end(rss2('Members Wire', [story]));
        response.writeHead(404, HTML).end('<html><body>not found</body></html>');
      });
      try {
        const dir = configWith();
        const add = (extra: string[], env: Record<string, string> = {}) =>
          runCli(['sources', 'add', `${members.url}/wire/rss.xml`, '--allow-private-network', ...extra, '--config', dir], { LOG_LEVEL: 'silent', ...env });
        const anonymous = add([]);
        expect(await anonymous.exited).toBe(1);
        expect(anonymous.output().stderr).toMatch(/HTTP 401; the site asks for a login: give --username and --password-env \(or --header for its API key\)\n$/);
        const unset = add(['--username', 'newsroom', '--password-env', 'WIREFEED_TEST_WIRE_PASSWORD']);
        expect(await unset.exited).toBe(1);
        expect(unset.output().stderr).toContain('the environment variable WIREFEED_TEST_WIRE_PASSWORD is not set');

        const cli = add(['--username', 'newsroom', '--password-env', 'WIREFEED_TEST_WIRE_PASSWORD'], { WIREFEED_TEST_WIRE_PASSWORD: 's3cret pass' });
        expect(await cli.exited, cli.output().stderr).toBe(0);
        const text = readFileSync(join(dir, 'sources.yml'), 'utf8');
        expect(text).toContain('username: newsroom');
        expect(text).toContain(`password: \${WIREFEED_TEST_WIRE_PASSWORD}`);
        expect(text).not.toContain('s3cret');
        process.env.WIREFEED_TEST_WIRE_PASSWORD = 's3cret pass';
        try {
          expect(loadConfig(dir).sources.at(-1)).toMatchObject({ url: `${members.url}/wire/rss.xml`, credentials: { headers: { authorization: basic } } });
        } finally {
          delete process.env.WIREFEED_TEST_WIRE_PASSWORD;
        }
      } finally {
        await members.close();
      }
    });

    it('names the address it refused without --allow-private-network', async () => {
      const cli = runCli(['sources', 'add', `${site.url}/`, '--config', configWith()], { LOG_LEVEL: 'silent' });
      expect(await cli.exited).toBe(1);
      expect(cli.output().stderr).toMatch(
        new RegExp(`^wirefeed sources: cannot fetch ${site.url}/: .*127\\.0\\.0\\.1.*; add --allow-private-network to allow it\n$`),
      );
      expect(cli.output().stderr).not.toContain('allowPrivateNetwork on the source');
    });
  });
});
