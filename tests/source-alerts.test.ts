import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { webhookSignature } from '../src/publish/webhook.js';
import { judgedSources } from '../src/store/sources.js';
import { sendSourceAlerts } from '../src/worker/alerts.js';
import { ingestContext } from '../src/worker/context.js';
import { housekeep } from '../src/worker/housekeeping.js';
import { ingestSources } from '../src/worker/ingest.js';
import { openTestApp } from './helpers/app.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { openTestDatabase, type TestDatabase } from './helpers/database.js';
import { rss2 } from './helpers/feeds.js';
import { type FixtureServer, startFixtureServer } from './helpers/fixture-server.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const HOUR = 3_600_000;
const SECRET = 'whsec_c2VjcmV0LWZvci1zb3VyY2UtYWxlcnRz';

/** `count` briefs an outlet filed every two hours, the newest `newestAgoMs` ago. */
const briefs = (outlet: string, count: number, newestAgoMs: number) =>
  rss2(
    `${outlet} Japan`,
    Array.from({ length: count }, (_, index) => ({
      title: `${outlet}: Japan brief ${count - index}`,
      link: `https://${outlet}.example/japan/${count - index}`,
      pubDate: new Date(Date.now() - newestAgoMs - index * 2 * HOUR).toUTCString(),
      description: `TOKYO (${outlet}) - Brief number ${count - index} on Japan's economy and politics.`,
    })),
  );

interface Received {
  body: { title: string; items: Array<{ title: string; url: string; authors: Array<{ name: string }> }>; _wirefeed: { event: string } };
  signatureHolds: boolean;
}

describe('source alerts: worker.alerts hears of sources that fail, go quiet, go, and come back', () => {
  let database: TestDatabase;
  let fixtures: FixtureServer;
  let receiver: TestServer;
  let app: App;
  let configDir: string;
  const received: Received[] = [];
  let answer = 204;

  beforeAll(async () => {
    database = await openTestDatabase();
    receiver = await startTestServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        const { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature } = request.headers;
        const signatureHolds = signature === webhookSignature(SECRET, String(id), Number(timestamp), body);
        if (answer < 300) received.push({ body: JSON.parse(body), signatureHolds });
        response.writeHead(answer).end();
      });
    });
    fixtures = await startFixtureServer();
    fixtures.set('/steady.rss', briefs('steady', 100, HOUR));
    fixtures.set('/frozen.rss', briefs('frozen', 100, 9 * 24 * HOUR));
    fixtures.set('/broken.rss', briefs('broken', 5, HOUR));
    const sources = ['steady', 'frozen', 'broken'].map(
      (id) => `  - id: ${id}\n    url: ${fixtures.url}/${id}.rss\n    title: ${id[0]!.toUpperCase()}${id.slice(1)} Wire\n    allowPrivateNetwork: true\n`,
    );
    configDir = writeConfigDir({
      'sources.yml': `sources:\n${sources.join('')}`,
      'settings.yml': `publish:\n  publicUrl: https://feeds.example.org\nworker:\n  alerts:\n    url: ${receiver.url}/hooks/ops\n    secret: ${SECRET}\n`,
    });
    app = await openTestApp(database.handle, { configDir });
    await ingestSources(ingestContext(app), app.config.sources);
  });
  afterAll(async () => {
    await app?.close();
    await fixtures?.close();
    await receiver?.close();
    await database?.close();
  });

  /** The broken source serves something that is not a feed: `times` fetches of it. */
  const breakSources = async (times: number) => {
    for (let fetch = 0; fetch < times; fetch++) {
      fixtures.set('/broken.rss', 'not a feed at all', 'text/plain');
      await ingestSources(
        ingestContext(app),
        app.config.sources.filter((source) => source.id === 'broken'),
      );
    }
  };

  it('says each change once, signed, in one JSON Feed: failing after three errors in a row, quiet, and no more', async () => {
    await breakSources(2);
    const known = new Set<string>();
    await housekeep(app, undefined, known);
    // Two failures are every feed's weather: only the frozen wire is news yet.
    expect(received.map((delivery) => delivery.body.items.map((item) => [item.authors[0]!.name, item.title]))).toEqual([
      [['Frozen Wire (frozen)', 'Quiet: nothing new for 9 d (its longest gap in 30 days: 2 h)']],
    ]);
    expect(received[0]!.signatureHolds).toBe(true);
    expect(received[0]!.body._wirefeed.event).toBe('source_alerts');
    expect(received[0]!.body.items[0]!.url).toBe('https://feeds.example.org/sources#source-frozen');
    await breakSources(1);
    await housekeep(app, undefined, known);
    await housekeep(app, undefined, known);
    expect(received).toHaveLength(2);
    const [failing, ...others] = received[1]!.body.items;
    expect(others).toEqual([]);
    expect(failing!.authors[0]!.name).toBe('Broken Wire (broken)');
    expect(failing!.title).toMatch(/^Failing: .+ \(3 errors in a row\)$/);
  });

  it('says when a source comes back, and says again what a failed POST did not deliver', async () => {
    fixtures.set('/broken.rss', briefs('broken', 6, 0));
    await ingestSources(
      ingestContext(app),
      app.config.sources.filter((source) => source.id === 'broken'),
    );
    answer = 503;
    await housekeep(app, undefined, new Set());
    expect(received).toHaveLength(2); // not taken
    answer = 204;
    await housekeep(app, undefined, new Set());
    expect(received).toHaveLength(3);
    expect(received[2]!.body.items.map((item) => [item.authors[0]!.name, item.title])).toEqual([['Broken Wire (broken)', 'Back: fetched without error']]);
  });

  it('sends worker.alerts a test alert on demand (wirefeed sources test-alert), and says when it was not taken', async () => {
    const before = received.length;
    const sent = runCli(['sources', 'test-alert', '--config', configDir], { LOG_LEVEL: 'silent' });
    expect(await sent.exited, sent.output().stderr).toBe(0);
    expect(sent.output().stdout).toMatch(/^worker\.alerts took a test alert: HTTP 204 in \d+ ms\n$/);
    expect(received).toHaveLength(before + 1);
    expect(received.at(-1)!.signatureHolds).toBe(true);
    expect(received.at(-1)!.body._wirefeed.event).toBe('test');
    expect(received.at(-1)!.body.items.map((item) => item.title)).toEqual([
      'Test: sources that fail, go quiet or go, and webhooks that drop stories, will be said here (wirefeed sources test-alert)',
    ]);
    answer = 500;
    try {
      const refused = runCli(['sources', 'test-alert', '--config', configDir], { LOG_LEVEL: 'silent' });
      expect(await refused.exited).toBe(1);
      expect(refused.output().stderr).toBe('worker.alerts did not take the test alert: HTTP 500\n');
    } finally {
      answer = 204;
    }
  });

  it('sends a change once when two workers find it at the same moment', async () => {
    fixtures.set('/frozen.rss', briefs('frozen', 101, 0));
    await ingestSources(
      ingestContext(app),
      app.config.sources.filter((source) => source.id === 'frozen'),
    );
    const judged = await judgedSources(app.database.db, app.config.sources);
    const before = received.length;
    const sent = await Promise.all([sendSourceAlerts(app, judged), sendSourceAlerts(app, judged)]);
    expect(sent.sort()).toEqual([0, 1]);
    expect(received).toHaveLength(before + 1);
    expect(received.at(-1)!.body.items.map((item) => item.title)).toEqual(['Back: new items again']);
  });
});
