/**
 * npm run bench [-- --quick] [-- --only NAME]: the numbers we steer by, each next to a baseline measured in the same
 * run. Real Postgres when DATABASE_URL is set, else the embedded one in a scratch folder. Writes bench/results/latest.json.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { type DatabaseHandle, openMigratedDatabase, openScratchDatabase } from '../src/db/client.js';
import { clusterBench } from './cluster.js';
import { embeddedBench } from './embedded.js';
import { fetchBench } from './fetch.js';
import { type Figure, formatTable } from './figures.js';
import { hostileBench } from './hostile.js';
import { ingestBench } from './ingest.js';
import { matchBench } from './match.js';
import { memoryBench } from './memory.js';
import { patternsBench } from './patterns.js';
import { peerBench } from './peer.js';
import { scaleBench } from './scale.js';
import { serveBench } from './serve.js';
import { workersBench } from './workers.js';

interface Benchmark {
  name: string;
  run(database: DatabaseHandle, quick: boolean, progress: (line: string) => void): Promise<Figure[]>;
}

const BENCHMARKS: Benchmark[] = [
  {
    name: 'ingest',
    run: (database, quick, progress) => ingestBench(database, quick ? 20 : 200, 50, progress),
  },
  {
    name: 'fetch',
    run: (database, quick, progress) => fetchBench(database, quick ? 100 : 1_000, progress),
  },
  {
    // Worker processes of their own on the same store (DATABASE_URL, or an embedded one in a scratch folder).
    name: 'workers',
    run: (_database, quick, progress) => workersBench(quick ? 100 : 1_000, progress),
  },
  {
    // The compiled CLI on a database of its own (on DATABASE_URL's server, else embedded in a scratch folder).
    name: 'peer',
    run: (_database, quick, progress) => peerBench(quick ? 20 : 200, 50, progress),
  },
  {
    name: 'memory',
    run: (_database, quick, progress) => memoryBench(quick ? 100 : 1_000, progress),
  },
  {
    name: 'serve',
    run: (database, quick, progress) => serveBench(database, quick ? 2 : 8, progress),
  },
  {
    name: 'scale',
    // 1M items only on a Postgres server: the embedded store is for one person's.
    run: (database, quick, progress) =>
      scaleBench(
        database,
        quick ? [2_000, 20_000] : database.engine === 'postgres' ? [10_000, 100_000, 1_000_000] : [10_000, 100_000],
        quick ? 50 : 200,
        progress,
      ),
  },
  {
    name: 'match',
    run: async (_database, quick, progress) => matchBench([10, 100, 1_000], quick ? 500 : 3_000, progress),
  },
  {
    // The embedded default as a user meets it; it brings its own data folders, whatever DATABASE_URL says.
    name: 'embedded',
    run: (_database, _quick, progress) => embeddedBench(progress),
  },
  {
    name: 'hostile',
    run: async (_database, quick, progress) => hostileBench([48_000, 1_000_000], quick ? 2 : 5, progress),
  },
  {
    name: 'patterns',
    run: async (_database, _quick, progress) => patternsBench(progress),
  },
  {
    name: 'cluster',
    run: (database, quick, progress) => clusterBench(database, quick ? [1_000, 5_000] : [10_000, 100_000], quick ? 4 : 20, progress),
  },
];

interface BenchmarkRun {
  date: string;
  commit: string;
  engine: string;
  quick: boolean;
  seconds: number;
  figures: Figure[];
}

function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

async function main() {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
  const quick = values.quick ?? false;
  const selected = BENCHMARKS.filter((benchmark) => !values.only || benchmark.name === values.only);
  if (selected.length === 0) throw new Error(`no benchmark named "${values.only}" (have: ${BENCHMARKS.map((benchmark) => benchmark.name).join(', ')})`);
  const url = process.env.DATABASE_URL;
  const database = url ? await openMigratedDatabase({ url }) : await openScratchDatabase();
  const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const runs: Record<string, BenchmarkRun> = {};
  try {
    for (const benchmark of selected) {
      progress(`${benchmark.name}: starting${quick ? ' (quick)' : ''} on ${database.engine}`);
      const started = Date.now();
      const figures = await benchmark.run(database, quick, progress);
      runs[benchmark.name] = {
        date: new Date().toISOString(),
        commit: gitCommit(),
        engine: database.engine,
        quick,
        seconds: Math.round((Date.now() - started) / 1000),
        figures,
      };
    }
  } finally {
    await database.close();
  }
  console.log(formatTable(Object.values(runs).flatMap((run) => run.figures)));

  // One file per size; a run of some benchmarks replaces theirs and keeps the others' last results.
  const file = new URL(`./results/${quick ? 'quick' : 'latest'}.json`, import.meta.url);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { benchmarks?: Record<string, BenchmarkRun> }) : {};
  const report = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    benchmarks: { ...(previous.benchmarks ?? {}), ...runs },
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

await main();
