/** The help texts: every command in one list, and one command's options. */
import type { Command } from './command.js';
import { COMMANDS } from './index.js';

const ENVIRONMENT_HELP = `Environment:
  DATABASE_URL  postgres://… to use a PostgreSQL server; unset: the embedded PostgreSQL in DATA_DIR
  DATA_DIR      where the embedded PostgreSQL keeps its files and socket (default ./data)
  PORT, HOST    where the feed server listens (default 8080, 0.0.0.0)
  PUBLIC_URL    base URL used in feed links (default: from the request's Host header)
  LOG_LEVEL     pino level (default info; "silent" mutes the log on stderr)
  LOG_FORMAT    json or pretty (default: pretty on a terminal, else one JSON object per line)
  SHUTDOWN_GRACE_SECONDS  how long in-flight fetches may finish after SIGTERM/SIGINT (default 10)
  METRICS_PORT  makes "worker" listen there for /healthz, /readyz and /metrics (default: a worker does not listen)
  HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY  the proxies of fetches where no file sets fetch.proxy (as curl reads them)`;

const VALUE_NAMES: Record<string, string> = {
  config: 'DIR',
  source: 'ID',
  topic: 'SLUG',
  limit: 'N',
  days: 'N',
  pick: 'N',
  id: 'ID',
  title: 'TEXT',
  into: 'YAML',
};

export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return `Usage: wirefeed <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "wirefeed <command> --help" for a command's options.\n\n${ENVIRONMENT_HELP}\n`;
}

export function commandHelp(command: Command): string {
  const options = Object.entries(command.options).map(([option, spec]) => {
    const value = spec.type === 'string' ? ` <${VALUE_NAMES[option] ?? option.toUpperCase()}>` : '';
    const fallback = 'default' in spec && spec.default !== undefined ? ` (default ${String(spec.default)})` : '';
    return `  --${option}${value}${fallback}`;
  });
  const common = ['  --debug  print the stack trace of an unexpected error', '  --help'];
  return `Usage: wirefeed ${command.usage}\n\n${command.summary}\n\nOptions:\n${[...options, ...common].join('\n')}\n\n${ENVIRONMENT_HELP}\n`;
}
