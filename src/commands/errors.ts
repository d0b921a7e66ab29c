import { isDatabaseUnavailable } from '../db/client.js';
import { EmbeddedStoreError } from '../db/embedded.js';
import { log } from '../log.js';
import { UserError } from '../model/errors.js';

/**
 * One line for a mistake the user can fix (a wrong option, a missing or unreadable file, a database that cannot be
 * reached), naming what is wrong; the stack trace only with --debug (or LOG_LEVEL=debug) for anything else.
 */
export function userMessage(error: unknown, debug: boolean): string {
  const failure = error as NodeJS.ErrnoException;
  if (error instanceof UserError || error instanceof EmbeddedStoreError || failure.code?.startsWith('ERR_PARSE_ARGS')) return failure.message;
  const fileProblem = failure.path && failure.code ? FILE_PROBLEMS[failure.code] : undefined;
  if (fileProblem) return `${failure.path}: ${fileProblem}`;
  if (isDatabaseUnavailable(error)) {
    return `cannot reach the database (${failure.message.split('\n')[0]}); check DATABASE_URL, or unset it to use the embedded store`;
  }
  if (debug) return (error as Error).stack ?? String(error);
  return `${(error as Error).message ?? String(error)} (an unexpected error: run again with --debug for the stack trace)`;
}

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of this path is not a folder',
  EROFS: 'on a read-only file system',
  ENOSPC: 'no space left on the device',
};

/** Whether the error was raised inside the database driver's own code (postgres.js). */
const thrownByDriver = (error: Error) => /node_modules[\\/]postgres[\\/]/.test(error.stack ?? '');

/**
 * A rejection no one was waiting for that the database driver made: postgres.js runs an internal query on every new
 * connection (the array types) and drops its promise, so when that query fails (the connection was reset, the server
 * stopped or cancelled it) the failure reaches no caller (porsager/postgres#1192, #1223). Those, and lost-connection
 * errors, say nothing about our own work, which fails or succeeds on its own.
 */
export function isDriverRejection(reason: unknown): boolean {
  return reason instanceof Error && (thrownByDriver(reason) || isDatabaseUnavailable(reason));
}

/**
 * Keeps every command running through a driver's unheard rejection (logged); any other unhandled rejection still
 * ends the process, as Node's default does.
 */
export function surviveDriverRejections(): void {
  process.on('unhandledRejection', (reason) => {
    if (!isDriverRejection(reason)) throw reason;
    const failure = reason as NodeJS.ErrnoException;
    log.warn({ error: failure.message.split('\n')[0], code: failure.code }, 'database driver lost an internal query; continuing');
  });
}

/**
 * postgres.js can throw from inside a timer when a connection drops with writes pending ("Cannot read properties of
 * null (reading 'write')" in its connection.js, seen in the outage test): that connection is gone and the pool opens
 * another, so a service logs it and keeps running. Any other uncaught exception still ends the process.
 */
export function surviveDriverCrashes(): void {
  process.on('uncaughtException', (error) => {
    if (thrownByDriver(error)) {
      log.error({ error: error.message }, 'database driver failed after a lost connection; continuing');
      return;
    }
    log.fatal({ error: error.stack ?? String(error) }, 'uncaught exception');
    process.exit(1);
  });
}
