/**
 * WebSub subscriptions to sources' hubs (push_subscriptions): what the worker asked each hub for, what the hub's
 * verification confirmed, and what a verified push does (its source due at once).
 */
import { sql } from 'drizzle-orm';
import { type Database, rowsOf, textArray } from '../db/client.js';
import type { PushSubscription } from '../model/source.js';

type SubscriptionRow = {
  id: string;
  source_id: string;
  hub: string;
  topic: string;
  secret: string;
  state: PushSubscription['state'];
  requested_at: string;
  lease_until: string | null;
  reason: string | null;
};

const subscriptionOfRow = (row: SubscriptionRow): PushSubscription => ({
  id: row.id,
  sourceId: row.source_id,
  hub: row.hub,
  topic: row.topic,
  secret: row.secret,
  state: row.state,
  requestedAt: new Date(row.requested_at),
  leaseUntil: row.lease_until === null ? null : new Date(row.lease_until),
  reason: row.reason,
});

const COLUMNS = sql`id, source_id, hub, topic, secret, state, requested_at, lease_until, reason`;

/** A source's subscription, if it has one. */
export async function sourceSubscription(db: Database, sourceId: string): Promise<PushSubscription | undefined> {
  const [row] = await rowsOf<SubscriptionRow>(db, sql`select ${COLUMNS} from push_subscriptions where source_id = ${sourceId}`);
  return row ? subscriptionOfRow(row) : undefined;
}

/** The subscriptions of these sources, by source (one read for a pass's sources). */
export async function sourceSubscriptions(db: Database, sourceIds: readonly string[]): Promise<Map<string, PushSubscription>> {
  if (sourceIds.length === 0) return new Map();
  const rows = await rowsOf<SubscriptionRow>(db, sql`select ${COLUMNS} from push_subscriptions where source_id = any(${textArray(sourceIds)})`);
  return new Map(rows.map((row) => [row.source_id, subscriptionOfRow(row)]));
}

/** The subscription a callback URL names, if it is still ours. */
export async function subscriptionById(db: Database, id: string): Promise<PushSubscription | undefined> {
  const [row] = await rowsOf<SubscriptionRow>(db, sql`select ${COLUMNS} from push_subscriptions where id = ${id}`);
  return row ? subscriptionOfRow(row) : undefined;
}

/** Writes a source's subscription, in place of the one it had (one per source). */
export async function saveSubscription(db: Database, subscription: PushSubscription): Promise<void> {
  const { id, sourceId, hub, topic, secret, state, requestedAt, leaseUntil, reason } = subscription;
  await db.execute(sql`
    insert into push_subscriptions (${COLUMNS})
    values (${id}, ${sourceId}, ${hub}, ${topic}, ${secret}, ${state}, ${requestedAt.toISOString()}, ${leaseUntil?.toISOString() ?? null}, ${reason})
    on conflict (source_id) do update set id = excluded.id, hub = excluded.hub, topic = excluded.topic, secret = excluded.secret,
      state = excluded.state, requested_at = excluded.requested_at, lease_until = excluded.lease_until, reason = excluded.reason`);
}

export async function deleteSubscription(db: Database, id: string): Promise<void> {
  await db.execute(sql`delete from push_subscriptions where id = ${id}`);
}

/**
 * A hub's answer to our request, as its verification says (`leaseSeconds` for a subscription it confirms, `reason`
 * for a denial): applied when it is about the topic we asked for. Whether it was.
 */
export async function settleSubscription(
  db: Database,
  id: string,
  topic: string,
  answer: { mode: 'subscribe'; leaseSeconds: number } | { mode: 'denied'; reason: string },
): Promise<boolean> {
  const rows =
    answer.mode === 'subscribe'
      ? await rowsOf(
          db,
          sql`update push_subscriptions set state = 'active', reason = null, lease_until = now() + make_interval(secs => ${answer.leaseSeconds})
            where id = ${id} and topic = ${topic} and state in ('requested', 'active') returning id`,
        )
      : await rowsOf(db, sql`update push_subscriptions set state = 'denied', reason = ${answer.reason} where id = ${id} and topic = ${topic} returning id`);
  return rows.length > 0;
}

/**
 * A verified push: the source is due at once, but never sooner than `minIntervalSeconds` after its last fetch (a hub
 * pushing every second must not make us hammer the site).
 */
export async function sourcePushed(db: Database, subscription: PushSubscription, minIntervalSeconds: number): Promise<void> {
  await db.execute(sql`
    with pushed as (update push_subscriptions set pushed_at = now() where id = ${subscription.id})
    update sources set next_check_at = least(next_check_at,
      greatest(now(), coalesce(last_fetched_at, now()) + make_interval(secs => ${minIntervalSeconds})))
    where id = ${subscription.sourceId}`);
}

/** A source whose hub pushes is polled no sooner than `seconds` from now (or later, as its own schedule says). */
export async function pollPushedSource(db: Database, sourceId: string, seconds: number): Promise<void> {
  await db.execute(sql`update sources set next_check_at = greatest(next_check_at, now() + make_interval(secs => ${seconds})) where id = ${sourceId}`);
}

/** Subscriptions to end: every one when `keep` is empty, else those of sources not in it (taken out of the config). */
export async function subscriptionsOutside(db: Database, keep: readonly string[]): Promise<PushSubscription[]> {
  const rows = await rowsOf<SubscriptionRow>(db, sql`select ${COLUMNS} from push_subscriptions where not (source_id = any(${textArray(keep)}))`);
  return rows.map(subscriptionOfRow);
}
