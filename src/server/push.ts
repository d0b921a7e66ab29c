/**
 * WebSub callbacks (`/websub/<id>`): a source's hub verifies what the worker asked of it (GET with a challenge), and
 * pushes the feed's updates (POST, signed with the subscription's secret). A push whose signature holds makes its
 * source due; its body is not read as the feed (the source is fetched itself, see worker/subscriptions.ts). Open
 * without publish.token: the hub knows only the callback URL, whose random id and the signature stand in for it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Database } from '../db/client.js';
import { log } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { settleSubscription, sourcePushed, subscriptionById } from '../store/subscriptions.js';

/** What the callback needs of the app. */
export interface PushApp {
  database: { db: Database };
  metrics: Metrics;
  config: { fetch: { maxBytes: number }; worker: { minIntervalSeconds: number } };
}

export interface PushAnswer {
  status: number;
  body: string;
}

/** Subscription ids as the worker makes them (base64url); anything else is no subscription of ours. */
const SUBSCRIPTION_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** The longest lease we take a hub's word for (it renews before then anyway). */
const MAX_LEASE_SECONDS = 30 * 86_400;
const SIGNATURE = /^(sha1|sha256|sha384|sha512)=([0-9a-f]+)$/i;

/** Whether a push's X-Hub-Signature is the body's HMAC under the subscription's secret (any algorithm WebSub names). */
export function signatureHolds(header: string | undefined, secret: string, body: Buffer): boolean {
  const match = SIGNATURE.exec(header?.trim() ?? '');
  if (!match) return false;
  const expected = createHmac(match[1]!.toLowerCase(), secret).update(body).digest();
  const given = Buffer.from(match[2]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The request's body, or undefined past `maxBytes` (the rest is not read). */
function bodyOf(request: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

/** The hub's verification of a request: the challenge echoed when it is about what we asked for, else 404. */
async function verification(app: PushApp, id: string, url: URL): Promise<PushAnswer> {
  const mode = url.searchParams.get('hub.mode');
  const topic = url.searchParams.get('hub.topic') ?? '';
  const challenge = url.searchParams.get('hub.challenge') ?? '';
  const { db } = app.database;
  if (mode === 'denied') {
    const reason = (url.searchParams.get('hub.reason') ?? 'no reason given').slice(0, 500);
    const denied = await settleSubscription(db, id, topic, { mode: 'denied', reason });
    if (denied) log.warn({ subscription: id, topic, reason }, 'the hub denied a subscription');
    return denied ? { status: 200, body: 'ok\n' } : { status: 404, body: 'Not found\n' };
  }
  if ((mode !== 'subscribe' && mode !== 'unsubscribe') || !challenge) return { status: 400, body: 'Bad request: a hub.mode and hub.challenge are needed\n' };
  if (mode === 'unsubscribe') {
    // An end we asked for deleted the subscription first; an unsubscribe of one we keep is not ours to confirm.
    return (await subscriptionById(db, id)) ? { status: 404, body: 'Not found\n' } : { status: 200, body: challenge };
  }
  const asked = Number(url.searchParams.get('hub.lease_seconds'));
  const leaseSeconds = Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, MAX_LEASE_SECONDS) : MAX_LEASE_SECONDS;
  const confirmed = await settleSubscription(db, id, topic, { mode: 'subscribe', leaseSeconds });
  if (confirmed) log.info({ subscription: id, topic, leaseSeconds }, 'the hub confirmed a subscription');
  return confirmed ? { status: 200, body: challenge } : { status: 404, body: 'Not found\n' };
}

/** A push: its source made due when its signature holds; 202 either way (WebSub: an unsigned push is ignored quietly). */
async function push(app: PushApp, id: string, request: IncomingMessage): Promise<PushAnswer> {
  const { db } = app.database;
  const subscription = await subscriptionById(db, id);
  if (!subscription) {
    request.resume();
    app.metrics.websubPushes.inc({ outcome: 'unknown' });
    // Gone: a hub stops pushing to a callback that answers 410.
    return { status: 410, body: 'Gone: no such subscription\n' };
  }
  const body = await bodyOf(request, app.config.fetch.maxBytes);
  if (!body) return { status: 413, body: 'Payload too large\n' };
  const header = request.headers['x-hub-signature'];
  if (!signatureHolds(Array.isArray(header) ? header[0] : header, subscription.secret, body)) {
    app.metrics.websubPushes.inc({ outcome: 'unsigned' });
    log.warn({ source: subscription.sourceId, hub: subscription.hub }, 'push ignored: its signature does not hold');
    return { status: 202, body: 'Accepted\n' };
  }
  await sourcePushed(db, subscription, app.config.worker.minIntervalSeconds);
  app.metrics.websubPushes.inc({ outcome: 'accepted' });
  log.info({ source: subscription.sourceId, hub: subscription.hub }, 'push received; the source is due');
  return { status: 202, body: 'Accepted\n' };
}

/** The answer to a request to `/websub/<id>`. */
export async function answerHub(app: PushApp, request: IncomingMessage, id: string, url: URL): Promise<PushAnswer> {
  if (!SUBSCRIPTION_ID.test(id)) {
    request.resume();
    return { status: 404, body: 'Not found\n' };
  }
  if (request.method === 'GET') return verification(app, id, url);
  if (request.method === 'POST') return push(app, id, request);
  request.resume();
  return { status: 405, body: 'Method not allowed\n' };
}
