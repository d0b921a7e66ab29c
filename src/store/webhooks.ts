/**
 * The webhook outbox (webhook_deliveries): the store step queues a row per story new to a topic with a webhook, in the
 * transaction that files it (see membershipStatements); a worker claims a topic's oldest rows, POSTs them and deletes
 * them once the webhook took them. At least once: a worker that dies mid-delivery leaves its rows to be claimed again.
 */
import { sql } from 'drizzle-orm';
import { arrayLiteral, type Database, preparedRows } from '../db/client.js';

/** One webhook's queue: the topic's slug and the webhook's name ('' for an unnamed one). */
export interface WebhookQueue {
  topic: string;
  webhook: string;
}

/** A claimed row: a story queued for a topic's webhook. */
export interface QueuedDelivery {
  id: number;
  storyId: string;
  /** How many times it has been claimed, this time included. */
  attempts: number;
}

/**
 * Claims up to `limit` of a webhook queue's oldest stories for `leaseSeconds`, but only when its oldest is due: a
 * webhook waiting out a failure holds back what was queued after it (it hears of stories in the order they were
 * filed; the topic's other webhooks do not wait for it), and two workers never deliver to one webhook at once (the
 * head is read locked: a claim in progress elsewhere is waited for and its new due time seen, rather than its rows
 * skipped and the ones after them taken). Oldest first.
 */
export async function claimDeliveries(db: Database, queue: WebhookQueue, options: { limit: number; leaseSeconds: number }): Promise<QueuedDelivery[]> {
  const { topic, webhook } = queue;
  const rows = await preparedRows<{ id: string | number; story_id: string; attempts: number }>(
    db,
    sql`update webhook_deliveries set due_at = now() + make_interval(secs => ${options.leaseSeconds}), attempts = attempts + 1
      where id in (select id from webhook_deliveries where topic_slug = ${topic} and webhook = ${webhook} order by id limit ${options.limit} for update skip locked)
        and (select due_at from webhook_deliveries where topic_slug = ${topic} and webhook = ${webhook} order by id limit 1 for update) <= now()
      returning id, story_id, attempts`,
  );
  return rows.map((row) => ({ id: Number(row.id), storyId: row.story_id, attempts: row.attempts })).sort((a, b) => a.id - b.id);
}

/** Deletes delivered rows. */
export async function settleDeliveries(db: Database, ids: readonly number[]): Promise<void> {
  await preparedRows(db, sql`delete from webhook_deliveries where id = any(${arrayLiteral(ids)}::bigint[])`);
}

/** Hands claimed rows back unsent (a batch cut to fit one POST): due at once, their claim not counted as an attempt. */
export async function releaseDeliveries(db: Database, ids: readonly number[]): Promise<void> {
  await preparedRows(db, sql`update webhook_deliveries set due_at = now(), attempts = attempts - 1 where id = any(${arrayLiteral(ids)}::bigint[])`);
}

/**
 * After a failed delivery: rows queued longer than `giveUpSeconds` ago are dropped, the others are due again in
 * `retrySeconds`. Returns how many were dropped.
 */
export async function postponeDeliveries(
  db: Database,
  ids: readonly number[],
  options: { retrySeconds: number; giveUpSeconds: number; error: string },
): Promise<number> {
  const idList = arrayLiteral(ids);
  const [row] = await preparedRows<{ dropped: number }>(
    db,
    sql`with dropped as (
        delete from webhook_deliveries
        where id = any(${idList}::bigint[]) and queued_at < now() - make_interval(secs => ${options.giveUpSeconds})
        returning id),
      postponed as (
        update webhook_deliveries set due_at = now() + make_interval(secs => ${options.retrySeconds}), last_error = ${options.error}
        where id = any(${idList}::bigint[]) and id not in (select id from dropped))
      select count(*)::int as dropped from dropped`,
  );
  return row?.dropped ?? 0;
}

/** What waits for a topic's webhook: how many stories, since when, and why the last try of the oldest failed. */
export interface WebhookBacklog {
  queued: number;
  oldest: Date;
  lastError: string | null;
}

/** Each webhook's backlog, by topic and then webhook name (empty queues are left out): for `wirefeed topics` and the metrics. */
export async function webhookBacklog(db: Database): Promise<Map<string, Map<string, WebhookBacklog>>> {
  const rows = await preparedRows<{ topic_slug: string; webhook: string; queued: number; oldest: Date | string; last_error: string | null }>(
    db,
    sql`select topic_slug, webhook, count(*)::int as queued, min(queued_at) as oldest, (array_agg(last_error order by id))[1] as last_error
      from webhook_deliveries group by topic_slug, webhook`,
  );
  const backlog = new Map<string, Map<string, WebhookBacklog>>();
  for (const row of rows) {
    const topic = backlog.get(row.topic_slug) ?? backlog.set(row.topic_slug, new Map()).get(row.topic_slug)!;
    topic.set(row.webhook, { queued: row.queued, oldest: new Date(row.oldest), lastError: row.last_error });
  }
  return backlog;
}
