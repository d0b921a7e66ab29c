/** The long-running commands (run, worker, serve): start, reload on config edits, stop on a signal. */
import { watch } from 'node:fs';
import { type App, type StartingApp, startApp } from '../app.js';
import { ConfigError, formatProblem, loadConfig } from '../config/load.js';
import { describeEnvironmentProxies } from '../fetch/proxy-rules.js';
import { log } from '../log.js';
import { createAppServer, listen } from '../server/http.js';
import { startWorker, type Worker } from '../worker/scheduler.js';
import { callbackUnreachable } from '../worker/subscriptions.js';
import { CONFIG_OPTION, defineCommand } from './command.js';
import { surviveDriverCrashes } from './errors.js';

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

/** Stops the worker, the server and the app in order, then the process; called once per signal, acts once. */
function shutdownOnce(app: App, parts: { worker?: Worker; server?: ReturnType<typeof createAppServer> }): (signal: string) => void {
  let stopping = false;
  const stopWatching = reloadOnChange(app, () => parts.server?.invalidateTopics(app.config.topics.map((topic) => topic.slug)));
  const shutdown = async (signal: string) => {
    stopping = true;
    stopWatching();
    log.info({ signal }, 'shutting down');
    await parts.worker?.stop(Number(process.env.SHUTDOWN_GRACE_SECONDS ?? 10) * 1000);
    await new Promise<void>((resolve) => (parts.server ? parts.server.close(() => resolve()) : resolve()));
    parts.server?.closeAllConnections();
    await app.close();
    log.info('stopped');
    process.exit(0);
  };
  return (signal) => {
    if (!stopping) void shutdown(signal);
  };
}

async function startServer(app: App | (StartingApp & { tokens?: readonly string[] }), operationsOnly = false) {
  const options = { ...serverOptions(), operationsOnly };
  const port = operationsOnly ? Number(process.env.METRICS_PORT) : options.port;
  const server = createAppServer(app, options);
  const address = await listen(server, port, options.host);
  log.info({ url: `http://${address.address}:${address.port}/` }, operationsOnly ? 'worker health and metrics listening' : 'feed server listening');
  return server;
}

/**
 * Starts a service. A config error stops the start at once; an unreachable database does not: the server listens
 * (healthy, not ready) while the app retries, and SIGTERM/SIGINT in that wait exits cleanly.
 */
async function startService(configDir: string, parts: { worker: boolean; server: boolean }): Promise<number | 'running'> {
  const { publish, fetch } = loadConfig(configDir);
  if (parts.worker && callbackUnreachable({ fetch, publish }))
    log.warn({ publicUrl: publish.publicUrl }, 'fetch.websub: hubs on the internet cannot call back publish.publicUrl');
  // Taken from the environment unasked: said once, so an operator sees why fetches go where they go.
  const proxies = parts.worker ? describeEnvironmentProxies(fetch.proxy) : undefined;
  if (proxies) log.info({ proxies }, 'fetching through proxies from the environment');
  surviveDriverCrashes();
  const startup = new AbortController();
  // One listener for the process's life: while starting, a stop aborts the start; once running, it shuts down. (A
  // moment with no listener would let SIGTERM's default action kill the process mid-step.)
  let stop: ((signal: string) => void) | undefined;
  const onSignal = (signal: string) => (stop ? stop(signal) : startup.abort());
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const starting = startApp({ configDir, signal: startup.signal });
  // A worker alone listens only when asked to (METRICS_PORT), for its health checks and its fetch metrics.
  const server = parts.server || process.env.METRICS_PORT ? await startServer({ ...starting, tokens: publish.tokens }, !parts.server) : undefined;
  let app: App;
  try {
    app = await starting.ready;
  } catch (error) {
    server?.close();
    server?.closeAllConnections();
    if (!startup.signal.aborted) throw error;
    log.info('stopped while starting');
    return 0;
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
  stop = shutdownOnce(app, { worker, server });
  return 'running';
}

/** A command that runs as a service: the worker, the feed server, or both in one process. */
export const serviceCommand = (summary: string, usage: string, parts: { worker: boolean; server: boolean }) =>
  defineCommand({ summary, usage, options: CONFIG_OPTION, service: true, run: (values) => startService(values.config, parts) });
