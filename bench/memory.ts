/**
 * Peak resident memory of a worker process taking 1,000 sources through one pass, against the same process right
 * after it opened its store and config (the baseline). Runs in a child process so the benchmark's own memory is not
 * counted, from the compiled code (dist/) as `npm start` runs it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Figure } from './figures.js';
import { sourcesConfig, startFixtureHosts } from './fixture-hosts.js';
import { productNodeFlags } from './node-flags.js';

const run = promisify(execFile);

export async function memoryBench(sourceCount: number, progress: (line: string) => void): Promise<Figure[]> {
  if (!existsSync(new URL('../dist/app.js', import.meta.url))) throw new Error('dist/ is missing: run npm run build first');
  const hosts = await startFixtureHosts(8, 20, sourceCount);
  try {
    const dir = sourcesConfig(hosts, sourceCount, 8);
    const { stdout } = await run(process.execPath, [...productNodeFlags(), '--expose-gc', new URL('./memory-child.mjs', import.meta.url).pathname, dir], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...(process.env.DATABASE_URL ? {} : { DATABASE_URL: '' }) },
      maxBuffer: 1024 * 1024,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { idle: number; peak: number; ok: number; failed: number };
    if (result.ok !== sourceCount) throw new Error(`${result.failed} of ${sourceCount} sources failed in the memory run`);
    const mib = (bytes: number) => bytes / 2 ** 20;
    progress(`memory: idle ${mib(result.idle).toFixed(0)} MiB, peak ${mib(result.peak).toFixed(0)} MiB over ${sourceCount} sources`);
    return [
      { benchmark: 'memory', metric: 'worker RSS after start (config and store open)', value: mib(result.idle), unit: 'MiB' },
      { benchmark: 'memory', metric: `worker peak RSS through one pass of ${sourceCount} sources`, value: mib(result.peak), unit: 'MiB', size: sourceCount },
      { benchmark: 'memory', metric: 'peak / idle RSS', value: result.peak / result.idle, unit: 'x', baseline: 'idle worker', headline: true },
    ];
  } finally {
    await hosts.close();
  }
}
