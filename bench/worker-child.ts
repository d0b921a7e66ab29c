/**
 * Child process of the workers benchmark: opens the app on the shared store, says "ready", and on "go" runs the real
 * worker (claims with leases, fetches, stores) until no source is due any more; then prints what it fetched.
 */
import { createInterface } from 'node:readline';
import { sql } from 'drizzle-orm';
import { openApp } from '../src/app.js';
import { openMigratedDatabase } from '../src/db/client.js';
import { startWorker } from '../src/worker/scheduler.js';

const [configDir, dataDir] = process.argv.slice(2);
const database = await openMigratedDatabase(process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dataDir: dataDir! });
const app = await openApp({ configDir: configDir!, database });
process.stdout.write('ready\n');
const input = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => input.once('line', () => resolve()));
input.close();

const worker = startWorker(app);
const due = async () => {
  const [row] = await database.rows<{ n: number }>(sql`select count(*)::int as n from sources where next_check_at <= now()`);
  return row?.n ?? 0;
};
while ((await due()) > 0) {
  await worker.tick();
  await new Promise((resolve) => setTimeout(resolve, 20)); // the other worker holds the rest
}
const fetched = (await database.rows<{ n: number }>(sql`select count(*)::int as n from fetch_log`))[0]?.n ?? 0;
await worker.stop(1_000);
await app.close();
await database.close();
process.stdout.write(`${JSON.stringify({ fetched })}\n`);
