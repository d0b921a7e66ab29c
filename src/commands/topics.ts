import type { App } from '../app.js';
import { type FeedEntry, ownEntry } from '../model/story.js';
import { DEFAULT_TOPIC_LIMIT, type Topic, type TopicWebhook, webhookLabel } from '../model/topic.js';
import { topicPageUrl } from '../model/urls.js';
import { webhookBody } from '../publish/webhook.js';
import { previewTopic, type TopicPreview } from '../store/preview.js';
import { topicEntries, topicMemberCounts } from '../store/topics.js';
import { type WebhookBacklog, webhookBacklog } from '../store/webhooks.js';
import { QueryError } from '../topics/query.js';
import { postToWebhook, WebhookFailure, webhookTargets } from '../worker/webhooks.js';
import { CONFIG_OPTION, defineCommand, positiveInteger, UsageError, withApp } from './command.js';
import { formatPreview, formatTopicTable } from './report.js';

/** A webhook and its backlog in `topics --json` (never its URL, secret or headers). */
const webhookJson = (webhook: TopicWebhook, backlog: WebhookBacklog | undefined) => ({
  name: webhook.name || null,
  format: webhook.format ?? 'jsonfeed',
  waiting: backlog?.queued ?? 0,
  oldestQueuedAt: backlog?.oldest.toISOString() ?? null,
  lastError: backlog?.lastError ?? null,
});

export const topics = defineCommand({
  summary: 'list topics with their member counts; "topics preview SLUG|QUERY" shows what would match; "topics test-webhook SLUG" tries a webhook',
  usage: 'topics [--json] | topics preview SLUG|QUERY [--days N] [--limit N] | topics test-webhook SLUG [--webhook NAME] [--config DIR]',
  options: {
    ...CONFIG_OPTION,
    days: { type: 'string' },
    limit: { type: 'string', short: 'n', default: '20' },
    json: { type: 'boolean' },
    webhook: { type: 'string' },
  },
  positionals: true,
  async run(values, positionals) {
    const [action, ...rest] = positionals;
    if (action !== undefined && action !== 'preview' && action !== 'test-webhook') {
      throw new UsageError(`unknown topics action "${action}" (try "topics preview SLUG" or "topics test-webhook SLUG")`);
    }
    if (action === 'test-webhook') {
      if (rest.length !== 1) throw new UsageError('topics test-webhook needs one topic slug');
      return withApp(values.config, (app) => testWebhook(app, rest[0]!, values.webhook));
    }
    if (action === 'preview' && rest.length === 0) throw new UsageError('topics preview needs a topic slug or a query');
    const limit = positiveInteger('limit', values.limit);
    const days = values.days === undefined ? undefined : Number(values.days);
    if (days !== undefined && !(days > 0)) throw new UsageError(`--days must be a positive number, not "${values.days}"`);
    return withApp(values.config, async (app) => {
      if (action === undefined) {
        const [counts, backlog] = await Promise.all([topicMemberCounts(app.database.db), webhookBacklog(app.database.db)]);
        const listed = app.config.topics.map((topic) => ({
          slug: topic.slug,
          title: topic.title,
          query: topic.query,
          stories: counts.get(topic.slug) ?? 0,
          ...(topic.webhooks ? { webhooks: topic.webhooks.map((webhook) => webhookJson(webhook, backlog.get(topic.slug)?.get(webhook.name))) } : {}),
        }));
        console.log(values.json ? JSON.stringify(listed, null, 2) : formatTopicTable(app.config.topics, counts, backlog));
        return 0;
      }
      const target = rest.join(' ');
      const topic = app.config.topics.find((candidate) => candidate.slug === target) ?? {
        slug: 'preview',
        title: 'preview',
        query: target,
        limit: DEFAULT_TOPIC_LIMIT,
      };
      let preview: TopicPreview;
      try {
        preview = await previewTopic(app.database.db, app.config.sources, topic, { days, limit });
      } catch (error) {
        if (error instanceof QueryError) throw new UsageError(`query: ${error.message}`);
        throw error;
      }
      console.log(formatPreview(preview, process.stdout.isTTY ? (text) => `\x1b[1;33m${text}\x1b[0m` : (text) => `[${text}]`));
      return 0;
    });
  },
});

/** A story to send when the topic has none yet: it says what it is, and links the topic's page. */
const sampleEntry = (publicUrl: string, topic: Topic): FeedEntry =>
  ownEntry({
    storyId: 'wirefeed-test',
    publishedAt: new Date(),
    title: `Wirefeed test delivery for ${topic.title}`,
    url: topicPageUrl(publicUrl, topic.slug),
    summary: 'A test of this webhook (wirefeed topics test-webhook); the topic has no stories yet.',
  });

/**
 * `topics test-webhook SLUG [--webhook NAME]`: sends the topic's newest story (or a sample one) to each of its webhooks
 * (or the named one) now, as event "test". Fails if any did not take it.
 */
async function testWebhook(app: App, slug: string, name: string | undefined): Promise<number> {
  const topic = app.config.topics.find((candidate) => candidate.slug === slug);
  if (!topic) throw new UsageError(`no topic with slug "${slug}"`);
  if (!topic.webhooks) throw new UsageError(`topic "${slug}" has no webhook`);
  const targets = webhookTargets([topic]).filter((target) => name === undefined || webhookLabel(target.webhook) === name);
  if (targets.length === 0) {
    throw new UsageError(`topic "${slug}" has no webhook "${name}" (it has ${topic.webhooks.map((webhook) => `"${webhookLabel(webhook)}"`).join(', ')})`);
  }
  const publicUrl = app.config.publish.publicUrl!;
  const [newest] = await topicEntries(app.database.db, slug, 1);
  let failed = 0;
  for (const target of targets) {
    const label = targets.length > 1 || name !== undefined ? ` ${webhookLabel(target.webhook)}` : '';
    try {
      const message = webhookBody(publicUrl, target, [newest ?? sampleEntry(publicUrl, topic)], 'test');
      const { status, ms } = await postToWebhook(app.http, target.webhook, message, { id: `${slug}-test-${Date.now()}` });
      console.log(`the webhook${label} of ${slug} took a test delivery of ${newest ? 'its newest story' : 'a sample story'}: HTTP ${status} in ${ms} ms`);
    } catch (error) {
      if (!(error instanceof WebhookFailure)) throw error;
      console.error(`the webhook${label} of ${slug} did not take the test delivery: ${error.message}`);
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}
