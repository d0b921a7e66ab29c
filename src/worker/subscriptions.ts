/**
 * WebSub subscriptions to the hubs sources name (fetch.websub): after a fetch, the worker asks a source's hub to push
 * its updates to our callback URL, renews the subscription before its lease ends, and ends it when the feed drops its
 * hub or the source leaves the config. The feed server takes the hub's verification and pushes (server/push.ts). A
 * push only makes its source due: the feed is then fetched from the source itself, so a hub's copy (often partial)
 * never stands in for it and every fetch guard applies.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Database } from '../db/client.js';
import { type HttpClient, httpPost, isPublicAddress } from '../fetch/index.js';
import { log } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import type { HubLinks, PushSubscription, Source } from '../model/source.js';
import { pushCallbackUrl } from '../model/urls.js';
import { deleteSubscription, pollPushedSource, saveSubscription, sourceSubscription, subscriptionsOutside } from '../store/subscriptions.js';

/** The lease asked of a hub (it may grant another). */
export const LEASE_SECONDS = 7 * 86_400;
/** An active subscription is renewed this long before its lease ends (or halfway through a shorter lease). */
const RENEW_BEFORE_MS = 86_400_000;
/** A request the hub has not verified (or that failed) is sent again after this; a denied one after a day. */
const RETRY_MS = 3_600_000;
const DENIED_RETRY_MS = 86_400_000;
/**
 * A source whose hub pushes is polled at most this often (its `every` if longer), as a backstop for a hub that stops
 * pushing: FreshRSS polls such feeds daily; an hour bounds what a silent hub costs a news desk.
 */
export const PUSHED_POLL_SECONDS = 3_600;
/** Longer hub or topic URLs are not subscribed to: a hostile feed's, not a hub's. */
const MAX_URL_LENGTH = 2_048;
const HUB_TIMEOUT_MS = 10_000;

/**
 * What a fetch said of a source's hub: the hub and the topic URL to subscribe to; `none` when the document (or its
 * Link header) names no hub; `unknown` when the fetch read no document (304, or the same bytes as last time).
 */
export type PushLinks = { hub: string; topic: string } | 'none' | 'unknown';

/** An http(s) URL read against the document's own, or undefined. */
function absolute(url: string | undefined, base: string): string | undefined {
  if (!url || !URL.canParse(url, base)) return undefined;
  const resolved = new URL(url, base);
  return /^https?:$/.test(resolved.protocol) && resolved.href.length <= MAX_URL_LENGTH ? resolved.href : undefined;
}

/**
 * The hub and topic of a fetched document, as WebSub discovers them: the response's Link header first, then the
 * document's own links (undefined when it was not read); the topic is the self link, else the URL fetched.
 */
export function pushLinksOf(header: HubLinks | undefined, document: HubLinks | undefined | 'unread', finalUrl: string): PushLinks {
  const links = header ?? (document === 'unread' ? undefined : document);
  if (!links) return document === 'unread' ? 'unknown' : 'none';
  const hub = absolute(links.hub, finalUrl);
  const topic = absolute(links.self, finalUrl) ?? absolute(finalUrl, finalUrl);
  return hub && topic ? { hub, topic } : 'none';
}

/** Whether a subscription is to be asked for again now: a lease ending, a request unanswered, a denial a day old. */
function requestDue(subscription: PushSubscription, now: Date): boolean {
  const since = now.getTime() - subscription.requestedAt.getTime();
  if (subscription.state === 'requested') return since >= RETRY_MS;
  if (subscription.state === 'denied') return since >= DENIED_RETRY_MS;
  const lease = Math.max(0, (subscription.leaseUntil?.getTime() ?? 0) - subscription.requestedAt.getTime());
  const left = (subscription.leaseUntil?.getTime() ?? 0) - now.getTime();
  return left <= Math.min(RENEW_BEFORE_MS, lease / 2) && since >= Math.min(RETRY_MS, lease / 2);
}

/**
 * Why hubs could not call back to publish.publicUrl with fetch.websub on (undefined when they may, or it is off):
 * `localhost`, or an address that is not public. A name is not looked up: one that resolves to your own network is
 * yours to know.
 */
export function callbackUnreachable({ fetch, publish }: { fetch: { websub: boolean }; publish: { publicUrl?: string } }): string | undefined {
  const { publicUrl } = publish;
  if (!fetch.websub || !publicUrl) return undefined;
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && !isPublicAddress(host));
  return local
    ? `publish.publicUrl (${publicUrl}) is not a public address: hubs on the internet cannot call it back, only hubs on your own network`
    : undefined;
}

/** What to ask of hubs after a fetch: end the current subscription, and ask for one (anew, or renewing `current`). */
export interface PushPlan {
  end?: PushSubscription;
  request?: { hub: string; topic: string; renewing?: PushSubscription };
}

/** The requests a fetch calls for, from the source's subscription and what the fetch said of its hub. */
export function pushPlan(current: PushSubscription | undefined, links: PushLinks, now: Date): PushPlan {
  if (links === 'unknown') return current && requestDue(current, now) ? { request: { hub: current.hub, topic: current.topic, renewing: current } } : {};
  if (links === 'none') return current ? { end: current } : {};
  if (!current) return { request: links };
  if (current.hub !== links.hub || current.topic !== links.topic) return { end: current, request: links };
  return requestDue(current, now) ? { request: { ...links, renewing: current } } : {};
}

export interface PushSubscriber {
  /** After a fetch of a source that succeeded: the requests its plan calls for (abandoned by `signal`). Never throws. */
  afterFetch(source: Source, links: PushLinks, options?: { known?: PushSubscription | null | undefined; signal?: AbortSignal | undefined }): Promise<void>;
  /**
   * Ends the subscriptions of sources not among `keep`: those the config dropped (their hubs asked as a source without
   * settings of its own would ask them, `fallback`), or every configured one when fetch.websub is off (as the source
   * asks, through its proxy and under its guard). How many ended.
   */
  endOutside(keep: readonly Source[], configured: readonly Source[], fallback: Pick<Source, 'network' | 'proxy'>): Promise<number>;
}

interface SubscriberParts {
  db: Database;
  http: HttpClient;
  metrics: Metrics;
  /** publish.publicUrl: where the callback URLs are (none: subscriptions can only be dropped, the hubs not told). */
  publicUrl: string | undefined;
  now?: () => Date;
}

const randomToken = (bytes: number) => randomBytes(bytes).toString('base64url');

/** POSTs a request to a hub, through the source's proxy and under its address guard (the hub is the feed's word). Why it failed, if it did. */
async function askHub(
  parts: SubscriberParts,
  mode: 'subscribe' | 'unsubscribe',
  subscription: PushSubscription,
  source: Pick<Source, 'network' | 'proxy'>,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (parts.publicUrl === undefined) return 'publish.publicUrl is not set';
  const body = new URLSearchParams({ 'hub.mode': mode, 'hub.topic': subscription.topic, 'hub.callback': pushCallbackUrl(parts.publicUrl, subscription.id) });
  if (mode === 'subscribe') {
    body.set('hub.lease_seconds', String(LEASE_SECONDS));
    body.set('hub.secret', subscription.secret);
  }
  try {
    const status = await httpPost(parts.http, subscription.hub, {
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      timeoutMs: HUB_TIMEOUT_MS,
      proxy: source.proxy,
      network: source.network,
      signal,
    });
    if (status < 200 || status > 299) throw new Error(`the hub answered HTTP ${status}`);
    parts.metrics.websubRequests.inc({ mode, outcome: 'sent' });
    const subscribing = mode === 'subscribe';
    log.info(
      { source: subscription.sourceId, hub: subscription.hub, topic: subscription.topic },
      subscribing ? 'asked the hub to push' : 'asked the hub to stop pushing',
    );
    return undefined;
  } catch (error) {
    parts.metrics.websubRequests.inc({ mode, outcome: 'failed' });
    const message = (error as Error).message;
    log.warn({ source: subscription.sourceId, hub: subscription.hub, error: message }, 'hub request failed');
    return message;
  }
}

/** Ends a subscription: deleted first, so the hub's verification of the end finds none, which is our agreement. */
async function endSubscription(parts: SubscriberParts, subscription: PushSubscription, source: Pick<Source, 'network' | 'proxy'>): Promise<void> {
  await deleteSubscription(parts.db, subscription.id);
  await askHub(parts, 'unsubscribe', subscription, source);
}

/** What a successful fetch calls for: the source's subscription ended, asked for or renewed. */
async function keepSubscribed(
  parts: SubscriberParts,
  source: Source,
  links: PushLinks,
  { known, signal }: { known?: PushSubscription | null | undefined; signal?: AbortSignal | undefined },
): Promise<void> {
  const now = parts.now?.() ?? new Date();
  // Read with the pass's other states where the pass read it (null: none), else now.
  const current = known === undefined ? await sourceSubscription(parts.db, source.id) : (known ?? undefined);
  const plan = pushPlan(current, links, now);
  if (plan.end) await endSubscription(parts, plan.end, source);
  const pushing = !plan.end && current?.state === 'active' && current.leaseUntil !== null && current.leaseUntil > now;
  if (pushing) await pollPushedSource(parts.db, source.id, PUSHED_POLL_SECONDS);
  if (!plan.request) return;
  const { hub, topic, renewing } = plan.request;
  // A renewal keeps an active subscription's id and secret (its pushes still count meanwhile).
  const subscription: PushSubscription = renewing
    ? { ...renewing, requestedAt: now, state: renewing.state === 'active' ? 'active' : 'requested' }
    : { id: randomToken(18), sourceId: source.id, hub, topic, secret: randomToken(24), state: 'requested', requestedAt: now, leaseUntil: null, reason: null };
  // Saved before asking: the hub may verify before its answer to the request arrives.
  await saveSubscription(parts.db, subscription);
  const failure = await askHub(parts, 'subscribe', subscription, source, signal);
  if (failure) await saveSubscription(parts.db, { ...subscription, reason: failure });
}

/** The worker's side of WebSub subscriptions; created with the worker's context. */
export function pushSubscriber(parts: SubscriberParts): PushSubscriber {
  return {
    async afterFetch(source, links, options = {}) {
      await keepSubscribed(parts, source, links, options).catch((error: Error) =>
        log.warn(
          { source: source.id, error: error.message },
          'WebSub subscription not kept: the store could not be read or written; tried again at the next fetch',
        ),
      );
    },
    async endOutside(keep, configured, fallback) {
      const ended = await subscriptionsOutside(
        parts.db,
        keep.map((source) => source.id),
      );
      const sources = new Map(configured.map((source) => [source.id, source]));
      for (const subscription of ended) await endSubscription(parts, subscription, sources.get(subscription.sourceId) ?? fallback);
      return ended.length;
    },
  };
}
