/**
 * Source alerts (`worker.alerts`): the housekeeping tells the operator's webhook, in one POST a turn, which sources'
 * health changed since it last said (failing, quiet, gone, back). What was said is kept on each source's row, set by
 * a compare-and-set, so that of two workers finding the same change one sends it; a POST that fails takes it back, so
 * the next turn says it again.
 */
import { log } from '../log.js';
import { type AlertRow, alertChanges, sourceAlert } from '../model/alerts.js';
import { alertsBody } from '../publish/webhook.js';
import { markAlerted } from '../store/sources.js';
import { postToWebhook, type WebhookApp, WebhookFailure } from './webhooks.js';

/** Sends the changes among `rows` (the configured sources, judged) to `worker.alerts`; returns how many it sent. */
export async function sendSourceAlerts(app: WebhookApp, rows: readonly AlertRow[], signal?: AbortSignal): Promise<number> {
  const webhook = app.config.worker.alerts;
  if (!webhook) return 0;
  const { db } = app.database;
  const changes = alertChanges(rows);
  const won = await markAlerted(db, changes);
  const mine = changes.filter((change) => won.has(change.sourceId));
  if (mine.length === 0) return 0;
  const at = new Date();
  const publicUrl = app.config.publish.publicUrl!;
  const message = alertsBody(
    publicUrl,
    webhook,
    mine.map((alert) => sourceAlert(publicUrl, alert)),
    at,
  );
  const said = mine.map((alert) => ({ source: alert.sourceId, kind: alert.kind }));
  try {
    const { status, ms } = await postToWebhook(app.http, webhook, message, { id: `source-alerts-${at.getTime()}`, ...(signal ? { signal } : {}) });
    log.info({ alerts: said, status, ms }, 'source alerts sent');
    return mine.length;
  } catch (error) {
    await markAlerted(
      db,
      mine.map((alert) => ({ sourceId: alert.sourceId, from: alert.to, to: alert.from })),
    );
    if (!(error instanceof WebhookFailure)) throw error;
    log.warn({ alerts: said, error: error.message }, 'source alerts not delivered; trying again at the next turn');
    return 0;
  }
}
