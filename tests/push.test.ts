/**
 * WebSub subscriptions to sources' hubs (fetch.websub): discovery, the plan of requests, signatures, and end to end a
 * real hub on loopback that verifies our requests and pushes to the feed server's callback, the store on either engine.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { formatSourceTable } from '../src/commands/report.js';
import { rowsOf } from '../src/db/client.js';
import { hubLinksOf } from '../src/fetch/links.js';
import type { PushSubscription } from '../src/model/source.js';
import { parseFeed } from '../src/parse/index.js';
import { createAppServer, listen } from '../src/server/http.js';
import { signatureHolds } from '../src/server/push.js';
import { sourceHealth } from '../src/store/sources.js';
import { ingestContext } from '../src/worker/context.js';
import { housekeep } from '../src/worker/housekeeping.js';
import { ingestSources } from '../src/worker/ingest.js';
import { callbackUnreachable, LEASE_SECONDS, PUSHED_POLL_SECONDS, type PushLinks, pushLinksOf, pushPlan, pushSubscriber } from '../src/worker/subscriptions.js';
import { runCli, waitFor } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { useTestDatabase } from './helpers/database.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

describe('finding a feed hub', () => {
  it.each([
    [
      '<https://pubsubhubbub.appspot.com/>; rel="hub", <https://jen.jiji.com/rss>; rel="self"',
      { hub: 'https://pubsubhubbub.appspot.com/', self: 'https://jen.jiji.com/rss' },
    ],
    ['<https://hub.example/>; rel=hub', { hub: 'https://hub.example/' }],
    ['<https://jen.jiji.com/rss>; rel="self hub"', { hub: 'https://jen.jiji.com/rss', self: 'https://jen.jiji.com/rss' }],
    ['<https://jen.jiji.com/>; rel="alternate"; type="text/html"', undefined],
    [['<https://a.example/hub>; rel="HUB"', '<https://b.example/hub>; rel="hub"'], { hub: 'https://a.example/hub' }],
    ['<https://x.example/a,b>; title="x"; rel="hub"', { hub: 'https://x.example/a,b' }],
  ])('Link: %j', (header, links) => {
    expect(hubLinksOf({ link: header })).toEqual(links);
  });

  it('reads the hub and self links of Atom, of an RSS channel (atom:link under any prefix) and of JSON Feed', async () => {
    const atom = await parseFeed(
      '<feed xmlns="http://www.w3.org/2005/Atom"><title>JIJI Press</title><link rel="hub" href="https://pubsubhubbub.appspot.com/"/><link rel="self" href="https://jen.jiji.com/atom"/><link href="https://jen.jiji.com/"/></feed>',
    );
    expect(atom).toMatchObject({ push: { hub: 'https://pubsubhubbub.appspot.com/', self: 'https://jen.jiji.com/atom' }, siteUrl: 'https://jen.jiji.com/' });
    const rss = await parseFeed(
      '<rss version="2.0" xmlns:a10="http://www.w3.org/2005/Atom"><channel><title>Arab News</title><link>https://www.arabnews.com/</link><a10:link rel="hub" href="https://websub.example/"/><a10:link rel="self" href="https://www.arabnews.com/rss.xml"/></channel></rss>',
    );
    expect(rss).toMatchObject({ push: { hub: 'https://websub.example/', self: 'https://www.arabnews.com/rss.xml' }, siteUrl: 'https://www.arabnews.com/' });
    const json = await parseFeed(
      JSON.stringify({
        version: 'https://jsonfeed.org/version/1.1',
        title: 'Japan Today',
        feed_url: 'https://japantoday.com/feed.json',
        hubs: [
          { type: 'rssCloud', url: 'https://cloud.example/' },
          { type: 'WebSub', url: 'https://websub.example/' },
        ],
        items: [],
      }),
    );
    expect(json.push).toEqual({ hub: 'https://websub.example/', self: 'https://japantoday.com/feed.json' });
    expect((await parseFeed('<rss version="2.0"><channel><title>No hub</title></channel></rss>')).push).toBeUndefined();
  });

  const FEED = 'https://jen.jiji.com/rss/feed.xml';
  it.each<[string, Parameters<typeof pushLinksOf>[0], Parameters<typeof pushLinksOf>[1], PushLinks]>([
    [
      'the header before the document',
      { hub: 'https://a.example/' },
      { hub: 'https://b.example/', self: 'https://jen.jiji.com/self' },
      { hub: 'https://a.example/', topic: FEED },
    ],
    [
      'the document, its self link the topic',
      undefined,
      { hub: '/hub', self: 'feed-self.xml' },
      { hub: 'https://jen.jiji.com/hub', topic: 'https://jen.jiji.com/rss/feed-self.xml' },
    ],
    ['no hub in a document read', undefined, undefined, 'none'],
    ['a document not read (304)', undefined, 'unread', 'unknown'],
    ['a header on a document not read', { hub: 'https://a.example/' }, 'unread', { hub: 'https://a.example/', topic: FEED }],
    ['a hub that is no web address', undefined, { hub: 'javascript:alert(1)' }, 'none'],
    ['a hub URL too long to be one', undefined, { hub: `https://hub.example/${'a'.repeat(3000)}` }, 'none'],
  ])('%s', (_case, header, document, links) => {
    expect(pushLinksOf(header, document, FEED)).toEqual(links);
  });
});

describe('the requests a fetch calls for', () => {
  const NOW = new Date('2024-06-02T00:00:00Z');
  const hours = (count: number) => new Date(NOW.getTime() + count * 3_600_000);
  const HUB = { hub: 'https://hub.example/', topic: 'https://jen.jiji.com/rss' };
  const subscription = (fields: Partial<PushSubscription>): PushSubscription => ({
    id: 'sub-1',
    sourceId: 'jiji',
    ...HUB,
    secret: 'k',
    state: 'active',
    requestedAt: hours(-24),
    leaseUntil: hours(24 * 6),
    reason: null,
    ...fields,
  });
  it.each<[string, PushSubscription | undefined, PushLinks, 'none' | 'end' | 'ask' | 'renew' | 'end and ask']>([
    ['no hub, none named', undefined, 'none', 'none'],
    ['a hub named first', undefined, HUB, 'ask'],
    ['nothing read, nothing held', undefined, 'unknown', 'none'],
    ['an active lease with days left', subscription({}), HUB, 'none'],
    ['an active lease with days left, nothing read', subscription({}), 'unknown', 'none'],
    ['an active lease ending in 20 hours', subscription({ requestedAt: hours(-24 * 6), leaseUntil: hours(20) }), HUB, 'renew'],
    ['an active lease ending in 20 hours, nothing read', subscription({ requestedAt: hours(-24 * 6), leaseUntil: hours(20) }), 'unknown', 'renew'],
    ['a renewal sent 20 minutes ago', subscription({ requestedAt: hours(-1 / 3), leaseUntil: hours(20) }), HUB, 'none'],
    ['a short lease past its half', subscription({ requestedAt: hours(-3), leaseUntil: hours(1) }), HUB, 'renew'],
    ['a lease that ran out', subscription({ requestedAt: hours(-24 * 8), leaseUntil: hours(-24) }), 'unknown', 'renew'],
    ['a request unverified for 30 minutes', subscription({ state: 'requested', requestedAt: hours(-0.5), leaseUntil: null }), HUB, 'none'],
    ['a request unverified for 2 hours', subscription({ state: 'requested', requestedAt: hours(-2), leaseUntil: null }), HUB, 'renew'],
    ['a denial 5 hours ago', subscription({ state: 'denied', requestedAt: hours(-5), leaseUntil: null }), HUB, 'none'],
    ['a denial 2 days ago', subscription({ state: 'denied', requestedAt: hours(-48), leaseUntil: null }), HUB, 'renew'],
    ['the feed dropped its hub', subscription({}), 'none', 'end'],
    ['the feed moved to another hub', subscription({}), { ...HUB, hub: 'https://other-hub.example/' }, 'end and ask'],
    ['the feed moved its self link', subscription({}), { ...HUB, topic: 'https://jen.jiji.com/rss2' }, 'end and ask'],
  ])('%s', (_case, current, links, expected) => {
    const plan = pushPlan(current, links, NOW);
    const kind = plan.end ? (plan.request ? 'end and ask' : 'end') : plan.request ? (plan.request.renewing ? 'renew' : 'ask') : 'none';
    expect(kind).toBe(expected);
    if (plan.request?.renewing) expect(plan.request.renewing).toBe(current);
  });
});

describe('a callback URL hubs can reach', () => {
  it.each([
    ['https://feeds.example.org', false],
    ['http://203.0.113.7:8080', true],
    ['http://93.184.216.34:8080', false],
    ['http://localhost:8080', true],
    ['http://wirefeed.localhost', true],
    ['http://127.0.0.1:8080', true],
    ['http://10.0.0.5', true],
    ['http://[::1]:8080', true],
    ['http://[2606:4700::1111]', false],
    ['http://wirefeed.internal:8080', false],
  ])('%s: unreachable %s', (publicUrl, unreachable) => {
    expect(callbackUnreachable({ fetch: { websub: true }, publish: { publicUrl } }) !== undefined).toBe(unreachable);
  });
});

describe('push signatures', () => {
  const body = Buffer.from('<feed xmlns="http://www.w3.org/2005/Atom"><title>JIJI</title></feed>');
  const sign = (algorithm: string, key = 'topsecret') => `${algorithm}=${createHmac(algorithm, key).update(body).digest('hex')}`;
  it.each([
    [sign('sha1'), true],
    [sign('sha256'), true],
    [sign('sha384'), true],
    [sign('sha512').toUpperCase().replace('SHA512=', 'sha512='), true],
    [sign('sha256', 'another'), false],
    [sign('sha256').slice(0, -2), false],
    [sign('md5'), false],
    ['sha256=zz', false],
    ['', false],
    [undefined, false],
  ])('%s holds: %s', (header, holds) => {
    expect(signatureHolds(header, 'topsecret', body)).toBe(holds);
  });
});

/** A WebSub hub on loopback: takes requests, verifies them at their callbacks, and pushes when told. */
interface TestHub extends TestServer {
  asked: Array<Record<string, string>>;
  verified: Array<{ mode: string; status: number; body: string; challenge: string }>;
  push(callback: string, body: string, secret?: string): Promise<number>;
}

async function startTestHub(): Promise<TestHub> {
  const asked: TestHub['asked'] = [];
  const verified: TestHub['verified'] = [];
  const server = await startTestServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', async () => {
      const fields = Object.fromEntries(new URLSearchParams(text));
      asked.push(fields);
      response.writeHead(202).end();
      const challenge = randomBytes(12).toString('hex');
      const check = new URL(fields['hub.callback']!);
      for (const [name, value] of Object.entries({ 'hub.mode': fields['hub.mode']!, 'hub.topic': fields['hub.topic']!, 'hub.challenge': challenge }))
        check.searchParams.set(name, value);
      if (fields['hub.mode'] === 'subscribe') check.searchParams.set('hub.lease_seconds', '86400');
      const answer = await fetch(check);
      verified.push({ mode: fields['hub.mode']!, status: answer.status, body: await answer.text(), challenge });
    });
  });
  return Object.assign(server, {
    asked,
    verified,
    async push(callback: string, body: string, secret?: string) {
      const headers: Record<string, string> = { 'content-type': 'application/atom+xml' };
      if (secret) headers['x-hub-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      return (await fetch(callback, { method: 'POST', headers, body })).status;
    },
  });
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 10_000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('WebSub subscriptions, end to end', () => {
  const testDatabase = useTestDatabase();
  const closing: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  /** A feed naming `hub()` (when it returns one), a hub, and an app subscribed through a server on its public URL. */
  async function setUp(options: { websub?: boolean } = {}) {
    const hub = await startTestHub();
    let named: string | undefined = `${hub.url}/`;
    const feed = await startTestServer((_request, response) => {
      const hubLink = named ? `<link rel="hub" href="${named}"/>` : '';
      response.writeHead(200, { 'content-type': 'application/atom+xml' }).end(
        `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>JIJI Press</title>${hubLink}<link rel="self" href="https://jen.jiji.com/rss/atom.xml"/>
<entry><id>urn:jiji:2024060200123</id><title>Japan, U.S. defense chiefs meet in Singapore</title><updated>2024-06-02T08:06:19+09:00</updated><link href="https://jen.jiji.com/jc/eng?k=2024060200123"/></entry></feed>`,
      );
    });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const configDir = writeConfigDir({
      'wirefeed.yml': `fetch:
  websub: ${options.websub ?? true}
publish:
  publicUrl: ${base}
  token: reader-token-0123456789
sources:
  - id: jiji
    url: ${feed.url}/rss/atom.xml
    allowPrivateNetwork: true
`,
    });
    const app = await openApp({ configDir, database: testDatabase().handle });
    const server = createAppServer(app);
    await listen(server, port, '127.0.0.1');
    closing.push(
      () => hub.close(),
      () => feed.close(),
      () => app.close(),
      () => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      },
    );
    return { hub, feed, app, base, dropHub: () => (named = undefined) };
  }

  const subscriptions = (app: App) =>
    rowsOf<{ id: string; state: string; topic: string; hub: string; secret: string; lease_hours: number; reason: string | null }>(
      app.database.db,
      sql`select id, state, topic, hub, secret, extract(epoch from lease_until - now()) / 3600 as lease_hours, reason from push_subscriptions`,
    );
  const nextCheck = async (app: App) =>
    (await rowsOf<{ at: string; last: string }>(app.database.db, sql`select next_check_at as at, last_fetched_at as last from sources where id = 'jiji'`))[0]!;

  it('subscribes to the hub a feed names; the hub verifies, and a signed push makes the source due, past any access token', async () => {
    const { hub, app, base } = await setUp();
    await ingestSources(ingestContext(app), app.config.sources);
    await waitUntil(() => hub.verified.length === 1);
    const [request] = hub.asked;
    const [subscription] = await subscriptions(app);
    expect(request).toMatchObject({
      'hub.mode': 'subscribe',
      'hub.topic': 'https://jen.jiji.com/rss/atom.xml',
      'hub.callback': `${base}/websub/${subscription!.id}`,
      'hub.lease_seconds': String(LEASE_SECONDS),
      'hub.secret': subscription!.secret,
    });
    expect(subscription!.secret.length).toBeGreaterThanOrEqual(32);
    // The challenge echoed: the hub now pushes, for the lease it granted (a day).
    expect(hub.verified[0]).toMatchObject({ mode: 'subscribe', status: 200, body: hub.verified[0]!.challenge });
    expect(subscription).toMatchObject({ state: 'active' });
    expect(subscription!.lease_hours).toBeCloseTo(24, 0);
    // `wirefeed sources` and /sources.json say so (never the id or the secret).
    const [health] = await sourceHealth(app.database.db);
    expect(health!.push).toMatchObject({ state: 'active', hub: `${hub.url}/`, pushedAt: null });
    expect(formatSourceTable([health!], new Date())).toContain('jiji (pushed)');

    // Pushed, it is polled hourly (not every 15 minutes) as a backstop for a hub that stops pushing.
    await ingestSources(ingestContext(app), app.config.sources);
    expect(new Date((await nextCheck(app)).at).getTime() - Date.now()).toBeGreaterThan(PUSHED_POLL_SECONDS * 1000 - 10_000);
    expect(hub.asked).toHaveLength(1);

    const callback = request!['hub.callback']!;
    // Just fetched: the push makes it due a minute after that fetch (worker.minInterval), not at once.
    const fetched = await nextCheck(app);
    expect(await hub.push(callback, '<feed/>', subscription!.secret)).toBe(202);
    const soon = await nextCheck(app);
    expect(new Date(soon.at).getTime() - new Date(fetched.last).getTime()).toBe(60_000);
    // An hour after its fetch: due at once.
    await app.database.db.execute(sql`update sources set last_fetched_at = now() - interval '1 hour', next_check_at = now() + interval '1 hour'`);
    expect(await hub.push(callback, '<feed/>', 'not-the-secret')).toBe(202);
    expect(new Date((await nextCheck(app)).at).getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(await hub.push(callback, '<feed/>')).toBe(202);
    expect(new Date((await nextCheck(app)).at).getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(await hub.push(callback, '<feed/>', subscription!.secret)).toBe(202);
    expect(new Date((await nextCheck(app)).at).getTime()).toBeLessThanOrEqual(Date.now());
    const pushes = await app.metrics.registry.getSingleMetric('wirefeed_websub_pushes_total')!.get();
    expect(Object.fromEntries(pushes.values.map((value) => [value.labels.outcome, value.value]))).toEqual({ accepted: 2, unsigned: 2 });

    // No such subscription: 410 tells a hub to stop; a verification of one we did not ask for is not confirmed.
    expect(await hub.push(`${base}/websub/NoSuchSubscription0`, '<feed/>', 'x')).toBe(410);
    const stranger = new URL(callback);
    stranger.search = new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': 'https://evil.example/', 'hub.challenge': 'c' }).toString();
    expect((await fetch(stranger)).status).toBe(404);
    // The feeds themselves still ask for the token.
    expect((await fetch(`${base}/topics/x.rss`)).status).toBe(401);
  });

  it('ends the subscription when the feed drops its hub, and every one when fetch.websub goes off', async () => {
    const { hub, app, dropHub } = await setUp();
    await ingestSources(ingestContext(app), app.config.sources);
    await waitUntil(() => hub.verified.length === 1);
    dropHub();
    await app.database.db.execute(sql`update sources set document_hash = null, etag = null, last_modified = null`);
    await ingestSources(ingestContext(app), app.config.sources);
    await waitUntil(() => hub.verified.length === 2);
    expect(hub.asked[1]).toMatchObject({ 'hub.mode': 'unsubscribe', 'hub.topic': 'https://jen.jiji.com/rss/atom.xml' });
    // Deleted before the hub was asked: its verification of the end is confirmed.
    expect(hub.verified[1]).toMatchObject({ mode: 'unsubscribe', status: 200, body: hub.verified[1]!.challenge });
    expect(await subscriptions(app)).toEqual([]);

    // Subscribed again, then fetch.websub turned off: the housekeeping ends it.
    const { hub: second, app: renewed } = await setUp();
    await ingestSources(ingestContext(renewed), renewed.config.sources);
    await waitUntil(() => second.verified.length === 1);
    renewed.config = { ...renewed.config, fetch: { ...renewed.config.fetch, websub: false } };
    await housekeep(renewed);
    await waitUntil(() => second.verified.length === 2);
    expect(second.asked[1]).toMatchObject({ 'hub.mode': 'unsubscribe' });
    expect(await subscriptions(renewed)).toEqual([]);
  });

  it('asks nothing of a hub the address guard refuses, and records a denial', async () => {
    const { hub, app } = await setUp();
    const subscriber = pushSubscriber({ db: app.database.db, http: app.http, metrics: app.metrics, publicUrl: 'https://feeds.example.org' });
    const source = { ...app.config.sources[0]!, network: { kind: 'public-only' } as const };
    await subscriber.afterFetch(source, { hub: `${hub.url}/`, topic: 'https://jen.jiji.com/rss/atom.xml' });
    expect(hub.requests).toHaveLength(0);
    const [refused] = await subscriptions(app);
    expect(refused).toMatchObject({ state: 'requested' });
    expect(refused!.reason).toContain('is not public');

    // A hub's denial is kept with its reason; the request is sent again a day later (see the plan's table).
    const denial = new URL(`${app.config.publish.publicUrl}/websub/${refused!.id}`);
    denial.search = new URLSearchParams({ 'hub.mode': 'denied', 'hub.topic': 'https://jen.jiji.com/rss/atom.xml', 'hub.reason': 'not on this hub' }).toString();
    expect((await fetch(denial)).status).toBe(200);
    expect(await subscriptions(app)).toMatchObject([{ state: 'denied', reason: 'not on this hub' }]);
  });
});

describe('wirefeed run with fetch.websub', () => {
  it('fetches a source within a tick of its hub pushing, not at its next poll', async () => {
    const hub = await startTestHub();
    const feed = await startTestServer((_request, response) =>
      response
        .writeHead(200, { 'content-type': 'application/rss+xml', link: `<${hub.url}/>; rel="hub", <https://www.arabnews.com/cat/japan/rss.xml>; rel="self"` })
        .end(
          '<?xml version="1.0"?><rss version="2.0"><channel><title>Arab News: Japan</title><item><title>Japan, US defense chiefs agree to boost cooperation</title><link>https://www.arabnews.com/node/2520000</link><pubDate>Sun, 02 Jun 2024 08:06:19 +0900</pubDate></item></channel></rss>',
        ),
    );
    const port = await freePort();
    const configDir = writeConfigDir({
      'wirefeed.yml': `fetch:
  websub: true
publish:
  publicUrl: http://127.0.0.1:${port}
worker:
  tick: '* * * * * *'
  minInterval: 1s
sources:
  - id: arabnews-japan
    url: ${feed.url}/japan.rss
    every: 6h
    allowPrivateNetwork: true
`,
    });
    const cli = runCli(['run', '--config', configDir], {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'wirefeed-data-')),
      DATABASE_URL: '',
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    try {
      await waitFor(() => (hub.verified.length === 1 ? true : undefined), cli);
      expect(hub.verified[0]).toMatchObject({ mode: 'subscribe', status: 200 });
      expect(feed.requests).toHaveLength(1);
      const [request] = hub.asked;
      expect(await hub.push(request!['hub.callback']!, '<rss/>', request!['hub.secret'])).toBe(202);
      await waitFor(() => (feed.requests.length === 2 ? true : undefined), cli, 10_000);
      expect(cli.output().stderr).toContain('"msg":"push received; the source is due"');
      // A loopback publicUrl: only a hub on this network could call it back, which the start says, as validate does.
      expect(cli.output().stderr).toContain('"msg":"fetch.websub: hubs on the internet cannot call back publish.publicUrl"');
      const validated = runCli(['validate', '--config', configDir], { LOG_LEVEL: 'silent' });
      expect(await validated.exited).toBe(0);
      expect(validated.output().stdout).toContain(
        `fetch.websub: publish.publicUrl (http://127.0.0.1:${port}) is not a public address: hubs on the internet cannot call it back, only hubs on your own network`,
      );
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
      await Promise.all([hub.close(), feed.close()]);
    }
  });
});
