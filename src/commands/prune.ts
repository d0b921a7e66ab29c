import type { RetentionSettings } from '../model/settings.js';
import { archivesItems, type PruneResult, pruneEstimate, pruneStore } from '../store/retention.js';
import { CONFIG_OPTION, cliProgress, defineCommand, withApp } from './command.js';

/** One line of what went (or, with --dry-run, would go). */
function describePrune(result: Omit<PruneResult, 'skipped'>, retention: RetentionSettings, dryRun: boolean): string {
  const verb = (done: string, would: string) => (dryRun ? would : done);
  const stories = !archivesItems(retention)
    ? 'kept every story (retention.items: never)'
    : `${verb('archived', 'would archive')} ${result.itemRows} items of ${result.storyRows} stories`;
  const bands = dryRun ? `${result.bandRows} clustering band rows (the archived items' among them)` : `${result.bandRows} clustering band rows`;
  const deleted = [bands, `${result.fetchLogRows} fetch attempts`];
  if (retention.archivedKeysSeconds !== null) deleted.push(`${result.archivedKeyRows} archived keys`);
  return `${stories}; ${verb('deleted', 'would delete')} ${deleted.slice(0, -1).join(', ')} and ${deleted.at(-1)}`;
}

export const prune = defineCommand({
  summary: "prune the store by the config's retention now, with progress, and print what went",
  usage: 'prune [--dry-run] [--json] [--config DIR]',
  options: { ...CONFIG_OPTION, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  async run(values) {
    return withApp(values.config, async (app) => {
      const { retention } = app.config;
      if (values['dry-run']) {
        const estimate = await pruneEstimate(app.database.db, retention);
        console.log(values.json ? JSON.stringify(estimate, null, 2) : describePrune(estimate, retention, true));
        return 0;
      }
      const started = performance.now();
      // Unbounded, unlike the housekeeping's turns: the first prune of a store older than its retention, done at once.
      const result = await pruneStore(app.database.db, retention, { progress: cliProgress });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (values.json) console.log(JSON.stringify({ ...result, seconds: Number(seconds) }, null, 2));
      else {
        console.log(`${describePrune(result, retention, false)} in ${seconds}s`);
        if (result.skipped) console.log('another process is pruning the store: what was left is left to it');
      }
      return result.skipped ? 2 : 0;
    });
  },
});
