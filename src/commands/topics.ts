import { DEFAULT_TOPIC_LIMIT } from '../model/topic.js';
import { previewTopic, type TopicPreview } from '../store/preview.js';
import { topicMemberCounts } from '../store/topics.js';
import { type WebhookBacklog, webhookBacklog } from '../store/webhooks.js';
import { QueryError } from '../topics/query.js';
import { CONFIG_OPTION, defineCommand, positiveInteger, UsageError, withApp } from './command.js';
import { formatPreview, formatTopicTable } from './report.js';

/** A webhook's backlog in `topics --json` (never its URL or secret). */
const webhookJson = (backlog: WebhookBacklog | undefined) => ({
  waiting: backlog?.queued ?? 0,
  oldestQueuedAt: backlog?.oldest.toISOString() ?? null,
  lastError: backlog?.lastError ?? null,
});

export const topics = defineCommand({
  summary: 'list topics with their member counts; "topics preview SLUG|QUERY" shows what would match',
  usage: 'topics [--json] | topics preview SLUG|QUERY [--days N] [--limit N] [--config DIR]',
  options: { ...CONFIG_OPTION, days: { type: 'string' }, limit: { type: 'string', short: 'n', default: '20' }, json: { type: 'boolean' } },
  positionals: true,
  async run(values, positionals) {
    const [action, ...rest] = positionals;
    if (action !== undefined && action !== 'preview') throw new UsageError(`unknown topics action "${action}" (try "topics preview SLUG")`);
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
          ...(topic.webhook ? { webhook: webhookJson(backlog.get(topic.slug)) } : {}),
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
