import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { SQL } from 'drizzle-orm';
import * as schema from './schema.js';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  engine: 'postgres' | 'pglite';
  /** Runs raw SQL and returns its rows on either driver (PGlite answers {rows}, postgres.js an array). */
  rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded PGlite database under dataDir is used. */
  url?: string;
  dataDir?: string;
}

const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    // postgres.js waits up to 20 s before reconnecting a pooled connection after a few failures; our ticks and
    // start-up retries already pace the attempts, so cap its own wait at 2 s to recover soon after an outage. A
    // connection attempt that hangs (a half-open network) gives up after 10 s instead of 30 s.
    const client = postgres(options.url, { max: 10, onnotice: () => {}, connect_timeout: 10, backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 2) });
    const db = drizzle(client, { schema }) as unknown as Database;
    return {
      db,
      engine: 'postgres',
      rows: async (query) => (await db.execute(query)) as unknown as never,
      close: () => client.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const dataDir = options.dataDir ?? './data';
  let client: InstanceType<typeof PGlite>;
  if (dataDir === 'memory://') {
    client = new PGlite();
  } else {
    mkdirSync(dataDir, { recursive: true });
    client = new PGlite(`${dataDir}/pglite`);
  }
  const db = drizzle(client, { schema }) as unknown as Database;
  return {
    db,
    engine: 'pglite',
    rows: async (query) => ((await db.execute(query)) as unknown as { rows: never }).rows,
    close: () => client.close(),
  };
}

/** Any number that no other application uses with pg_advisory_lock on the same database. */
const MIGRATION_LOCK = 0x77697265; // "wire"

/**
 * Applies the migrations of a Postgres database while holding a session advisory lock on a connection of its own,
 * so processes starting together (several workers, a rolling upgrade) take turns instead of racing to create the
 * same tables; the later ones find nothing left to do.
 */
async function migratePostgresExclusively(url: string): Promise<void> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const connection = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await connection`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(drizzle(connection), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await connection.end({ timeout: 5 }); // ending the session releases the lock
  }
}

/** Opens the database after applying the committed drizzle-kit migrations; safe on every start. */
export async function openMigratedDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    await migratePostgresExclusively(options.url);
    return openDatabase(options);
  }
  const handle = await openDatabase(options);
  try {
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    await migrate(handle.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
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
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  DEADLINE_CODE,
]);

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
