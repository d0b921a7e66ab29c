#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ingestContext, openApp, startApp, type App, type StartingApp } from './app.js';
import { readFileSync, watch } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { addSourcesToConfig } from './config/edit.js';
import { parseOpml, renderSourcesOpml } from './config/opml.js';
import { initConfig } from './config/init.js';
import { ConfigError, formatProblem, loadConfig } from './config/load.js';
import { backupEmbeddedStore } from './db/backup.js';
import { databaseOptionsFromEnv, openMigratedDatabase } from './db/client.js';
import { EmbeddedStoreError } from './db/embedded.js';
import { closeHttpAgents, FetchError, nonPublicRangesFor } from './fetch/index.js';
import { discoverFeeds, type Discovery } from './discover/index.js';
import { log, logLevelChosen } from './log.js';
import { startProgress, type ProgressFactory } from './progress.js';
import { formatDiscovery, formatPreview, formatSourceTable, formatStories, formatSummary, formatTopicTable } from './report.js';
import { topicMemberCounts } from './store/topics.js';
import { previewTopic } from './topics/preview.js';
import { QueryError } from './topics/query.js';
import { recentStories } from './store/stories.js';
import { sourceHealth } from './store/sources.js';
import { createAppServer, listen } from './server/http.js';
import { ingestSources } from './worker/ingest.js';
import { startWorker, type Worker } from './worker/scheduler.js';

const CONFIG_OPTION = { config: { type: 'string', short: 'c', default: 'feeds' } } as const;
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Accepts positional arguments after the command name. */
  positionals?: boolean;
  /** A long-running service: logs at info by default; one-shot commands log only warnings unless LOG_LEVEL says. */
  service?: boolean;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number | 'running'>;
}

const ENVIRONMENT_HELP = `Environment:
  DATABASE_URL  postgres://… to use a PostgreSQL server; unset: the embedded PostgreSQL in DATA_DIR
  DATA_DIR      where the embedded PostgreSQL keeps its files and socket (default ./data)
  PORT, HOST    where the feed server listens (default 8080, 0.0.0.0)
  PUBLIC_URL    base URL used in feed links (default: from the request's Host header)
  LOG_LEVEL     pino level (default info; "silent" mutes the JSON log on stderr)
  SHUTDOWN_GRACE_SECONDS  how long in-flight fetches may finish after SIGTERM/SIGINT (default 10)
  METRICS_PORT  makes "worker" listen there for /healthz, /readyz and /metrics (default: a worker does not listen)`;

const serverOptions = () => ({
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? '0.0.0.0',
  publicUrl: process.env.PUBLIC_URL,
});

/**
 * Applies edits to the config folder without a restart: on SIGHUP, and when a YAML file in it changes. An invalid
 * edit is logged with its file:line:column problems and the last good config keeps running.
 */
function reloadOnChange(app: App, onReloaded: () => void): () => void {
  let pending: NodeJS.Timeout | undefined;
  let queue = Promise.resolve();
  const reload = (reason: string) => {
    queue = queue.then(async () => {
      try {
        await app.reload();
        onReloaded();
      } catch (error) {
        const problems = error instanceof ConfigError ? error.problems.map(formatProblem) : [(error as Error).message];
        log.error({ reason, problems }, 'config reload failed; the last good config keeps running');
      }
    });
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  const watcher = watch(app.config.dir, (_event, file) => {
    if (!file || !/\.ya?ml$/.test(file)) return;
    clearTimeout(pending);
    pending = setTimeout(() => reload(`${file} changed`), 300); // editors write in several steps
  });
  return () => {
    clearTimeout(pending);
    watcher.close();
  };
}

/** Keeps the process running until SIGINT/SIGTERM, then stops the worker, the server and the database in order. */
function runUntilSignal(app: App, parts: { worker?: Worker; server?: ReturnType<typeof createAppServer> }): 'running' {
  let stopping = false;
  const stopWatching = reloadOnChange(app, () => parts.server?.invalidateTopics(app.config.topics.map((topic) => topic.slug)));
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    stopWatching();
    log.info({ signal }, 'shutting down');
    await parts.worker?.stop(Number(process.env.SHUTDOWN_GRACE_SECONDS ?? 10) * 1000);
    await new Promise<void>((resolve) => (parts.server ? parts.server.close(() => resolve()) : resolve()));
    parts.server?.closeAllConnections();
    await closeHttpAgents();
    await app.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  return 'running';
}

async function startServer(app: App | StartingApp, operationsOnly = false) {
  const options = { ...serverOptions(), operationsOnly };
  const port = operationsOnly ? Number(process.env.METRICS_PORT) : options.port;
  const server = createAppServer(app, options);
  const address = await listen(server, port, options.host);
  log.info({ url: `http://${address.address}:${address.port}/` }, operationsOnly ? 'worker health and metrics listening' : 'feed server listening');
  return server;
}

/**
 * postgres.js can throw from inside a timer when a connection drops with writes pending ("Cannot read properties of
 * null (reading 'write')" in its connection.js, seen in the outage test): that connection is gone and the pool opens
 * another, so a service logs it and keeps running. Any other uncaught exception still ends the process.
 */
function surviveDriverCrashes(): void {
  process.on('uncaughtException', (error) => {
    if (/node_modules[\\/]postgres[\\/]/.test(error.stack ?? '')) {
      log.error({ error: error.message }, 'database driver failed after a lost connection; continuing');
      return;
    }
    log.fatal({ error: error.stack ?? String(error) }, 'uncaught exception');
    process.exit(1);
  });
}

/**
 * The long-running commands. A config error stops the start at once; an unreachable database does not: the server
 * listens (healthy, not ready) while the app retries, and SIGTERM/SIGINT in that wait exits cleanly.
 */
async function startService(configDir: string, parts: { worker: boolean; server: boolean }): Promise<number | 'running'> {
  loadConfig(configDir);
  surviveDriverCrashes();
  const startup = new AbortController();
  const giveUp = () => startup.abort();
  process.on('SIGINT', giveUp).on('SIGTERM', giveUp);
  const starting = startApp({ configDir, signal: startup.signal });
  // A worker alone listens only when asked to (METRICS_PORT), for its health checks and its fetch metrics.
  const server = parts.server || process.env.METRICS_PORT ? await startServer(starting, !parts.server) : undefined;
  let app: App;
  try {
    app = await starting.ready;
  } catch (error) {
    server?.close();
    server?.closeAllConnections();
    if (!startup.signal.aborted) throw error;
    log.info('stopped while starting');
    return 0;
  } finally {
    process.off('SIGINT', giveUp).off('SIGTERM', giveUp);
  }
  if (startup.signal.aborted) {
    // The stop came in the last step of the start (after its last check): nothing is running yet but the app.
    server?.close();
    server?.closeAllConnections();
    await app.close();
    log.info('stopped while starting');
    return 0;
  }
  // In one process the server hears of changed topics at once; separate servers notice within a second.
  const worker = parts.worker ? startWorker(app, { onTopicsChanged: server ? (slugs) => server.invalidateTopics(slugs) : undefined }) : undefined;
  return runUntilSignal(app, { worker, server });
}

const COMMANDS: Record<string, Command> = {
  run: {
    summary: 'run the worker and the feed server in one process (what npm start does)',
    usage: 'run [--config DIR]',
    options: CONFIG_OPTION,
    service: true,
    run: (values) => startService(values.config as string, { worker: true, server: true }),
  },
  worker: {
    summary: 'run only the scheduled fetch worker',
    usage: 'worker [--config DIR]',
    options: CONFIG_OPTION,
    service: true,
    run: (values) => startService(values.config as string, { worker: true, server: false }),
  },
  serve: {
    summary: 'run only the feed server',
    usage: 'serve [--config DIR]',
    options: CONFIG_OPTION,
    service: true,
    run: (values) => startService(values.config as string, { worker: false, server: true }),
  },
  ingest: {
    summary: 'fetch every source (or one) once and print a summary',
    usage: 'ingest --once [--source ID] [--json] [--config DIR]',
    options: { ...CONFIG_OPTION, once: { type: 'boolean' }, source: { type: 'string', short: 's' }, json: { type: 'boolean' } },
    async run(values) {
      if (!values.once) throw new UsageError('ingest needs --once (the scheduled loop is "wirefeed worker")');
      return withApp(values, async (app) => {
        const sources = values.source ? app.config.sources.filter((source) => source.id === values.source) : app.config.sources;
        if (values.source && sources.length === 0) throw new UsageError(`no source with id "${values.source}"`);
        const summary = await ingestSources(ingestContext(app), sources, { concurrency: app.config.fetch.concurrency, progress: cliProgress });
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
  },
  sources: {
    summary: 'list sources with their health; "sources add URL" finds the feed of a site and adds it as a source',
    usage: 'sources [--json] | sources add URL [--pick N] [--id ID] [--title TEXT] [--into YAML] [--allow-private-network] [--dry-run] [--json] [--config DIR]',
    options: {
      ...CONFIG_OPTION,
      json: { type: 'boolean' },
      pick: { type: 'string', default: '1' },
      id: { type: 'string' },
      title: { type: 'string' },
      into: { type: 'string' },
      'allow-private-network': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
    },
    positionals: true,
    async run(values, positionals) {
      const [action, url, ...extra] = positionals;
      if (action === 'add' && url && extra.length === 0) return addDiscoveredSource(values, url);
      if (action !== undefined) throw new UsageError('use "sources" to list them or "sources add URL" to add one');
      return withApp(values, async (app) => {
        const configured = new Set(app.config.sources.map((source) => source.id));
        const rows = (await sourceHealth(app.database.db)).filter((row) => configured.has(row.id));
        console.log(values.json ? JSON.stringify(rows, null, 2) : formatSourceTable(rows, new Date()));
        return 0;
      });
    },
  },
  stories: {
    summary: 'list recent stories with every outlet that carried them, to inspect clustering',
    usage: 'stories [--topic SLUG] [--limit N] [--json] [--config DIR]',
    options: { ...CONFIG_OPTION, topic: { type: 'string', short: 't' }, limit: { type: 'string', short: 'n', default: '20' }, json: { type: 'boolean' } },
    async run(values) {
      const limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive whole number, not "${values.limit}"`);
      return withApp(values, async (app) => {
        const topic = values.topic as string | undefined;
        if (topic && !app.config.topics.some((candidate) => candidate.slug === topic)) throw new UsageError(`no topic with slug "${topic}"`);
        const listings = await recentStories(app.database.db, { topic, limit });
        console.log(values.json ? JSON.stringify(listings, null, 2) : formatStories(listings));
        return 0;
      });
    },
  },
  topics: {
    summary: 'list topics with their member counts; "topics preview SLUG|QUERY" shows what would match',
    usage: 'topics [--json] | topics preview SLUG|QUERY [--days N] [--limit N] [--config DIR]',
    options: { ...CONFIG_OPTION, days: { type: 'string' }, limit: { type: 'string', short: 'n', default: '20' }, json: { type: 'boolean' } },
    positionals: true,
    async run(values, positionals) {
      const [action, ...rest] = positionals;
      if (action !== undefined && action !== 'preview') throw new UsageError(`unknown topics action "${action}" (try "topics preview SLUG")`);
      if (action === 'preview' && rest.length === 0) throw new UsageError('topics preview needs a topic slug or a query');
      return withApp(values, async (app) => {
        if (action === undefined) {
          const counts = await topicMemberCounts(app.database.db);
          const listed = app.config.topics.map((topic) => ({ slug: topic.slug, title: topic.title, query: topic.query, stories: counts.get(topic.slug) ?? 0 }));
          console.log(values.json ? JSON.stringify(listed, null, 2) : formatTopicTable(app.config.topics, counts));
          return 0;
        }
        const days = values.days === undefined ? undefined : Number(values.days);
        if (days !== undefined && !(days > 0)) throw new UsageError(`--days must be a positive number, not "${values.days}"`);
        const target = rest.join(' ');
        const configured = app.config.topics.find((topic) => topic.slug === target);
        let preview;
        try {
          preview = await previewTopic(app, configured ?? { slug: 'preview', title: 'preview', query: target, limit: 50 }, { days, limit: Number(values.limit) });
        } catch (error) {
          if (error instanceof QueryError) throw new UsageError(`query: ${error.message}`);
          throw error;
        }
        console.log(formatPreview(preview, process.stdout.isTTY ? (text) => `\x1b[1;33m${text}\x1b[0m` : (text) => `[${text}]`));
        return 0;
      });
    },
  },
  opml: {
    summary: 'export the sources as OPML 2.0, or import an OPML file (from Miniflux, FreshRSS, any reader) as sources',
    usage: 'opml export | opml import FILE [--into YAML] [--json] [--config DIR]',
    options: { ...CONFIG_OPTION, into: { type: 'string' }, json: { type: 'boolean' } },
    positionals: true,
    async run(values, positionals) {
      const [action, file] = positionals;
      const config = loadConfig(values.config as string);
      if (action === 'export') {
        process.stdout.write(renderSourcesOpml(config.sources, new Date()));
        return 0;
      }
      if (action !== 'import' || !file) throw new UsageError('use "opml export" or "opml import FILE"');
      const feeds = parseOpml(readFileSync(file, 'utf8'));
      const result = addSourcesToConfig(values.config as string, feeds.map((feed) => ({ url: feed.xmlUrl, title: feed.title })), values.into as string | undefined);
      const target = result.file;
      if (values.json) {
        console.log(JSON.stringify({ file: target, feeds: feeds.length, added: result.added, skipped: result.skipped }, null, 2));
        return 0;
      }
      for (const added of result.added) console.log(`added ${added.id}: ${added.url}`);
      for (const skipped of result.skipped) console.log(`skipped ${skipped.url}: ${skipped.reason}`);
      console.log(`${result.added.length} added to ${displayPath(target)}, ${result.skipped.length} skipped, of ${feeds.length} feeds in ${file}`);
      return 0;
    },
  },
  init: {
    summary: 'write a starter config folder with commented examples',
    usage: 'init [--config DIR]',
    options: CONFIG_OPTION,
    async run(values) {
      for (const file of initConfig(values.config as string)) console.log(`wrote ${file}`);
      console.log(`next: edit them, then "wirefeed validate --config ${values.config}" and "wirefeed run --config ${values.config}"`);
      return 0;
    },
  },
  validate: {
    summary: 'check the YAML config and print what it defines',
    usage: 'validate [--config DIR]',
    options: CONFIG_OPTION,
    async run(values) {
      const config = loadConfig(values.config as string);
      console.log(`${values.config}: ok (${config.sources.length} sources, ${config.topics.length} topics)`);
      return 0;
    },
  },
  backup: {
    summary: 'copy the embedded store into a new folder while Wirefeed runs',
    usage: 'backup FOLDER',
    options: {},
    positionals: true,
    async run(_values, positionals) {
      const [folder] = positionals;
      if (!folder || positionals.length > 1) throw new UsageError('backup needs one folder to copy the store into');
      const options = databaseOptionsFromEnv();
      if (options.url) throw new UsageError('backup copies the embedded store; for a PostgreSQL server (DATABASE_URL) use pg_dump');
      const copy = await backupEmbeddedStore(options.dataDir!, folder);
      console.log(`backed up ${resolve(options.dataDir!)} to ${copy}`);
      return 0;
    },
  },
  migrate: {
    summary: 'apply database migrations and exit',
    usage: 'migrate [--config DIR]',
    // The config is not read (the database comes from DATABASE_URL / DATA_DIR), but every command takes --config.
    options: CONFIG_OPTION,
    async run() {
      const handle = await openMigratedDatabase(databaseOptionsFromEnv());
      await handle.close();
      console.log(`migrations applied (${handle.engine})`);
      return 0;
    },
  },
};

class UsageError extends Error {}

/** Progress of the one-shot commands' long steps, on stderr: stdout stays for results (and --json). */
const cliProgress: ProgressFactory = (label, total, unit) => startProgress(label, total, unit);

/** A file as the user would type it: relative to the working directory when inside it, else absolute. */
function displayPath(file: string): string {
  const inside = relative(process.cwd(), file);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

/**
 * `sources add URL`: finds the feed (the URL itself, the page's <link rel="alternate">, or a common path), shows
 * what it found, and appends the chosen one to the config. Exit 1 when nothing is found or nothing could be added.
 */
async function addDiscoveredSource(values: Record<string, string | boolean | undefined>, url: string): Promise<number> {
  const configDir = values.config as string;
  const config = loadConfig(configDir);
  if (!/^https?:\/\//i.test(url)) throw new UsageError(`"${url}" is not an http(s) URL`);
  const pick = Number(values.pick);
  const allowPrivateNetwork = values['allow-private-network'] === true;
  let discovery: Discovery;
  try {
    discovery = await discoverFeeds(url, { network: allowPrivateNetwork ? { kind: 'any' } : { kind: 'public-only' }, limits: config.fetch });
  } catch (error) {
    if (error instanceof FetchError) throw new UsageError(`cannot fetch ${url}: ${error.message}`);
    throw error;
  } finally {
    await closeHttpAgents();
  }
  const chosen = discovery.feeds[pick - 1];
  if (discovery.feeds.length > 0 && !chosen) throw new UsageError(`--pick must be between 1 and ${discovery.feeds.length}, not "${values.pick}"`);
  // Only the ranges this feed's host is in, not every private address.
  const privateRanges = chosen && allowPrivateNetwork ? await nonPublicRangesFor(chosen.url) : [];
  const added =
    chosen && !values['dry-run']
      ? addSourcesToConfig(
          configDir,
          [{ url: chosen.url, title: (values.title as string | undefined) ?? chosen.title, id: values.id as string | undefined, allowPrivateNetwork: privateRanges }],
          values.into as string | undefined,
        )
      : undefined;
  if (values.json) {
    console.log(JSON.stringify({ ...discovery, added: added?.added ?? [], skipped: added?.skipped ?? [] }, null, 2));
  } else {
    console.log(formatDiscovery(url, discovery));
    for (const entry of added?.added ?? []) console.log(`added ${entry.id}: ${entry.url} to ${displayPath(added!.file)}`);
    for (const entry of added?.skipped ?? []) console.log(`not added: ${entry.url}: ${entry.reason}`);
  }
  if (!chosen || (added && added.added.length === 0)) return 1;
  return 0;
}

/** Opens the app for a one-shot command and always closes it, with any pooled HTTP connections. */
async function withApp<T>(values: Record<string, string | boolean | undefined>, use: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp({ configDir: values.config as string, progress: cliProgress });
  try {
    return await use(app);
  } finally {
    await closeHttpAgents();
    await app.close();
  }
}


const VALUE_NAMES: Record<string, string> = { config: 'DIR', source: 'ID', topic: 'SLUG', limit: 'N', days: 'N', pick: 'N', id: 'ID', title: 'TEXT', into: 'YAML' };

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: wirefeed <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "wirefeed <command> --help" for a command's options.\n\n${ENVIRONMENT_HELP}\n`;
}

function commandHelp(command: Command): string {
  const options = Object.entries(command.options).map(([option, spec]) => {
    const value = spec.type === 'string' ? ` <${VALUE_NAMES[option] ?? option.toUpperCase()}>` : '';
    const fallback = 'default' in spec && spec.default !== undefined ? ` (default ${String(spec.default)})` : '';
    return `  --${option}${value}${fallback}`;
  });
  return `Usage: wirefeed ${command.usage}\n\n${command.summary}\n\nOptions:\n${[...options, '  --help'].join('\n')}\n\n${ENVIRONMENT_HELP}\n`;
}

export async function main(argv: string[]): Promise<number | 'running'> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`wirefeed: unknown command "${name}"\n\n${mainHelp()}`);
    return 1;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { ...command.options, ...HELP_OPTION }, strict: true, allowPositionals: command.positionals ?? false });
    if (values.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (!command.service && !logLevelChosen) log.level = 'warn';
    return await command.run(values as Record<string, string | boolean | undefined>, positionals);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nconfig has ${error.problems.length} problem(s); nothing started\n`);
      return 1;
    }
    if (error instanceof UsageError || error instanceof EmbeddedStoreError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`wirefeed ${name}: ${(error as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`wirefeed ${name}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 'running') process.exitCode = code;
