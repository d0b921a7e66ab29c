import { activeSources } from '../model/source.js';
import { ingestContext } from '../worker/context.js';
import { housekeep } from '../worker/housekeeping.js';
import { ingestSources } from '../worker/ingest.js';
import { deliverWebhooks } from '../worker/webhooks.js';
import { CONFIG_OPTION, cliProgress, defineCommand, UsageError, withApp } from './command.js';
import { formatSummary } from './report.js';

const PRUNE_BUDGET_MS = 10_000;
const WEBHOOK_BUDGET_MS = 30_000;

export const ingest = defineCommand({
  summary: 'fetch every source (or one) once and print a summary',
  usage: 'ingest --once [--source ID] [--json] [--config DIR]',
  // Its summary lists every failed source: the log would say each a second time.
  reportsWarnings: true,
  options: { ...CONFIG_OPTION, once: { type: 'boolean' }, source: { type: 'string', short: 's' }, json: { type: 'boolean' } },
  async run(values) {
    if (!values.once) throw new UsageError('ingest needs --once (the scheduled loop is "wirefeed worker")');
    return withApp(values.config, async (app) => {
      // A paused source is fetched only when named.
      const sources = values.source ? app.config.sources.filter((source) => source.id === values.source) : activeSources(app.config.sources);
      if (values.source && sources.length === 0) throw new UsageError(`no source with id "${values.source}"`);
      const summary = await ingestSources(ingestContext(app), sources, { concurrency: app.config.fetch.concurrency, progress: cliProgress });
      // A store fed only by scheduled `ingest --once` runs is pruned by them, as a worker prunes its own; for a few
      // seconds at most, so the first run on an old store does not hang on it (the next runs go on from there).
      await housekeep(app, AbortSignal.timeout(PRUNE_BUDGET_MS));
      // Webhooks hear of the pass's new stories now (one try each: a failing one is tried again by the next run).
      await deliverWebhooks(app, AbortSignal.timeout(WEBHOOK_BUDGET_MS));
      if (values.json) {
        console.log(JSON.stringify(summary, null, 2));
      } else {
        for (const outcome of summary.outcomes.filter((entry) => entry.outcome === 'failed' || entry.outcome === 'deferred')) {
          console.log(`${outcome.outcome}: ${outcome.sourceId}: ${outcome.error}`);
        }
        console.log(formatSummary(summary));
      }
      return summary.failed + summary.deferred > 0 ? 2 : 0;
    });
  },
});
