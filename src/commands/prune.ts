import { pruneStore } from '../store/retention.js';
import { CONFIG_OPTION, cliProgress, defineCommand, withApp } from './command.js';

export const prune = defineCommand({
  summary: "prune the store by the config's retention now, with progress, and print what went",
  usage: 'prune [--json] [--config DIR]',
  options: { ...CONFIG_OPTION, json: { type: 'boolean' } },
  async run(values) {
    return withApp(values.config, async (app) => {
      const started = performance.now();
      // Unbounded, unlike the housekeeping's turns: the first prune of a store older than its retention, done at once.
      const result = await pruneStore(app.database.db, app.config.retention, { progress: cliProgress });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (values.json) console.log(JSON.stringify({ ...result, seconds: Number(seconds) }, null, 2));
      else {
        const archived =
          app.config.retention.itemsSeconds === null
            ? 'kept every story (retention.items: never)'
            : `archived ${result.itemRows} items of ${result.storyRows} stories`;
        console.log(`${archived}; deleted ${result.bandRows} clustering band rows and ${result.fetchLogRows} fetch attempts in ${seconds}s`);
        if (result.skipped) console.log('another process is pruning the store: what was left is left to it');
      }
      return result.skipped ? 2 : 0;
    });
  },
});
