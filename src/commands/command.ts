/** What every command is made of, and the helpers the one-shot commands share. */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import type { ParseArgsConfig, parseArgs } from 'node:util';
import { type App, openApp } from '../app.js';
import { UserError } from '../model/errors.js';
import type { ProgressFactory } from '../model/progress.js';
import { startProgress } from './progress.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** The parsed values of a command's options, typed from their specs (a string option with a default is a string). */
export type OptionValues<O extends OptionSpecs> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>>['values'];

export interface Command<O extends OptionSpecs = OptionSpecs> {
  summary: string;
  usage: string;
  options: O;
  /** Accepts positional arguments after the command name. */
  positionals?: boolean;
  /** A long-running service: logs at info by default; one-shot commands log only warnings unless LOG_LEVEL says. */
  service?: boolean;
  /** A one-shot command whose own output reports what the log would (ingest lists every failure): logs only errors. */
  reportsWarnings?: boolean;
  run(values: OptionValues<O>, positionals: string[]): Promise<number | 'running'>;
}

/** Keeps the option types of a command literal, so `run` sees typed values. */
export const defineCommand = <const O extends OptionSpecs>(command: Command<O>): Command<O> => command;

/** A mistake on the command line: printed as one line, exit code 1. */
export class UsageError extends UserError {}

export const CONFIG_OPTION = { config: { type: 'string', short: 'c', default: 'feeds' } } as const;

/** Progress of the one-shot commands' long steps, on stderr: stdout stays for results (and --json). */
export const cliProgress: ProgressFactory = (label, total, unit) => startProgress(label, total, unit);

/** A file as the user would type it: relative to the working directory when inside it, else absolute. */
export function displayPath(file: string): string {
  const inside = relative(process.cwd(), file);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

/** Opens the app for a one-shot command and always closes it (with its pooled HTTP connections). */
export async function withApp<T>(configDir: string, use: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp({ configDir, progress: cliProgress });
  try {
    return await use(app);
  } finally {
    await app.close();
  }
}

/** A positive whole number given as an option, or a UsageError naming it. */
export function positiveInteger(option: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${option} must be a positive whole number, not "${text}"`);
  return value;
}

/** Reads a file the user named; a failure carries the path, so the one-line message names it (EISDIR has none). */
export function readUserFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw Object.assign(error as NodeJS.ErrnoException, { path });
  }
}
