import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { openMigratedDatabase, type DatabaseHandle } from '../../src/db/client.js';

/**
 * The database a storage test runs on. With WIREFEED_TEST_POSTGRES (an admin URL such as
 * postgres://postgres@127.0.0.1:5432/postgres) each test file gets a throwaway database on that server;
 * without it, an in-memory PGlite. `.ci/run` runs the suite both ways.
 */
export interface TestDatabase {
  handle: DatabaseHandle;
  engine: 'postgres' | 'pglite';
  /** Empties every table, keeping the schema. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const TABLES = ['fetch_log', 'topic_stories', 'item_bands', 'items', 'stories', 'topics', 'sources'];

/** A new, empty database on the Postgres server at `adminUrl`; `drop` removes it (and ends its connections). */
export async function createThrowawayDatabase(adminUrl: string, prefix = 'wirefeed_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.WIREFEED_TEST_POSTGRES;
  let dropDatabase = async () => {};
  let handle: DatabaseHandle;
  if (adminUrl) {
    const throwaway = await createThrowawayDatabase(adminUrl);
    handle = await openMigratedDatabase({ url: throwaway.url });
    dropDatabase = throwaway.drop;
  } else {
    handle = await openMigratedDatabase({ dataDir: 'memory://' });
  }
  return {
    handle,
    engine: handle.engine,
    reset: async () => {
      await handle.db.execute(sql.raw(`truncate ${TABLES.join(', ')} restart identity cascade`));
    },
    close: async () => {
      await handle.close();
      await dropDatabase();
    },
  };
}

/**
 * One test database for the whole test file, emptied before each test; returns a getter for it. Opening a database
 * costs seconds (PGlite's initdb, or CREATE DATABASE), emptying it milliseconds.
 */
export function useTestDatabase(): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await database!.reset();
  });
  return () => database!;
}
