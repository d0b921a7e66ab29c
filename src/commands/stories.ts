import { recentStories } from '../store/stories.js';
import { CONFIG_OPTION, defineCommand, positiveInteger, UsageError, withApp } from './command.js';
import { formatStories } from './report.js';

export const stories = defineCommand({
  summary: 'list recent stories with every outlet that carried them, to inspect clustering',
  usage: 'stories [--topic SLUG] [--limit N] [--json] [--config DIR]',
  options: { ...CONFIG_OPTION, topic: { type: 'string', short: 't' }, limit: { type: 'string', short: 'n', default: '20' }, json: { type: 'boolean' } },
  async run(values) {
    const limit = positiveInteger('limit', values.limit);
    return withApp(values.config, async (app) => {
      const { topic } = values;
      if (topic && !app.config.topics.some((candidate) => candidate.slug === topic)) throw new UsageError(`no topic with slug "${topic}"`);
      const listings = await recentStories(app.database.db, { topic, limit });
      console.log(values.json ? JSON.stringify(listings, null, 2) : formatStories(listings));
      return 0;
    });
  },
});
