/**
 * Child process of the memory benchmark, run from the compiled code (dist/, as `npm start` runs it; tsx's loader would
 * add its own compiler to the figure): opens the app, reports resident memory, runs one pass, reports the peak.
 */
import { openApp } from '../dist/app.js';
import { openMigratedDatabase, openScratchDatabase } from '../dist/db/client.js';
import { ingestContext } from '../dist/worker/context.js';
import { ingestSources } from '../dist/worker/ingest.js';

const [configDir] = process.argv.slice(2);
const database = process.env.DATABASE_URL ? await openMigratedDatabase({ url: process.env.DATABASE_URL }) : await openScratchDatabase();
const app = await openApp({ configDir, database });
global.gc?.();
const idle = process.memoryUsage().rss;
const summary = await ingestSources(ingestContext(app), app.config.sources, { concurrency: app.config.fetch.concurrency });
const peak = process.resourceUsage().maxRSS * 1024;
await app.close();
await database.close();
process.stdout.write(`${JSON.stringify({ idle, peak, ok: summary.ok, failed: summary.failed })}\n`);
