import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { connectUrl, type DatabaseHandle, openMigratedDatabase } from '../../src/db/client.js';

/**
 * The database a storage test runs on: a throwaway database per test file on the server at WIREFEED_TEST_POSTGRES
 * (an admin URL such as postgres://postgres@127.0.0.1:5432/postgres), which tests/global-setup.ts points at an
 * embedded server when it is not set. `.ci/run` runs the suite both ways.
 */
export interface TestDatabase {
  handle: DatabaseHandle;
  /** Its postgres:// URL, for a child process (the CLI) to open it too. */
  url: string;
  /** What the suite runs on: the embedded server, or a PostgreSQL server. */
  engine: TestEngine;
  /** Empties every table, keeping the schema. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const TABLES = ['webhook_deliveries', 'fetch_log', 'topic_stories', 'item_bands', 'items', 'stories', 'topics', 'sources'];

/** A new, empty database on the Postgres server at `adminUrl`; `drop` removes it (and ends its connections). */
export async function createThrowawayDatabase(adminUrl: string, prefix = 'wirefeed_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = await connectUrl(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const cleanup = await connectUrl(adminUrl, { max: 1 });
      await cleanup.unsafe(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

export type TestEngine = 'embedded' | 'postgres';
export const testEngine = (): TestEngine => (process.env.WIREFEED_TEST_ENGINE === 'postgres' ? 'postgres' : 'embedded');

/** The admin URL of the server the suite runs on (set by tests/global-setup.ts). */
export const testServerUrl = (): string => process.env.WIREFEED_TEST_POSTGRES!;

export async function openTestDatabase(): Promise<TestDatabase> {
  const throwaway = await createThrowawayDatabase(testServerUrl());
  const handle = await openMigratedDatabase({ url: throwaway.url });
  return {
    handle,
    url: throwaway.url,
    engine: testEngine(),
    reset: async () => {
      await handle.db.execute(sql.raw(`truncate ${TABLES.join(', ')} restart identity cascade`));
    },
    close: async () => {
      await handle.close();
      await throwaway.drop();
    },
  };
}

/**
 * One test database for the whole test file, emptied before each test; returns a getter for it. Creating a database
 * costs a second, emptying it milliseconds.
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
