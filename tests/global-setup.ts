/**
 * Without WIREFEED_TEST_POSTGRES, the suite runs on the embedded PostgreSQL: one server for the whole run, in a
 * temporary data folder, each test file in a throwaway database on it (as on a real server). `.ci/run` runs the
 * suite both ways.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedServer } from '../src/db/embedded.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.WIREFEED_TEST_POSTGRES) {
    process.env.WIREFEED_TEST_ENGINE = 'postgres';
    return undefined;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'wf-test-'));
  const server = embeddedServer(dataDir);
  (await server.connect()).destroy();
  // Test files (forked after this runs) inherit these.
  process.env.WIREFEED_TEST_POSTGRES = `postgres://postgres@localhost/postgres?host=${encodeURIComponent(dataDir)}`;
  process.env.WIREFEED_TEST_ENGINE = 'embedded';
  return async () => {
    await server.stopIfUnused(async () => 0);
    rmSync(dataDir, { recursive: true, force: true });
  };
}
