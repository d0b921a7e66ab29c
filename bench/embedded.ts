/**
 * The embedded default as a new user meets it, through the compiled CLI (dist/, what `npm start` runs): how soon
 * `run` is ready on a new data folder (initdb included) and on a warm one, what it holds in memory when idle (the
 * Node process and the PostgreSQL server apart), and how long one-shot commands take. Baselines from the same run:
 * a bare `node -e` start, and a bare idle Node process's memory.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Figure } from './figures.js';
import { productNodeFlags } from './node-flags.js';

const execute = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const CONFIG = join(ROOT, 'feeds/demo');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Resident memory of a process in MiB, from /proc. */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(/\d+/.exec(line ?? '')?.[0] ?? 0) / 1024;
}

/** Proportional memory (shared pages split between sharers) of a process in MiB, from /proc. */
function pssMiB(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('Pss:'));
  return Number(/\d+/.exec(rollup ?? '')?.[0] ?? 0) / 1024;
}

/** The embedded server's processes: its postmaster (from postmaster.pid) and every child of it. */
function serverProcesses(dataDir: string): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

/** Starts `run` on a data folder and resolves with the process and the seconds until /readyz answered 200. */
async function startRun(dataDir: string, port: number): Promise<{ child: ReturnType<typeof spawn>; readySeconds: number }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...productNodeFlags(), CLI, 'run', '--config', CONFIG], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`run exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return { child, readySeconds: Number(process.hrtime.bigint() - started) / 1e9 };
    await sleep(25);
  }
}

async function stopRun(child: ReturnType<typeof spawn>): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((done) => child.once('exit', done));
}

async function seconds(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = process.hrtime.bigint();
  await execute(process.execPath, [...productNodeFlags(), ...args], { env: { ...process.env, ...env, LOG_LEVEL: 'silent' } });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export async function embeddedBench(progress: (line: string) => void): Promise<Figure[]> {
  if (!existsSync(CLI)) throw new Error('bench embedded runs the compiled CLI: run npm run build first');
  const dataDir = mkdtempSync(join(tmpdir(), 'wf-bench-embedded-'));
  const env = { DATA_DIR: dataDir, DATABASE_URL: '' };
  const port = 18_600 + Math.floor(Math.random() * 300);
  try {
    const bareStart = await seconds(['-e', ''], {});
    const bare = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    await sleep(500);
    const bareRss = rssMiB(bare.pid!);
    bare.kill();

    const first = await startRun(dataDir, port);
    progress(`embedded: first start ready in ${first.readySeconds.toFixed(2)} s`);
    await sleep(5_000); // the first tick fetches and stores the demo feeds, then the process idles
    const nodeRss = rssMiB(first.child.pid!);
    const server = serverProcesses(dataDir);
    const serverRss = server.reduce((sum, pid) => sum + rssMiB(pid), 0);
    const serverPss = server.reduce((sum, pid) => sum + pssMiB(pid), 0);
    const oneShotBesideRun = await seconds([CLI, 'stories', '--config', CONFIG], env);
    await stopRun(first.child);

    const warm = await startRun(dataDir, port);
    await stopRun(warm.child);
    const topics = await seconds([CLI, 'topics', '--config', CONFIG], env);
    const stories = await seconds([CLI, 'stories', '--config', CONFIG], env);
    progress(
      `embedded: warm start ${warm.readySeconds.toFixed(2)} s, topics ${topics.toFixed(2)} s, stories ${stories.toFixed(2)} s, idle ${nodeRss.toFixed(0)} MiB + server ${serverPss.toFixed(0)} MiB PSS`,
    );
    return [
      { benchmark: 'embedded', metric: 'bare node -e start', value: bareStart, unit: 's' },
      { benchmark: 'embedded', metric: 'run ready on a new data folder (initdb, migrate, first start)', value: first.readySeconds, unit: 's', headline: true },
      { benchmark: 'embedded', metric: 'run ready on a warm data folder', value: warm.readySeconds, unit: 's', headline: true },
      { benchmark: 'embedded', metric: 'run ready (warm) / bare node start', value: warm.readySeconds / bareStart, unit: 'x', baseline: 'bare node -e start' },
      { benchmark: 'embedded', metric: 'topics, one-shot on a warm folder (starts and stops the server)', value: topics, unit: 's', headline: true },
      { benchmark: 'embedded', metric: 'stories, one-shot on a warm folder (starts and stops the server)', value: stories, unit: 's' },
      { benchmark: 'embedded', metric: 'stories, one-shot beside a running run', value: oneShotBesideRun, unit: 's' },
      { benchmark: 'embedded', metric: 'bare idle node RSS', value: bareRss, unit: 'MiB' },
      { benchmark: 'embedded', metric: 'run idle RSS, the Node process', value: nodeRss, unit: 'MiB', headline: true },
      { benchmark: 'embedded', metric: 'run idle RSS / bare idle node', value: nodeRss / bareRss, unit: 'x', baseline: 'bare idle node' },
      { benchmark: 'embedded', metric: 'embedded PostgreSQL server, RSS of its processes summed', value: serverRss, unit: 'MiB' },
      { benchmark: 'embedded', metric: 'embedded PostgreSQL server, PSS of its processes', value: serverPss, unit: 'MiB', headline: true },
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
