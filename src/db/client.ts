import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SQL, sql } from 'drizzle-orm';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Options, PostgresType, Sql } from 'postgres';
import { log } from '../log.js';
import { type EmbeddedServer, embeddedServer } from './embedded.js';
import { importPgliteFolder } from './pglite-import.js';
import * as schema from './schema.js';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Runs raw SQL and returns its rows (postgres.js answers a statement with the array of its rows). */
export async function rowsOf<T extends Record<string, unknown>>(db: Database, query: SQL): Promise<T[]> {
  return (await db.execute(query)) as unknown as T[];
}

const dialect = new PgDialect();

/**
 * Runs a statement whose text never varies as a prepared statement, for the ones the store step runs on every batch.
 * postgres.js describes an unprepared statement before it binds the parameters: two round trips, and the second
 * waits for its turn of an event loop busy parsing feeds. A prepared one is described once per connection (postgres.js
 * names and caches it by its text; a text that varied would fill that cache). The server still plans each execution
 * for its parameters: connections ask for custom plans, see `client`.
 */
export async function preparedRows<T extends Record<string, unknown>>(db: Database, query: SQL): Promise<T[]> {
  // drizzle prepares a query that has a name; postgres.js chooses the statement's own.
  return (await db._.session.prepareQuery(dialect.sqlToQuery(query), undefined, 'wirefeed', false).execute()) as T[];
}

/** The postgres.js connection (or transaction) under a drizzle handle: drizzle's postgres-js session keeps it. */
function driverOf(db: Database): Sql {
  const client = (db._.session as unknown as { client?: Sql }).client;
  if (typeof client?.unsafe !== 'function') throw new Error('pipelined statements need a postgres.js session');
  return client;
}

/**
 * Runs statements one after another on the handle's connection without waiting for each answer (pipelined): the
 * server runs them in this order, each seeing what the earlier ones wrote, and the caller waits for one turn of the
 * event loop for all of them instead of one each (on the store step's path, a turn can wait behind a parse slice).
 * Prepared, as preparedRows. Rows of each statement, in order; the first failure fails all (in a transaction, the
 * later ones fail as aborted).
 */
export async function pipelinedRows(db: Database, queries: readonly SQL[]): Promise<Array<Array<Record<string, unknown>>>> {
  const driver = driverOf(db);
  // execute() queues each statement on the connection now, in this order (awaiting alone would queue it later).
  const pending = queries.map((query) => {
    const { sql: text, params } = dialect.sqlToQuery(query);
    return driver.unsafe(text, params as never[], { prepare: true }).execute();
  });
  return (await Promise.all(pending)) as unknown as Array<Array<Record<string, unknown>>>;
}

/**
 * Rows as one JSON parameter, expanded by json_to_recordset: one short statement for any number of rows, for rows of
 * a few small fields (fetch records); a batch's megabyte of items goes as columnArrays, which the server reads faster.
 * json, not jsonb: its input only checks the text, which json_to_recordset then reads once.
 */
export const jsonRows = (rows: readonly object[]) => sql`${JSON.stringify(rows)}::json`;

/**
 * A Postgres array literal ('{"a","b"}') sent as one text parameter and cast by the statement: a whole column of
 * values in one bind parameter, for unnest() and = any(). Null is SQL NULL.
 */
export function arrayLiteral(values: ReadonlyArray<string | number | null>): string {
  if (values.length === 0) return '{}';
  // Most columns (keys, hashes, bands, ids) have no character to escape and no null: one join, not a string per value.
  const plain = (value: string | number | null) => typeof value === 'number' || (value !== null && !value.includes('"') && !value.includes('\\'));
  if (values.every(plain)) return `{"${values.join('","')}"}`;
  return `{${values.map((value) => (value === null ? 'NULL' : plain(value) ? `"${value}"` : `"${String(value).replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
}

/** A text[] parameter (see arrayLiteral). */
export const textArray = (values: readonly string[]) => sql`${arrayLiteral(values)}::text[]`;

/** What columnArrays sends: text, numbers and booleans, and arrays of text or numbers (a jsonb column's value as its JSON text). */
export type ColumnValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>;

/** A value as one element of a text[] column: an array as its own literal, null as SQL NULL. */
function columnText(value: ColumnValue): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') return arrayLiteral(value);
  return String(value);
}

/**
 * Rows as one text[] parameter per column, for `unnest(…) as r(columns)`, each value cast by the statement where its
 * column is not text. On a batch's megabyte of items, Postgres reads these arrays several times faster than
 * json_to_recordset reads the same rows as JSON (which copies every field of every object before it picks columns).
 */
export function columnArrays(rows: ReadonlyArray<Record<string, ColumnValue>>, columns: readonly string[]): SQL {
  return sql.join(
    columns.map((column) => sql`${arrayLiteral(rows.map((row) => columnText(row[column])))}::text[]`),
    sql`, `,
  );
}

export interface DatabaseHandle {
  db: Database;
  /** `embedded`: the PostgreSQL server Wirefeed keeps in its data folder; `postgres`: a server at DATABASE_URL. */
  engine: 'postgres' | 'embedded';
  /** Runs raw SQL and returns its rows. */
  rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded PostgreSQL in dataDir is used. */
  url?: string;
  dataDir?: string;
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/** Where postgres.js connects: a URL, or the embedded server's socket (starting the server when none runs). */
type Target = { url: string } | { server: EmbeddedServer };

const targetOf = (options: DatabaseOptions): Target => (options.url ? { url: options.url } : { server: embeddedServer(options.dataDir ?? './data') });

/**
 * A postgres.js client for a URL. A Unix-socket folder in `?host=` (libpq's way: postgres://user@/db?host=/run/pg)
 * is passed as postgres.js's `host` option, which it would otherwise send to the server as a setting.
 */
export async function connectUrl(url: string, options: Options<Record<string, PostgresType>> = {}) {
  const { default: postgres } = await import('postgres');
  const parsed = new URL(url);
  const socketDir = parsed.searchParams.get('host');
  parsed.searchParams.delete('host');
  return postgres(parsed.href, { onnotice: () => {}, ...(socketDir ? { host: socketDir } : {}), ...options });
}

async function client(target: Target, options: Options<Record<string, PostgresType>>) {
  const { default: postgres } = await import('postgres');
  // A prepared statement's plan is made for the parameters of each execution, as an unprepared one's: a generic plan
  // would be made for arrays of a guessed size. No JIT: our statements are short, and a plan whose estimate crosses
  // jit_above_cost (a join of unnested arrays guessed at twenty times its rows) spent 20 ms compiling a 70 ms query.
  const common = { onnotice: () => {}, connection: { plan_cache_mode: 'force_custom_plan', jit: 'off' }, ...options };
  if ('url' in target) return connectUrl(target.url, common);
  const { server } = target;
  // postgres.js's `socket` option (a connected socket per connection) is missing from its type declarations.
  const viaServer = { socket: () => server.connect() } as Options<Record<string, PostgresType>>;
  return postgres({ host: server.socketDir, port: server.port, user: 'postgres', database: 'postgres', ...viaServer, ...common });
}

/** The application name of the connection a leaving process asks with (see otherClients). */
export const LEAVING = 'wirefeed: leaving';

/**
 * Client connections to the embedded server other than those of processes leaving it: whether it is still in use.
 * Two processes leaving at once see each other's asking connection; counted, each would leave the server to the
 * other and it would run on unused. A leaving process has closed its pool and released its claim already.
 */
export async function otherClients(server: EmbeddedServer): Promise<number> {
  const { default: postgres } = await import('postgres');
  // A plain socket connection, not server.connect(): asking must never start the server again.
  const probe = postgres({
    host: server.socketDir,
    port: server.port,
    user: 'postgres',
    database: 'postgres',
    max: 1,
    onnotice: () => {},
    connect_timeout: 5,
    connection: { application_name: LEAVING },
  });
  try {
    const [row] = await probe<Array<{ others: number }>>`
      select count(*)::int as others from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid() and application_name is distinct from ${LEAVING}`;
    return row?.others ?? 0;
  } catch {
    return 1; // not reachable: stopping or stopped by someone else
  } finally {
    await probe.end({ timeout: 5 });
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const target = targetOf(options);
  const { drizzle } = await import('drizzle-orm/postgres-js');
  // postgres.js waits up to 20 s before reconnecting a pooled connection after a few failures; our ticks and
  // start-up retries already pace the attempts, so cap its own wait at 2 s to recover soon after an outage. A
  // connection attempt that hangs (a half-open network) gives up after 10 s instead of 30 s.
  const release = 'server' in target ? target.server.claim() : () => {};
  const pool = await client(target, { max: 10, connect_timeout: 10, backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 2) });
  const db = drizzle(pool, { schema }) as unknown as Database;
  return {
    db,
    engine: 'url' in target ? 'postgres' : 'embedded',
    rows: (query) => rowsOf(db, query),
    close: async () => {
      await pool.end({ timeout: 5 });
      release();
      // The last process to leave stops the embedded server; the next to come starts it again.
      if ('server' in target) await target.server.stopIfUnused(() => otherClients(target.server));
    },
  };
}

/** Any number that no other application uses with pg_advisory_lock on the same database. */
const MIGRATION_LOCK = 0x77697265; // "wire"

/**
 * Applies the migrations while holding a session advisory lock on a connection of its own, so processes starting
 * together (several workers, a rolling upgrade, two commands on one data folder) take turns instead of racing to
 * create the same tables; the later ones find nothing left to do.
 */
async function migrateExclusively(target: Target): Promise<void> {
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const release = 'server' in target ? target.server.claim() : () => {};
  const connection = await client(target, { max: 1 });
  try {
    await connection`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(drizzle(connection), { migrationsFolder: MIGRATIONS_FOLDER });
    if ('server' in target) {
      const copied = await importPgliteFolder(target.server.dataDir, connection);
      if (copied) log.info({ dataDir: target.server.dataDir, ...copied }, 'imported the PGlite store of an earlier Wirefeed');
    }
  } finally {
    await connection.end({ timeout: 5 }); // ending the session releases the lock
    release();
  }
}

/** Opens the database after applying the committed drizzle-kit migrations; safe on every start. */
export async function openMigratedDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  await migrateExclusively(targetOf(options));
  return openDatabase(options);
}

/**
 * A migrated embedded database in a fresh temporary folder, removed again on close: for benchmarks and checks that
 * need a store of their own and no DATABASE_URL.
 */
export async function openScratchDatabase(): Promise<DatabaseHandle> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-scratch-'));
  const handle = await openMigratedDatabase({ dataDir });
  return {
    ...handle,
    close: async () => {
      await handle.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function databaseOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseOptions {
  return env.DATABASE_URL ? { url: env.DATABASE_URL } : { dataDir: env.DATA_DIR ?? './data' };
}

const DEADLINE_CODE = 'DATABASE_DEADLINE';

/**
 * Stops waiting for database work after `ms`, failing as an outage. postgres.js can leave a transaction's next query
 * pending forever when the transaction's connection closes (porsager/postgres#1186; seen here when the fault test
 * cut the connection mid-ingest), which would otherwise wedge a worker. The work itself is not cancelled: if it was
 * only slow and commits later, the next fetch finds its items stored.
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => {}); // a failure after the deadline has no one left to hear it
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} did not finish within ${ms / 1000}s`), { code: DEADLINE_CODE })), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Socket errors and postgres.js connection codes: the server is unreachable or went away. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ENOENT', // the embedded server's socket is gone (it is stopping, or stopped)
  'EMBEDDED_STORE_START', // the embedded server did not come up in time
  DEADLINE_CODE,
]);

/**
 * The server's own error behind drizzle's "Failed query: <statement> params: <every parameter>" wrapper: what a log
 * line or a source's last error should say (a batch's parameters run to megabytes).
 */
export function serverError(error: unknown): Error {
  const cause = (error as { cause?: unknown })?.cause;
  if (error instanceof Error && error.message.startsWith('Failed query:') && cause instanceof Error) return cause;
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * True when an error (or anything in its `cause` chain; drizzle wraps driver errors) means the database could not be
 * reached, rather than that a statement was wrong: connection failures, SQLSTATE class 08 (connection exception),
 * 57P01-57P03 (shut down, crashed, starting up) and 53300 (too many connections). Such errors are our outage, not
 * a source's fault, and worth retrying.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300') return true;
  }
  return false;
}
