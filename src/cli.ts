#!/usr/bin/env node
/** The command line: finds the command, parses its options, prints help, and turns errors into messages and exit codes. */
import { parseArgs } from 'node:util';
import { surviveDriverRejections, userMessage } from './commands/errors.js';
import { commandHelp, mainHelp } from './commands/help.js';
import { COMMANDS } from './commands/index.js';
import { ConfigError } from './config/load.js';
import { log, logLevelChosen } from './log.js';

/** Options every command takes besides its own. */
const COMMON_OPTIONS = { help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } } as const;

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

surviveDriverRejections();
const code = await main(process.argv.slice(2));
if (code !== 'running') process.exitCode = code;
