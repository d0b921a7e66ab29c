/**
 * Requests an attacker or a broken client sends get a 4xx, never a 500; what a client can vary (Host, ?limit=) cannot
 * grow the server's memory past its cache budget; and the pages that list everything cost one query, cached.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { FeedCache } from '../src/server/feed-cache.js';
import type { AppServer } from '../src/server/http.js';
import { encodeCursor } from '../src/server/request.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { DEMO_CONFIG as DEMO, openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { writeConfigDir } from './helpers/config.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';

/** A GET with headers fetch() would refuse to send. */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((done, fail) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      response.on('end', () => done({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', fail).end();
  });
}

/** The request line exactly as given (an absolute-form target that does not parse). */
function rawRequestLine(port: number, line: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk) => (answer += chunk));
    socket.on('end', () => done(answer)).on('error', fail);
  });
}

describe('hostile requests', () => {
  let database: TestDatabase;
  let app: App;
  let served: ServedApp;
  let server: AppServer;
  let port: number;

  beforeAll(async () => {
    database = await openTestDatabase();
    app = await openTestApp(database.handle, { ingest: true });
    served = await serveApp(app);
    ({ server, port } = served);
  });
  afterAll(async () => {
    await served.stop();
    await app.close();
    await database.close();
  });

  it.each([
    ['a cursor in year +275760', `/topics/japan-us-security.rss?before=${encodeCursor({ publishedAt: new Date(8.64e15), storyId: 'abc' })}`],
    ['a cursor in year -1', `/topics/japan-us-security.rss?before=${encodeCursor({ publishedAt: new Date(Date.UTC(-1, 0, 1)), storyId: 'abc' })}`],
    ['a cursor that is not one', '/topics/japan-us-security.atom?before=%zz'],
    ['a limit that is not a number', '/topics/japan-us-security.json?limit=1e9'],
  ])('%s is a 400 with nosniff', async (_name, path) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it.each([
    ['with a space', 'a b'],
    ['with a bad escape', 'feeds%zz.example'],
    ['with a path', 'evil.example/x'],
    ['too long', `${'a'.repeat(300)}.example`],
  ])('a Host header %s is a 400 on every page that builds links', async (_name, host) => {
    for (const path of ['/', '/topics/japan-us-security.rss', '/topics/japan-us-security.html', '/opml']) {
      const response = await rawGet(port, path, { host });
      expect(response.status, path).toBe(400);
      expect(response.body).toBe('invalid Host header\n');
    }
  });

  it('an absolute request target that does not parse is a 400', async () => {
    expect(await rawRequestLine(port, 'GET http://[bad/topics/x.rss HTTP/1.1')).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('distinct Host headers and limits cannot grow the cache past its byte budget', async () => {
    for (let index = 0; index < 40; index++) {
      const response = await rawGet(port, `/topics/japan-us-security.rss?limit=${1 + (index % 20)}`, { host: `host-${index}.example:${8000 + index}` });
      expect(response.status).toBe(200);
    }
    expect(server.feedCache.size).toBeGreaterThan(0);
    expect(server.feedCache.size).toBeLessThanOrEqual(server.feedCache.maxBytes);
  });

  it('pages and feeds forbid framing', async () => {
    for (const path of ['/', '/topics/japan-us-security.html', '/topics/japan-us-security.atom']) {
      expect((await fetch(`http://127.0.0.1:${port}${path}`)).headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });
});

describe('FeedCache', () => {
  it('keeps within its byte budget whatever the keys, dropping the least recently used', async () => {
    const cache = new FeedCache(1_000, 64 * 1024);
    const body = 'x'.repeat(10 * 1024);
    for (let index = 0; index < 100; index++) await cache.get(`key-${index}`, 1, async () => `${body}${index}`);
    expect(cache.size).toBeLessThanOrEqual(64 * 1024);
    // The newest stay, the oldest went: a re-render for key-0, none for key-99.
    const renders = cache.renders;
    await cache.get('key-99', 1, async () => 'new');
    expect(cache.renders).toBe(renders);
    await cache.get('key-0', 1, async () => 'new');
    expect(cache.renders).toBe(renders + 1);
  });

  it('serves but does not keep a body larger than the whole budget', async () => {
    const cache = new FeedCache(10, 1024);
    const body = await cache.get('huge', 1, async () => 'y'.repeat(100_000));
    expect(body.identity.byteLength).toBe(100_000);
    expect(cache.size).toBe(0);
  });
});

describe('pages over many topics', () => {
  it('renders the index of 300 topics (their headlines read in one statement), then serves it from the cache', async () => {
    const database = await openTestDatabase();
    const topics = Array.from(
      { length: 300 },
      (_, index) => `  - { slug: topic-${index}, title: "Topic ${index}", query: 'japan${index % 2 ? '' : ' AND defense'}' }`,
    ).join('\n');
    const configDir = writeConfigDir({
      'sources.yml': `sources:\n  - { id: jiji-press, url: "file://${DEMO}/../../seeds/jiji-press.atom.xml" }\n`,
      'topics.yml': `topics:\n${topics}\n`,
    });
    const app = await openApp({ configDir, database: database.handle });
    const { server, base, stop } = await serveApp(app);
    try {
      await ingestSources(
        ingestContext(app, (slugs) => server.invalidateTopics(slugs)),
        app.config.sources,
      );
      const first = await (await fetch(`${base}/`)).text();
      expect(first.match(/<section class="topic"/g)).toHaveLength(300);
      expect(first).toContain('Japan, U.S. Defense Chiefs Reaffirm Command and Control Coordination');
      const renders = server.feedCache.renders;
      expect(await (await fetch(`${base}/`)).text()).toBe(first);
      expect(server.feedCache.renders).toBe(renders);
    } finally {
      await stop();
      await app.close();
      await database.close();
    }
  });
});
