/** Every command, in the order `wirefeed --help` lists them. */
import { article } from './article.js';
import { backup } from './backup.js';
import type { Command } from './command.js';
import { feed } from './feed.js';
import { ingest } from './ingest.js';
import { init } from './init.js';
import { migrate } from './migrate.js';
import { opml } from './opml.js';
import { prune } from './prune.js';
import { run } from './run.js';
import { scrape } from './scrape.js';
import { serve } from './serve.js';
import { sources } from './sources.js';
import { stories } from './stories.js';
import { topics } from './topics.js';
import { validate } from './validate.js';
import { worker } from './worker.js';

// Each command's option types are checked where it is defined; the table holds them alike.
export const COMMANDS = {
  run,
  worker,
  serve,
  ingest,
  sources,
  feed,
  article,
  scrape,
  stories,
  topics,
  opml,
  init,
  validate,
  backup,
  prune,
  migrate,
} as unknown as Record<string, Command>;
