#!/usr/bin/env node
/** The command line: finds the command, parses its options, prints help, and turns errors into messages and exit codes. */
import { parseArgs } from 'node:util';
import type { Command } from './commands/command.js';
import { userMessage } from './commands/errors.js';
import { COMMANDS } from './commands/index.js';
import { ConfigError } from './config/load.js';
import { log, logLevelChosen } from './log.js';

/** Options every command takes besides its own. */
const COMMON_OPTIONS = { help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } } as const;

const ENVIRONMENT_HELP = `Environment:
  DATABASE_URL  postgres://… to use a PostgreSQL server; unset: the embedded PostgreSQL in DATA_DIR
  DATA_DIR      where the embedded PostgreSQL keeps its files and socket (default ./data)
  PORT, HOST    where the feed server listens (default 8080, 0.0.0.0)
  PUBLIC_URL    base URL used in feed links (default: from the request's Host header)
  LOG_LEVEL     pino level (default info; "silent" mutes the log on stderr)
  LOG_FORMAT    json or pretty (default: pretty on a terminal, else one JSON object per line)
  SHUTDOWN_GRACE_SECONDS  how long in-flight fetches may finish after SIGTERM/SIGINT (default 10)
  METRICS_PORT  makes "worker" listen there for /healthz, /readyz and /metrics (default: a worker does not listen)`;

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
  const common = ['  --debug  print the stack trace of an unexpected error', '  --help'];
  return `Usage: wirefeed ${command.usage}\n\n${command.summary}\n\nOptions:\n${[...options, ...common].join('\n')}\n\n${ENVIRONMENT_HELP}\n`;
}

export async function main(argv: string[]): Promise<number | 'running'> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 1;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`wirefeed: unknown command "${name}"\n\n${mainHelp()}`);
    return 1;
  }
  const debug = rest.includes('--debug') || log.level === 'debug' || log.level === 'trace';
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...command.options, ...COMMON_OPTIONS },
      strict: true,
      allowPositionals: command.positionals ?? false,
    });
    if (values.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    if (!command.service && !logLevelChosen) log.level = command.reportsWarnings ? 'error' : 'warn';
    const { debug: _debug, help: _help, ...own } = values;
    return await command.run(own, positionals);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nconfig has ${error.problems.length} problem(s); nothing started\n`);
      return 1;
    }
    process.stderr.write(`wirefeed ${name}: ${userMessage(error, debug)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code !== 'running') process.exitCode = code;
