/**
 * Delivering topic webhooks: the store step queues each story new to a topic with a `webhook` in its own transaction
 * (store/webhooks.ts); this delivers the queue, as publish/webhook.ts makes the messages, at least once and in the
 * order filed, retrying a failing webhook with a growing delay and dropping what waited longer than a day.
 */
import { FetchError, type HttpClient, httpPost } from '../fetch/index.js';
import { log } from '../log.js';
import { droppedAlert } from '../model/alerts.js';
import type { FeedEntry } from '../model/story.js';
import { type Topic, type TopicWebhook, webhookLabel } from '../model/topic.js';
import { topicPageUrl } from '../model/urls.js';
import { alertsBody, type WebhookMessage, type WebhookTopic, webhookBody, webhookHeaders } from '../publish/webhook.js';
import { storyEntries } from '../store/topics.js';
import { claimDeliveries, postponeDeliveries, type QueuedDelivery, releaseDeliveries, settleDeliveries } from '../store/webhooks.js';
import type { WorkerApp } from './context.js';

/** Stories in one POST: a burst (a new install's first pass) goes in several. */
export const STORIES_PER_DELIVERY = 50;
/**
 * The largest body a POST carries, unless one story alone is larger: receivers behind nginx refuse more than 1 MiB by
 * default, and 50 full-text stories can be several.
 */
export const MAX_BODY_BYTES = 512 * 1024;
const TIMEOUT_MS = 10_000;
/** A claim outlives its POST's timeout, so no other worker sends the same stories meanwhile. */
const LEASE_SECONDS = 60;
/** A story that could not be delivered within a day is dropped (logged and counted), so one dead webhook's queue is bounded. */
export const GIVE_UP_SECONDS = 86_400;
/** How often a worker looks for due deliveries (retries), besides right after it stored stories for a webhook. */
const POLL_MS = 30_000;

export type WebhookApp = Pick<WorkerApp, 'config' | 'database' | 'metrics' | 'http'>;

/** A minute after the first failure, doubling up to an hour. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(60 * 2 ** Math.max(0, attempts - 1), 3_600);
}

/** A webhook that did not take a delivery; the message never holds its URL. */
export class WebhookFailure extends Error {
  override name = 'WebhookFailure';
}

/** A delivery the webhook took: its status and how long it took. */
export interface Delivered {
  status: number;
  ms: number;
}

/**
 * POSTs a message to a webhook (a topic's, or `worker.alerts`) as delivery `id`. Throws a WebhookFailure (its message
 * the status or the network error, never the URL) unless the webhook answers 2xx within the timeout.
 */
export async function postToWebhook(
  http: HttpClient,
  webhook: TopicWebhook,
  message: WebhookMessage,
  delivery: { id: string; signal?: AbortSignal },
): Promise<Delivered> {
  const started = performance.now();
  let status: number;
  try {
    // A redirect is a misconfigured URL, not a place to send the stories to: httpPost follows none.
    status = await httpPost(http, message.url ?? webhook.url, {
      body: message.body,
      headers: webhookHeaders(webhook, delivery.id, Math.floor(Date.now() / 1000), message.body, message.contentType),
      timeoutMs: TIMEOUT_MS,
      proxy: webhook.proxy,
      signal: delivery.signal,
    });
  } catch (error) {
    // Its message names no URL (which may hold a token): the network error, or the proxy's.
    if (!(error instanceof FetchError)) throw error;
    throw new WebhookFailure(error.message);
  }
  if (status < 200 || status > 299) throw new WebhookFailure(`HTTP ${status}`);
  return { status, ms: Math.round(performance.now() - started) };
}

/** A claimed batch made ready to send: the rows it carries, their stories and the message. */
interface Prepared {
  rows: QueuedDelivery[];
  entries: FeedEntry[];
  message: WebhookMessage;
}

/**
 * The batch's message, of its oldest rows whose message fits in MAX_BODY_BYTES (halving until it does, one story at
 * least); the rows left out are released to the next batch, those of stories gone (archived) settled. Undefined when
 * none is left.
 */
async function prepareBatch(app: WebhookApp, topic: WebhookTopic, batch: QueuedDelivery[]): Promise<Prepared | undefined> {
  const { db } = app.database;
  // A story merged into another while queued may be queued twice; one archived meanwhile is gone.
  const byStory = new Map((await storyEntries(db, [...new Set(batch.map((row) => row.storyId))])).map((entry) => [entry.storyId, entry]));
  const gone = batch.filter((row) => !byStory.has(row.storyId));
  if (gone.length > 0)
    await settleDeliveries(
      db,
      gone.map((row) => row.id),
    );
  const live = batch.filter((row) => byStory.has(row.storyId));
  if (live.length === 0) return undefined;
  for (let rows = live; ; rows = rows.slice(0, Math.ceil(rows.length / 2))) {
    const entries = [...new Set(rows.map((row) => row.storyId))]
      .map((id) => byStory.get(id)!)
      .sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime());
    const message = webhookBody(app.config.publish.publicUrl!, topic, entries);
    if (rows.length > 1 && Buffer.byteLength(message.body) > MAX_BODY_BYTES) continue;
    const rest = live.slice(rows.length);
    if (rest.length > 0)
      await releaseDeliveries(
        db,
        rest.map((row) => row.id),
      );
    return { rows, entries, message };
  }
}

/** Sends one claimed batch; true when the webhook took it. */
async function deliverBatch(app: WebhookApp, topic: WebhookTopic, batch: QueuedDelivery[], signal?: AbortSignal): Promise<boolean> {
  const { db } = app.database;
  const prepared = await prepareBatch(app, topic, batch);
  if (!prepared) return true;
  const { rows, entries, message } = prepared;
  const ids = rows.map((row) => row.id);
  try {
    const id = `${topic.slug}-${ids[0]}-${ids.at(-1)}-${ids.length}`;
    const { status, ms } = await postToWebhook(app.http, topic.webhook, message, { id, ...(signal ? { signal } : {}) });
    await settleDeliveries(db, ids);
    app.metrics.webhookStories.inc({ result: 'delivered' }, entries.length);
    log.info({ topic: topic.slug, webhook: webhookLabel(topic.webhook), stories: entries.length, status, ms }, 'webhook delivered');
    return true;
  } catch (error) {
    // Stopping: the claim runs out and the stories go out again then, from this worker's next start or another's.
    if (signal?.aborted) return false;
    if (!(error instanceof WebhookFailure)) throw error;
    const failure = error.message;
    const retrySeconds = retryDelaySeconds(Math.max(...rows.map((row) => row.attempts)));
    const dropped = await postponeDeliveries(db, ids, { retrySeconds, giveUpSeconds: GIVE_UP_SECONDS, error: failure });
    app.metrics.webhookStories.inc({ result: 'failed' }, entries.length);
    log.warn({ topic: topic.slug, webhook: webhookLabel(topic.webhook), stories: entries.length, error: failure, retrySeconds }, 'webhook failed');
    if (dropped > 0) {
      app.metrics.webhookStories.inc({ result: 'dropped' }, dropped);
      log.error(
        { topic: topic.slug, webhook: webhookLabel(topic.webhook), stories: dropped, error: failure },
        'webhook stories dropped after a day of failures',
      );
      await alertDropped(app, topic, dropped, failure, signal);
    }
    return false;
  }
}

/**
 * Tells `worker.alerts` (if any) that a topic's webhook dropped stories: once, from the worker whose delivery dropped
 * them; an alert it does not take is logged, not tried again (the stories are gone either way).
 */
async function alertDropped(app: WebhookApp, topic: WebhookTopic, stories: number, failure: string, signal?: AbortSignal): Promise<void> {
  const alerts = app.config.worker.alerts;
  if (!alerts) return;
  const publicUrl = app.config.publish.publicUrl!;
  const at = new Date();
  const alert = droppedAlert(topicPageUrl(publicUrl, topic.slug), topic, webhookLabel(topic.webhook), stories, failure);
  try {
    await postToWebhook(app.http, alerts, alertsBody(publicUrl, alerts, [alert], at), { id: `webhook-dropped-${at.getTime()}`, ...(signal ? { signal } : {}) });
  } catch (error) {
    if (!(error instanceof WebhookFailure)) throw error;
    log.warn({ topic: topic.slug, webhook: webhookLabel(topic.webhook), error: error.message }, 'alert of dropped webhook stories not delivered');
  }
}

/** Delivers one webhook's due queue, a batch at a time, until it is empty, a delivery fails or `signal` aborts. */
async function deliverQueue(app: WebhookApp, topic: WebhookTopic, signal?: AbortSignal): Promise<void> {
  const queue = { topic: topic.slug, webhook: topic.webhook.name };
  while (!signal?.aborted) {
    const batch = await claimDeliveries(app.database.db, queue, { limit: STORIES_PER_DELIVERY, leaseSeconds: LEASE_SECONDS });
    if (batch.length === 0 || !(await deliverBatch(app, topic, batch, signal))) return;
  }
}

/** Each topic paired with each of its webhooks: what one queue is delivered to. */
export const webhookTargets = (topics: readonly Topic[]): WebhookTopic[] =>
  topics.flatMap((topic) => (topic.webhooks ?? []).map((webhook) => ({ ...topic, webhook })));

/** Delivers every webhook's due queue, side by side; a failure is logged, never thrown. */
export async function deliverWebhooks(app: WebhookApp, signal?: AbortSignal): Promise<void> {
  await Promise.all(
    webhookTargets(app.config.topics).map((target) =>
      deliverQueue(app, target, signal).catch((error: Error) =>
        log.warn({ topic: target.slug, webhook: webhookLabel(target.webhook), error: error.message }, 'webhook delivery failed; trying again later'),
      ),
    ),
  );
}

export interface WebhookDelivery {
  /** Stories were queued: deliver now rather than at the next poll. */
  wake(): void;
  /** No more deliveries; one in flight is abandoned and its stories sent again later. */
  stop(): Promise<void>;
}

/** Delivers due webhook queues now, whenever woken, and every `pollMs` (retries); never two passes at once. */
export function startWebhookDelivery(app: WebhookApp, pollMs = POLL_MS): WebhookDelivery {
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  let again = false;
  const pass = (): void => {
    if (stopping.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = deliverWebhooks(app, stopping.signal).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        pass();
      }
    });
  };
  const timer = setInterval(pass, pollMs).unref();
  pass();
  return {
    wake: pass,
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
