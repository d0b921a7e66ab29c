import type { App } from '../app.js';
import { addSourcesToConfig, type NewSource, pauseSourceInConfig, sourceEntry } from '../config/edit.js';
import { loadConfig, withCredentials } from '../config/load.js';
import { BASIC_USERNAME, sourceSchema } from '../config/schema.js';
import { type Discovery, discoverFeeds } from '../discover/index.js';
import { HttpClient, nonPublicRangesFor } from '../fetch/index.js';
import type { Alert } from '../model/alerts.js';
import { terminalJson, terminalText } from '../model/escape.js';
import { type Quiet, quietJson, withQuiet } from '../model/quiet.js';
import { type Source, type SourceCredentials, withReads } from '../model/source.js';
import { sourceSettings } from '../model/source-settings.js';
import { alertsBody } from '../publish/webhook.js';
import { fetchHistory, sourceHealthWithPace } from '../store/sources.js';
import { ingestContext } from '../worker/context.js';
import { reloadArticles } from '../worker/reload.js';
import { deliverWebhooks, postToWebhook, WebhookFailure } from '../worker/webhooks.js';
import { CONFIG_OPTION, cliProgress, defineCommand, displayPath, type OptionValues, positiveInteger, UsageError, withApp } from './command.js';
import { fetchFailure, PRIVATE_NETWORK_HINT } from './pages.js';
import { formatDiscovery, formatReload, formatSourceDetail, formatSourceTable } from './report.js';

const options = {
  ...CONFIG_OPTION,
  json: { type: 'boolean' },
  pick: { type: 'string', default: '1' },
  id: { type: 'string' },
  title: { type: 'string' },
  into: { type: 'string' },
  'allow-private-network': { type: 'boolean' },
  'full-text': { type: 'boolean' },
  username: { type: 'string' },
  'password-env': { type: 'string' },
  header: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  limit: { type: 'string', default: '20' },
  all: { type: 'boolean' },
} as const;

/** The most items one reload reads: a page each, under the per-host limit. */
const MAX_RELOAD_ITEMS = 1_000;
const WEBHOOK_BUDGET_MS = 30_000;

/** `--username` and `--password-env` as the config keeps them: the password as a `${NAME}` reference, never the secret. */
function loginOption(values: OptionValues<typeof options>): { username: string; password: string } | undefined {
  const { username, 'password-env': passwordEnv } = values;
  if (username === undefined && passwordEnv === undefined) return undefined;
  if (username === undefined || passwordEnv === undefined) {
    throw new UsageError('give --username and --password-env together (the password is read from that environment variable and written as a reference to it)');
  }
  if (!BASIC_USERNAME.test(username)) throw new UsageError('--username must be one line without ":"');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(passwordEnv)) throw new UsageError(`--password-env takes the name of an environment variable, not "${passwordEnv}"`);
  if (process.env[passwordEnv] === undefined) throw new UsageError(`the environment variable ${passwordEnv} is not set`);
  return { username, password: `\${${passwordEnv}}` };
}

/** `--header 'Name: value'` options as the config's `headers` (the value as written: `${NAME}` references are kept). */
function headerOptions(given: readonly string[] | undefined): Record<string, string> | undefined {
  if (!given?.length) return undefined;
  const headers: Record<string, string> = {};
  for (const option of given) {
    const colon = option.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header takes "Name: value", not "${option}"`);
    headers[option.slice(0, colon).trim()] = option.slice(colon + 1).trim();
  }
  return headers;
}

/** The option a problem of the written credentials comes from. */
const optionOf = (path: readonly PropertyKey[]) =>
  path[0] === 'headers' ? `--header ${String(path[1] ?? '')}`.trimEnd() : path[0] === 'password' ? '--password-env' : '--username';

/**
 * `--username`/`--password-env` and `--header`: what the config keeps of them, checked as the config checks them, and
 * the headers discovery sends the site, made as a source's are.
 */
function siteAccess(values: OptionValues<typeof options>, url: string): { credentials: SourceCredentials; written: NewSource } | undefined {
  const login = loginOption(values);
  const headers = headerOptions(values.header);
  if (!login && !headers) return undefined;
  const written: NewSource = { url, ...login, ...(headers ? { headers } : {}) };
  const checked = sourceSchema.safeParse(sourceEntry(written, 'added'));
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UsageError(`${optionOf(issue.path)}: ${issue.message}`);
  }
  return { credentials: withCredentials(checked.data, url).credentials!, written };
}

export const sources = defineCommand({
  summary:
    'list sources with their health; "sources show ID" shows one with its fetch history; "sources test-alert" tries worker.alerts; "sources add URL" finds the feed of a site and adds it as a source; "sources reload ID" reads the pages of its stored items again by its fullText rules; "sources pause ID" and "sources resume ID" stop and restart its fetching',
  usage:
    'sources [--json] | sources show ID [--limit N] [--json] | sources test-alert | sources add URL [--pick N] [--id ID] [--title TEXT] [--into YAML] [--allow-private-network] [--full-text] [--username NAME --password-env VAR] [--header "NAME: VALUE"]... [--dry-run] [--json] | sources reload ID [--limit N] [--all] [--dry-run] [--json] | sources pause ID | sources resume ID [--config DIR]',
  options,
  positionals: true,
  async run(values, positionals) {
    const [action, argument, ...extra] = positionals;
    if (action === 'add' && argument && extra.length === 0) return addDiscoveredSource(values, argument);
    if (action === 'reload' && argument && extra.length === 0) return reloadSource(values, argument);
    if (action === 'show' && argument && extra.length === 0) return showSource(values, argument);
    if (action === 'test-alert' && argument === undefined) return testAlert(values);
    if ((action === 'pause' || action === 'resume') && argument && extra.length === 0) {
      // A running worker reloads the edited file and stops (or starts again) fetching the source.
      const { file, changed } = pauseSourceInConfig(values.config, argument, action === 'pause');
      const state = action === 'pause' ? 'paused' : 'resumed';
      console.log(
        changed ? `${state} ${argument} (${displayPath(file)})` : `${argument} is already ${action === 'pause' ? 'paused' : 'fetched'} (${displayPath(file)})`,
      );
      return 0;
    }
    if (action !== undefined)
      throw new UsageError(
        'use "sources" to list them, "sources show ID" for one with its fetch history, "sources add URL" to add one, "sources reload ID" to read its pages again, "sources pause ID" / "sources resume ID", or "sources test-alert"',
      );
    return withApp(values.config, async (app) => {
      const rows = await configuredRows(app, app.config.sources);
      console.log(values.json ? JSON.stringify(rows.map(rowJson), null, 2) : formatSourceTable(rows, new Date()));
      return 0;
    });
  },
});

/** The health of `sources` (configured ones), each with what it reads, whether it is paused, its pace, and whether it is quiet. */
async function configuredRows(app: App, sources: readonly Source[]) {
  const health = await sourceHealthWithPace(
    app.database.db,
    sources.map((source) => source.id),
  );
  return withQuiet(withReads(health, sources), sources);
}

/** A row as `--json` gives it: its quiet figures as /sources.json gives them. */
const rowJson = <T extends { quiet?: Quiet }>(row: T) => ({ ...row, quiet: row.quiet ? quietJson(row.quiet) : null });

/**
 * `sources test-alert`: sends worker.alerts a sample change now, as event "test", to try the webhook before a source
 * fails. Needs no database; exit 1 if the webhook did not take it.
 */
async function testAlert(values: OptionValues<typeof options>): Promise<number> {
  const config = loadConfig(values.config);
  const webhook = config.worker.alerts;
  if (!webhook) throw new UsageError('the config has no worker.alerts: give it a webhook to try (docs/operations.md, "Source alerts")');
  const publicUrl = config.publish.publicUrl!;
  const sample: Alert = {
    about: 'Wirefeed',
    text: 'Test: sources that fail, go quiet or go, and webhooks that drop stories, will be said here (wirefeed sources test-alert)',
    url: `${publicUrl}/sources`,
    key: 'test',
  };
  const http = new HttpClient({ perHost: config.fetch.perHost });
  try {
    const at = new Date();
    const message = alertsBody(publicUrl, webhook, [sample], at, 'test');
    const { status, ms } = await postToWebhook(http, webhook, message, { id: `source-alerts-test-${at.getTime()}` });
    console.log(`worker.alerts took a test alert: HTTP ${status} in ${ms} ms`);
    return 0;
  } catch (error) {
    if (!(error instanceof WebhookFailure)) throw error;
    console.error(`worker.alerts did not take the test alert: ${error.message}`);
    return 1;
  } finally {
    await http.close();
  }
}

/** The most fetch attempts `sources show` lists. */
const MAX_SHOWN_FETCHES = 1_000;

/**
 * `sources show ID`: one configured source's state (as the sources page says it, with its pace and what it reads) and
 * its newest fetch attempts from the fetch log (20 by default, `--limit`).
 */
async function showSource(values: OptionValues<typeof options>, id: string): Promise<number> {
  const limit = Math.min(positiveInteger('limit', values.limit), MAX_SHOWN_FETCHES);
  return withApp(values.config, async (app) => {
    const source = app.config.sources.find((candidate) => candidate.id === id);
    if (!source) throw new UsageError(`no source with id "${id}" in ${displayPath(app.config.dir)}`);
    const [row] = await configuredRows(app, [source]);
    const attempts = await fetchHistory(app.database.db, id, limit);
    // Not fetched yet: the worker (or ingest --once) has not written its row.
    if (!row) console.log(values.json ? terminalJson({ source: null, fetches: [] }) : `${id}: not fetched yet`);
    else if (values.json) console.log(terminalJson({ source: rowJson(row), fetches: attempts }));
    else console.log(terminalText(formatSourceDetail(row, attempts, new Date(), sourceSettings(source, app.config.retention))));
    return 0;
  });
}

/**
 * `sources add URL`: finds the feed (the URL itself, the page's <link rel="alternate">, or a common path), shows
 * what it found, and appends the chosen one to the config. Exit 1 when nothing is found or nothing could be added.
 */
async function addDiscoveredSource(values: OptionValues<typeof options>, url: string): Promise<number> {
  const config = loadConfig(values.config);
  if (!/^https?:\/\//i.test(url)) throw new UsageError(`"${url}" is not an http(s) URL`);
  const pick = positiveInteger('pick', values.pick);
  const allowPrivateNetwork = values['allow-private-network'] === true;
  const login = siteAccess(values, url);
  const http = new HttpClient({ perHost: config.fetch.perHost });
  let discovery: Discovery;
  try {
    const network = allowPrivateNetwork ? ({ kind: 'any' } as const) : ({ kind: 'public-only' } as const);
    discovery = await discoverFeeds(url, {
      http,
      network,
      limits: config.fetch,
      ...(login ? { credentials: login.credentials } : {}),
      ...(config.fetch.proxy ? { proxy: config.fetch.proxy } : {}),
    });
  } catch (error) {
    throw fetchFailure(error, url, (failure) =>
      failure.kind === 'refused' && !allowPrivateNetwork
        ? PRIVATE_NETWORK_HINT
        : failure.status === 401 && !login
          ? '; the site asks for a login: give --username and --password-env (or --header for its API key)'
          : '',
    );
  } finally {
    await http.close();
  }
  const chosen = discovery.feeds[pick - 1];
  if (discovery.feeds.length > 0 && !chosen) throw new UsageError(`--pick must be between 1 and ${discovery.feeds.length}, not "${values.pick}"`);
  // Only the ranges this feed's host is in, not every private address.
  const privateRanges = chosen && allowPrivateNetwork ? await nonPublicRangesFor(chosen.url) : [];
  const added =
    chosen && !values['dry-run']
      ? addSourcesToConfig(
          values.config,
          [
            {
              url: chosen.url,
              title: values.title ?? chosen.title,
              id: values.id,
              allowPrivateNetwork: privateRanges,
              fullText: values['full-text'] === true,
              ...(login ? { username: login.written.username, password: login.written.password, headers: login.written.headers } : {}),
            },
          ],
          values.into,
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

/**
 * `sources reload ID`: reads the pages of the source's newest stored items again by its `fullText` rules and revises
 * the items whose article takes the place of their text; then delivers what the topics' webhooks gained. Exit 2 if a
 * page could not be fetched.
 */
async function reloadSource(values: OptionValues<typeof options>, id: string): Promise<number> {
  const limit = positiveInteger('limit', values.limit);
  if (limit > MAX_RELOAD_ITEMS) throw new UsageError(`--limit must be at most ${MAX_RELOAD_ITEMS}, not "${values.limit}"`);
  return withApp(values.config, async (app) => {
    const source = app.config.sources.find((candidate) => candidate.id === id);
    if (!source) throw new UsageError(`no source with id "${id}"`);
    if (!source.fullText) throw new UsageError(`source "${id}" does not read full text: set fullText: true (or its select and remove rules) on it first`);
    const report = await reloadArticles(ingestContext(app), source, {
      limit,
      all: values.all === true,
      dryRun: values['dry-run'] === true,
      progress: cliProgress,
    });
    if (!report.dryRun) await deliverWebhooks(app, AbortSignal.timeout(WEBHOOK_BUDGET_MS));
    // Titles, links and errors are outside input: none of their characters may move the terminal's cursor.
    console.log(values.json ? terminalJson(report) : terminalText(formatReload(report)));
    return report.counts.failed > 0 ? 2 : 0;
  });
}
