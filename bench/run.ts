/**
 * npm run bench [-- --quick] [-- --only NAME]: the numbers we steer by, each next to a baseline measured in the same
 * run. Real Postgres when DATABASE_URL is set, else an in-memory PGlite. Writes bench/results/latest.json.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { openMigratedDatabase, type DatabaseHandle } from '../src/db/client.js';
import { clusterBench } from './cluster.js';
import { formatTable, type Figure } from './figures.js';
import { matchBench } from './match.js';
import { scaleBench } from './scale.js';

interface Benchmark {
  name: string;
  run(database: DatabaseHandle, quick: boolean, progress: (line: string) => void): Promise<Figure[]>;
}

const BENCHMARKS: Benchmark[] = [
  {
    name: 'scale',
    // 1M items only on Postgres: the embedded PGlite is for one person's store.
    run: (database, quick, progress) =>
      scaleBench(database, quick ? [2_000, 20_000] : database.engine === 'postgres' ? [10_000, 100_000, 1_000_000] : [10_000, 100_000], quick ? 50 : 200, progress),
  },
  {
    name: 'match',
    run: async (_database, quick, progress) => matchBench([10, 100, 1_000], quick ? 500 : 3_000, progress),
  },
  {
    name: 'cluster',
    run: (database, quick, progress) => clusterBench(database, quick ? [1_000, 5_000] : [10_000, 100_000], quick ? 4 : 20, progress),
  },
];

async function main() {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
  const quick = values.quick ?? false;
  const selected = BENCHMARKS.filter((benchmark) => !values.only || benchmark.name === values.only);
  if (selected.length === 0) throw new Error(`no benchmark named "${values.only}" (have: ${BENCHMARKS.map((benchmark) => benchmark.name).join(', ')})`);
  const url = process.env.DATABASE_URL;
  const database = await openMigratedDatabase(url ? { url } : { dataDir: 'memory://' });
  const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const figures: Figure[] = [];
  const started = Date.now();
  try {
    for (const benchmark of selected) {
      progress(`${benchmark.name}: starting${quick ? ' (quick)' : ''} on ${database.engine}`);
      figures.push(...(await benchmark.run(database, quick, progress)));
    }
  } finally {
    await database.close();
  }
  console.log(formatTable(figures));
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const report = {
    date: new Date().toISOString(),
    commit,
    quick,
    engine: database.engine,
    seconds: Math.round((Date.now() - started) / 1000),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    figures,
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${quick ? 'quick' : 'latest'}.json`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
}

await main();
