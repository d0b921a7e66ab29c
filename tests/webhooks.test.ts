/**
 * Topic webhooks end to end: a real feed server and a real webhook receiver on loopback, the store on either engine.
 * Stories new to a topic with a webhook reach it once as a signed JSON Feed; a failing receiver gets them again
 * later, in order; a day of failures drops them; a backfill and a topic without a webhook send nothing.
 */
import { writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.js';
import { rowsOf } from '../src/db/client.js';
import { webhookSignature } from '../src/publish/webhook.js';
import { claimDeliveries, type QueuedDelivery } from '../src/store/webhooks.js';
import { ingestContext } from '../src/worker/context.js';
import { ingestSources } from '../src/worker/ingest.js';
import { startWorker } from '../src/worker/scheduler.js';
import { deliverWebhooks, MAX_BODY_BYTES } from '../src/worker/webhooks.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { useTestDatabase } from './helpers/database.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';

const testDatabase = useTestDatabase();
const SECRET = 'whsec_dGhlIHdpcmVmZWVkIHRlc3Qga2V5';

interface WireItem {
  slug: string;
  title: string;
  hour: number;
  /** The item's text, when it is more than its one line. */
  text?: string;
}

let items: WireItem[] = [];
let feedServer: TestServer;
let receiver: TestServer;
/** What the receiver answers next (200 once the list is empty). */
let answers: number[] = [];
/** Paths the receiver answers 503 whatever `answers` holds. */
let failingPaths = new Set<string>();
let received: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];

const feed = () => `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>JIJI Press</title><link>${feedServer.url}/</link><description>Wire</description>
${items
  .map(
    (item) => `<item><title>${item.title}</title><link>${feedServer.url}/news/${item.slug}</link>
<pubDate>Sun, 02 Jun 2024 ${String(item.hour).padStart(2, '0')}:06:19 +0900</pubDate><description>${item.text ?? `${item.title}, JIJI Press reported on Sunday.`}</description></item>`,
  )
  .join('\n')}
</channel></rss>`;

beforeAll(async () => {
  feedServer = await startTestServer((_request, response) => response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(feed()));
  receiver = await startTestServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(failingPaths.has(request.url!) ? 503 : (answers.shift() ?? 200)).end();
    });
  });
});
afterAll(async () => {
  await feedServer.close();
  await receiver.close();
});
afterEach(() => {
  items = [];
  answers = [];
  failingPaths = new Set();
  received = [];
  delete process.env.WIREFEED_TEST_HOOK_SECRET;
});

const FORUM = { slug: 'forum', title: 'Japan, U.S. to Set Up Forum on Joint Arms Production', hour: 8 };
const DRILLS = { slug: 'drills', title: 'Japan, U.S. Hold Joint Missile Defense Drills', hour: 9 };
const TEA = { slug: 'tea', title: 'Kenya Tea Exports Rise', hour: 10 };
const SUMMIT = { slug: 'summit', title: 'Japan, U.S. Defense Chiefs Meet in Singapore', hour: 11 };

/** The config: a security topic with the webhook, a trade topic without; `extraTopics` after them. */
function configDir(extraTopics = '', webhook = `    webhook:\n      url: ${receiver.url}/hooks/wirefeed\n      secret: \${WIREFEED_TEST_HOOK_SECRET}\n`) {
  process.env.WIREFEED_TEST_HOOK_SECRET = SECRET;
  return writeConfigDir({
    'sources.yml': `sources:\n  - id: jiji\n    url: ${feedServer.url}/feed.xml\n    allowPrivateNetwork: [127.0.0.1]\n`,
    'topics.yml': `publish:\n  publicUrl: https://feeds.example.org/\ntopics:
  - slug: security
    title: Japan-US security
    query: 'japan AND (defense OR arms OR drills)'
${webhook}  - slug: trade
    title: Trade
    query: 'exports'
${extraTopics}`,
  });
}

async function withApp<T>(dir: string, use: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp({ configDir: dir, database: testDatabase().handle });
  try {
    return await use(app);
  } finally {
    await app.close();
  }
}

const ingestAndDeliver = (app: App) => ingestSources(ingestContext(app), app.config.sources).then(() => deliverWebhooks(app));
const queued = () =>
  rowsOf<{ topic_slug: string; attempts: number; last_error: string | null; due_in: number }>(
    testDatabase().handle.db,
    sql`select topic_slug, attempts, last_error, extract(epoch from due_at - now())::float8 as due_in from webhook_deliveries order by id`,
  );
const titlesOf = (body: string) => (JSON.parse(body) as { items: Array<{ title: string }> }).items.map((item) => item.title);
const counted = async (app: App, result: string) => (await app.metrics.webhookStories.get()).values.find((value) => value.labels.result === result)?.value ?? 0;

describe('topic webhooks', () => {
  it("POSTs a topic's new stories once, as a signed JSON Feed of them", async () => {
    items = [FORUM, DRILLS, TEA];
    await withApp(configDir(), async (app) => {
      await ingestAndDeliver(app);
      expect(received).toHaveLength(1);
      const [{ headers, body }] = received as [(typeof received)[0]];
      expect(headers['content-type']).toBe('application/feed+json; charset=utf-8');
      expect(headers['webhook-signature']).toBe(webhookSignature(SECRET, headers['webhook-id'] as string, Number(headers['webhook-timestamp']), body));
      expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
      const document = JSON.parse(body);
      expect(document).toMatchObject({
        version: 'https://jsonfeed.org/version/1.1',
        title: 'Japan-US security',
        feed_url: 'https://feeds.example.org/topics/security.json',
        _wirefeed: { event: 'new_stories', topic: 'security' },
      });
      // Newest first, as in the topic's feed; the item links to the outlet's page.
      expect(titlesOf(body)).toEqual([DRILLS.title, FORUM.title]);
      expect(document.items[1].url).toBe(`${feedServer.url}/news/forum`);
      expect(await queued()).toEqual([]);
      expect(await counted(app, 'delivered')).toBe(2);

      // The same feed again: nothing new, nothing sent. A story new to the trade topic (no webhook) queues nothing.
      items = [FORUM, DRILLS, TEA, { slug: 'rice', title: 'Japan Rice Exports Climb', hour: 12 }];
      await ingestAndDeliver(app);
      expect(received).toHaveLength(1);
      expect(await queued()).toEqual([]);
    });
  });

  it('sends the stories again after a failure, in order, holding back what came after, and drops them after a day', async () => {
    items = [FORUM];
    await withApp(configDir(), async (app) => {
      answers = [503];
      await ingestAndDeliver(app);
      expect(received).toHaveLength(1);
      const [row] = await queued();
      expect(row).toMatchObject({ topic_slug: 'security', attempts: 1, last_error: 'HTTP 503' });
      expect(row!.due_in).toBeGreaterThan(50);
      expect(row!.due_in).toBeLessThanOrEqual(60);
      expect(await counted(app, 'failed')).toBe(1);

      // A newer story waits behind the one that failed: nothing is sent before the retry is due.
      items = [FORUM, DRILLS];
      await ingestAndDeliver(app);
      expect(received).toHaveLength(1);
      expect(await queued()).toHaveLength(2);

      // Due: both go, in one POST; the failed story's delivery id is not reused for a different set of stories.
      await testDatabase().handle.db.execute(sql`update webhook_deliveries set due_at = now()`);
      await deliverWebhooks(app);
      expect(received).toHaveLength(2);
      expect(titlesOf(received[1]!.body)).toEqual([DRILLS.title, FORUM.title]);
      expect(received[1]!.headers['webhook-id']).not.toBe(received[0]!.headers['webhook-id']);
      expect(await queued()).toEqual([]);

      // A story that has waited more than a day is dropped at its next failure, and counted.
      items = [FORUM, DRILLS, SUMMIT];
      answers = [500];
      await ingestSources(ingestContext(app), app.config.sources);
      await testDatabase().handle.db.execute(sql`update webhook_deliveries set queued_at = now() - interval '25 hours'`);
      await deliverWebhooks(app);
      expect(received).toHaveLength(3);
      expect(await queued()).toEqual([]);
      expect(await counted(app, 'dropped')).toBe(1);
    });
  });

  it('tells worker.alerts when a webhook drops stories after a day of failures', async () => {
    items = [FORUM];
    const dir = configDir();
    writeFileSync(join(dir, 'worker.yml'), `worker:\n  alerts:\n    url: ${receiver.url}/hooks/ops\n`);
    failingPaths = new Set(['/hooks/wirefeed']);
    await withApp(dir, async (app) => {
      await ingestSources(ingestContext(app), app.config.sources);
      await testDatabase().handle.db.execute(sql`update webhook_deliveries set queued_at = now() - interval '25 hours'`);
      await deliverWebhooks(app);
      expect(await counted(app, 'dropped')).toBe(1);
      const alerts = received.filter((delivery) => delivery.path === '/hooks/ops').map((delivery) => JSON.parse(delivery.body));
      expect(alerts).toHaveLength(1);
      expect(alerts[0]._wirefeed.event).toBe('source_alerts');
      expect(
        alerts[0].items.map((item: { title: string; url: string; authors: Array<{ name: string }> }) => [item.title, item.url, item.authors[0]!.name]),
      ).toEqual([
        [
          'Dropped 1 story it could not deliver for a day: HTTP 503',
          'https://feeds.example.org/topics/security.html',
          'Japan-US security (security), webhook jsonfeed',
        ],
      ]);
    });
  });

  it('sends the same delivery id when it sends the same stories again', async () => {
    items = [FORUM];
    await withApp(configDir(), async (app) => {
      answers = [500];
      await ingestAndDeliver(app);
      await testDatabase().handle.db.execute(sql`update webhook_deliveries set due_at = now()`);
      await deliverWebhooks(app);
      expect(received.map((request) => request.headers['webhook-id'])).toEqual([received[0]!.headers['webhook-id'], received[0]!.headers['webhook-id']]);
      expect(received[1]!.body).toBe(received[0]!.body);
    });
  });

  it.each([
    ['slack', (body: Record<string, unknown>) => body.text],
    ['discord', (body: Record<string, unknown>) => body.content],
    ['apprise', (body: Record<string, unknown>) => `${body.title}\n${body.body}`],
  ])('posts a %s message when the webhook asks for one', async (format, textOf) => {
    items = [FORUM, DRILLS];
    const webhook = `    webhook:\n      url: ${receiver.url}/hooks/chat\n      format: ${format}\n      headers:\n        Authorization: Bearer \${WIREFEED_TEST_HOOK_SECRET}\n`;
    await withApp(configDir('', webhook), async (app) => {
      await ingestAndDeliver(app);
      expect(received).toHaveLength(1);
      // The receiver's own header, from the environment.
      expect(received[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(received[0]!.headers['content-type']).toBe('application/json');
      expect(received[0]!.headers['webhook-signature']).toBeUndefined();
      const text = String(textOf(JSON.parse(received[0]!.body)));
      expect(text).toContain('2 new stories');
      expect(text).toContain(`${feedServer.url}/news/drills`);
      expect(text.indexOf('Drills')).toBeLessThan(text.indexOf('Forum'));
    });
  });

  it("publishes an ntfy notification as JSON to the ntfy server's root, for the topic the URL ends with", async () => {
    items = [FORUM, DRILLS];
    const webhook = `    webhook:\n      url: ${receiver.url}/push/wirefeed-security?auth=\${WIREFEED_TEST_HOOK_SECRET}\n      format: ntfy\n`;
    await withApp(configDir('', webhook), async (app) => {
      await ingestAndDeliver(app);
      expect(received).toHaveLength(1);
      expect(received[0]!.path).toBe(`/push/?auth=${SECRET}`);
      expect(received[0]!.headers['content-type']).toBe('application/json');
      expect(JSON.parse(received[0]!.body)).toEqual({
        topic: 'wirefeed-security',
        title: 'Japan-US security: 2 new stories',
        message: `• ${DRILLS.title} — jiji\n• ${FORUM.title} — jiji`,
        click: 'https://feeds.example.org/topics/security.html',
        tags: ['newspaper'],
      });
    });
  });

  it('cuts a batch whose POST would be larger than MAX_BODY_BYTES, oldest stories first, each sent once', async () => {
    // Three full-text-sized stories of about 200 KB each: two fit in one POST, the third goes in the next.
    const long = (item: WireItem, word: string) => ({ ...item, text: `${item.title}. ${`${word} `.repeat(Math.ceil(200_000 / (word.length + 1)))}` });
    items = [long(FORUM, 'arms'), long(DRILLS, 'drills'), long(SUMMIT, 'summit')];
    await withApp(configDir(), async (app) => {
      await ingestAndDeliver(app);
      expect(received.map((request) => Buffer.byteLength(request.body) <= MAX_BODY_BYTES)).toEqual([true, true]);
      expect(received.map((request) => titlesOf(request.body))).toEqual([[DRILLS.title, FORUM.title], [SUMMIT.title]]);
      expect(await queued()).toEqual([]);
      expect(await counted(app, 'delivered')).toBe(3);
    });
  });

  it('follows no redirect: a 3xx is a failure (the URL is misconfigured)', async () => {
    items = [FORUM];
    await withApp(configDir(), async (app) => {
      answers = [307];
      await ingestAndDeliver(app);
      expect(received).toHaveLength(1);
      expect(await queued()).toMatchObject([{ last_error: 'HTTP 307' }]);
    });
  });

  it('sends nothing for stories a new topic finds in its backfill, and a webhook taken away takes its queue', async () => {
    items = [FORUM, DRILLS];
    await withApp(configDir(), async (app) => {
      await ingestAndDeliver(app);
    });
    expect(received).toHaveLength(1);
    const drillsTopic = `  - slug: drills\n    title: Drills\n    query: drills\n    webhook:\n      url: ${receiver.url}/hooks/drills\n`;
    await withApp(configDir(drillsTopic), async (app) => {
      expect(Number((await rowsOf(app.database.db, sql`select count(*) as n from topic_stories where topic_slug = 'drills'`))[0]!.n)).toBe(1);
      await deliverWebhooks(app);
      expect(received).toHaveLength(1);
      // A failing delivery leaves a queued story behind…
      items = [FORUM, DRILLS, SUMMIT];
      answers = [500];
      await ingestAndDeliver(app);
      expect(await queued()).toHaveLength(1);
    });
    // …which goes with the webhook when the config no longer has it.
    await withApp(configDir('', ''), async () => {
      expect(await queued()).toEqual([]);
    });
  });

  it('keeps a queue per webhook of a topic: one failing never holds back another; one renamed takes its queue', async () => {
    const webhooks = (chat: string) =>
      `    webhook:\n      - url: ${receiver.url}/hooks/archive\n      - name: ${chat}\n        url: ${receiver.url}/hooks/chat\n        format: slack\n`;
    const sentTo = (path: string) => received.filter((request) => request.path === path);
    const waiting = () =>
      rowsOf<{ webhook: string; story_id: string }>(testDatabase().handle.db, sql`select webhook, story_id from webhook_deliveries order by id`);
    items = [FORUM];
    failingPaths = new Set(['/hooks/chat']);
    await withApp(configDir('', webhooks('desk')), async (app) => {
      await ingestAndDeliver(app);
      expect(titlesOf(sentTo('/hooks/archive')[0]!.body)).toEqual([FORUM.title]);
      expect(JSON.parse(sentTo('/hooks/chat')[0]!.body).text).toContain(FORUM.title);
      expect((await waiting()).map((row) => row.webhook)).toEqual(['desk']);

      // The chat webhook waits out its retry; the archive hears of the next story at once.
      items = [FORUM, DRILLS];
      await ingestAndDeliver(app);
      expect(sentTo('/hooks/archive').map((request) => titlesOf(request.body))).toEqual([[FORUM.title], [DRILLS.title]]);
      expect(sentTo('/hooks/chat')).toHaveLength(1);
      expect((await waiting()).map((row) => row.webhook)).toEqual(['desk', 'desk']);
      await app.metrics.updateStoreGauges(app.database.db, []);
      const backlog = (await app.metrics.registry.getSingleMetric('wirefeed_webhook_backlog_stories')!.get()).values;
      expect(backlog.map(({ labels, value }) => [labels, value])).toEqual([[{ topic: 'security', webhook: 'desk' }, 2]]);
    });
    // A story queued by a process from before webhooks had names goes to the unnamed one.
    const { db } = testDatabase().handle;
    const [drills] = await rowsOf<{ story_id: string }>(
      db,
      sql`select story_id from topic_stories where topic_slug = 'security' order by published_at desc limit 1`,
    );
    await db.execute(sql`insert into webhook_deliveries (topic_slug, story_id) values ('security', ${drills!.story_id})`);
    failingPaths = new Set();
    // Renamed: the old name's queue goes; the unnamed webhook's stays and is delivered.
    await withApp(configDir('', webhooks('newsroom')), async (app) => {
      expect((await waiting()).map((row) => row.webhook)).toEqual(['']);
      await deliverWebhooks(app);
      expect(titlesOf(sentTo('/hooks/archive').at(-1)!.body)).toEqual([DRILLS.title]);
      expect(sentTo('/hooks/chat')).toHaveLength(1);
      expect(await waiting()).toEqual([]);
    });
  });

  it('ingest --once delivers at its end; `topics` shows what waits and why; the URL and secret are in no output', async () => {
    items = [FORUM];
    answers = [503];
    const dir = configDir('', `    webhook:\n      url: ${receiver.url}/hooks/T0K3N-in-path\n      secret: \${WIREFEED_TEST_HOOK_SECRET}\n`);
    const env = { DATABASE_URL: testDatabase().url, LOG_LEVEL: 'info', LOG_FORMAT: 'json' };
    const ingest = runCli(['ingest', '--once', '--config', dir], env);
    expect(await ingest.exited).toBe(0);
    expect(received).toHaveLength(1);
    const listing = runCli(['topics', '--json', '--config', dir], env);
    expect(await listing.exited).toBe(0);
    const listed = JSON.parse(listing.output().stdout) as Array<{ slug: string; webhooks?: unknown }>;
    expect(listed.map((topic) => [topic.slug, topic.webhooks])).toEqual([
      ['security', [{ name: null, format: 'jsonfeed', waiting: 1, oldestQueuedAt: expect.any(String), lastError: 'HTTP 503' }]],
      ['trade', undefined],
    ]);
    const table = runCli(['topics', '--config', dir], env);
    expect(await table.exited).toBe(0);
    expect(table.output().stdout).toMatch(/security +1 +Japan-US security +1 waiting since \d+s ago \(HTTP 503\)/);
    const everything = [ingest, listing, table].map((cli) => `${cli.output().stdout}${cli.output().stderr}`).join('');
    expect(everything).toContain('"msg":"webhook failed"');
    expect(everything).not.toContain('T0K3N');
    expect(everything).not.toContain(SECRET.slice('whsec_'.length));
  });

  it('topics test-webhook sends the newest story (a sample before there is one) as a test, and says how it went', async () => {
    const dir = configDir('', `    webhook:\n      url: ${receiver.url}/hooks/T0K3N-in-path\n      secret: \${WIREFEED_TEST_HOOK_SECRET}\n`);
    const env = { DATABASE_URL: testDatabase().url, LOG_LEVEL: 'silent' };
    const test = async (slug: string, ...options: string[]) => {
      const cli = runCli(['topics', 'test-webhook', slug, ...options, '--config', dir], env);
      return { code: await cli.exited, ...cli.output() };
    };
    const sample = await test('security');
    expect(sample.code, sample.stderr).toBe(0);
    expect(sample.stdout).toMatch(/^the webhook of security took a test delivery of a sample story: HTTP 200 in \d+ ms\n$/);
    const sent = JSON.parse(received[0]!.body);
    expect(sent._wirefeed).toMatchObject({ event: 'test', topic: 'security' });
    expect(sent.items.map((item: { title: string }) => item.title)).toEqual(['Wirefeed test delivery for Japan-US security']);
    expect(received[0]!.headers['webhook-signature']).toBe(
      webhookSignature(SECRET, received[0]!.headers['webhook-id'] as string, Number(received[0]!.headers['webhook-timestamp']), received[0]!.body),
    );

    items = [FORUM];
    answers = [200, 503];
    await withApp(dir, (app) => ingestAndDeliver(app));
    expect(received).toHaveLength(2);
    const failed = await test('security');
    expect([failed.code, failed.stderr.trim()]).toEqual([1, 'the webhook of security did not take the test delivery: HTTP 503']);
    expect(titlesOf(received[2]!.body)).toEqual([FORUM.title]);
    expect(await test('trade')).toMatchObject({ code: 1, stderr: expect.stringContaining('topic "trade" has no webhook') });
    expect(await test('nope')).toMatchObject({ code: 1, stderr: expect.stringContaining('no topic with slug "nope"') });
    expect(await test('security', '--webhook', 'chat')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('topic "security" has no webhook "chat" (it has "jsonfeed")'),
    });
    const named = await test('security', '--webhook', 'jsonfeed');
    expect([named.code, named.stdout]).toEqual([
      0,
      expect.stringMatching(/^the webhook jsonfeed of security took a test delivery of its newest story: HTTP 200/),
    ]);
  });

  it('lets one worker at a time deliver a topic: a claim waits for one in progress, then finds the head leased', async () => {
    const { db } = testDatabase().handle;
    await db.execute(sql`insert into webhook_deliveries (topic_slug, story_id) select 'security', 'story-' || n from generate_series(1, 4) as n`);
    let second: Promise<QueuedDelivery[]> | undefined;
    await db.transaction(async (tx) => {
      expect((await claimDeliveries(tx, { topic: 'security', webhook: '' }, { limit: 2, leaseSeconds: 60 })).map((row) => row.storyId)).toEqual([
        'story-1',
        'story-2',
      ]);
      // Another worker's claim, while this one has not committed: it waits on the head rather than take stories 3 and 4.
      second = claimDeliveries(db, { topic: 'security', webhook: '' }, { limit: 2, leaseSeconds: 60 });
      await expect
        .poll(
          async () =>
            (
              await rowsOf(
                db,
                sql`select 1 from pg_stat_activity
                  where datname = current_database() and wait_event_type = 'Lock' and query like 'update webhook_deliveries%'`,
              )
            ).length,
          { timeout: 10_000 },
        )
        .toBe(1);
    });
    expect(await second).toEqual([]);
  });

  it('a worker delivers right after it stored new stories for a webhook', async () => {
    items = [FORUM];
    await withApp(configDir(), async (app) => {
      const worker = startWorker(app, { housekeeping: { firstMs: 3_600_000, everyMs: 3_600_000 } });
      try {
        await expect.poll(() => received.length, { timeout: 20_000 }).toBe(1);
        expect(titlesOf(received[0]!.body)).toEqual([FORUM.title]);
      } finally {
        await worker.stop();
      }
    });
  });
});
