/**
 * Sources behind credentials (a paid wire's feed): a real HTTP server on loopback that answers only with the right
 * Basic credentials and API key. The source's headers reach its own site (the feed and its article pages) and no
 * other, and are kept out of the store.
 */
import type { IncomingMessage } from 'node:http';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../src/app.js';
import { rowsOf } from '../src/db/client.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { writeConfigDir } from './helpers/config.js';
import { useTestDatabase } from './helpers/database.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const testDatabase = useTestDatabase();
const PASSWORD = 'hunter2-wire';
const API_KEY = 'k-4f1d2c';
const BASIC = `Basic ${Buffer.from(`wirefeed:${PASSWORD}`).toString('base64')}`;

const page = (headline: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${headline}</title></head>
<body><nav><a href="/">Home</a></nav><article><h1>${headline}</h1>
<p>Tokyo, June 2 (Jiji Press)--Japanese and U.S. defense chiefs agreed Sunday to set up a forum on joint production of missiles and other equipment, as the two allies deepen security cooperation.</p>
<p>Defense Minister Kihara Minoru and U.S. Defense Secretary Lloyd Austin met on the sidelines of the Shangri-La Dialogue in Singapore and confirmed that the first meeting would be held soon.</p>
<p>The forum is expected to discuss ways to ease supply constraints on the U.S. side, including the repair of U.S. Navy vessels at Japanese shipyards.</p>
</article><footer>All rights reserved.</footer></body></html>`;

let wire: TestServer;
let elsewhere: TestServer;
const authorized = (request: IncomingMessage) => request.headers.authorization === BASIC && request.headers['x-api-key'] === API_KEY;
const credentialsSeen = (server: TestServer, path: string) =>
  server.requests.filter((request) => request.url === path).map((request) => [request.headers.authorization ?? null, request.headers['x-api-key'] ?? null]);

const feed = () => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>JIJI Press Wire (subscribers)</title><link>${wire.url}/</link><description>Wire</description>
<item><title>Japan, U.S. to Set Up Forum on Joint Arms Production</title><link>${wire.url}/news/forum</link>
<guid isPermaLink="false">jiji:forum</guid><pubDate>Sun, 02 Jun 2024 08:06:19 GMT</pubDate><description>Japan and the U.S. agreed to set up a forum.</description></item>
<item><title>Defense Chiefs Meet in Singapore</title><link>${elsewhere.url}/partner/chiefs</link>
<guid isPermaLink="false">jiji:chiefs</guid><pubDate>Sun, 02 Jun 2024 07:40:00 GMT</pubDate><description>The defense chiefs met.</description></item>
</channel></rss>`;

beforeAll(async () => {
  wire = await startTestServer((request, response) => {
    if (!authorized(request)) return response.writeHead(401, { 'www-authenticate': 'Basic realm="wire"' }).end('Unauthorized');
    if (request.url === '/feed.xml') return response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feed());
    if (request.url === '/news/forum') return response.writeHead(200, { 'content-type': 'text/html' }).end(page('Japan, U.S. to Set Up Forum'));
    response.writeHead(404).end();
  });
  // Another port of the same address: another site.
  elsewhere = await startTestServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(page('Defense Chiefs Meet')));
});
afterEach(() => {
  wire.requests.length = 0;
  elsewhere.requests.length = 0;
});
afterAll(async () => {
  await wire.close();
  await elsewhere.close();
});

async function ingestWith(sourceLines: string) {
  const config = writeConfigDir({
    'sources.yml': `sources:\n  - id: jiji-wire\n    url: ${wire.url}/feed.xml\n    allowPrivateNetwork: [127.0.0.1]\n    fullText: true\n${sourceLines}`,
  });
  const app = await openApp({ configDir: config, database: testDatabase().handle });
  try {
    return await ingestSources(ingestContext(app), app.config.sources);
  } finally {
    await app.close();
  }
}

describe('sources behind credentials', () => {
  it('sends them to the feed and its own article pages, to no other site, and keeps them out of the store', async () => {
    process.env.WIREFEED_TEST_WIRE_PASSWORD = PASSWORD;
    try {
      const summary = await ingestWith(`    username: wirefeed\n    password: \${WIREFEED_TEST_WIRE_PASSWORD}\n    headers:\n      X-Api-Key: ${API_KEY}\n`);
      expect(summary).toMatchObject({ itemsNew: 2, failed: 0 });
    } finally {
      delete process.env.WIREFEED_TEST_WIRE_PASSWORD;
    }
    expect(credentialsSeen(wire, '/feed.xml')).toEqual([[BASIC, API_KEY]]);
    expect(credentialsSeen(wire, '/news/forum')).toEqual([[BASIC, API_KEY]]);
    expect(credentialsSeen(elsewhere, '/partner/chiefs')).toEqual([[null, null]]);
    const [forum] = await rowsOf<{ content_html: string }>(testDatabase().handle.db, sql`select content_html from items where guid = 'jiji:forum'`);
    expect(forum!.content_html).toContain('repair of U.S. Navy vessels');
    const [everything] = await rowsOf<{ text: string }>(
      testDatabase().handle.db,
      sql`select (select json_agg(s)::text from sources s) || (select json_agg(f)::text from fetch_log f) || (select json_agg(i)::text from items i) as text`,
    );
    for (const secret of [PASSWORD, API_KEY, BASIC.slice('Basic '.length)]) expect(everything!.text).not.toContain(secret);
  });

  it('records the refusal of a source without them as its failure, naming the status', async () => {
    const summary = await ingestWith('');
    expect(summary).toMatchObject({ itemsNew: 0, failed: 1 });
    expect(summary.outcomes[0]).toMatchObject({ outcome: 'failed', status: 401, error: 'HTTP 401' });
  });
});
