import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface CliProcess {
  child: ReturnType<typeof spawn>;
  exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
}

/** Runs the real CLI (what `npm start` and `npm run wirefeed` run) in a child process, collecting its output. */
export function runCli(args: string[], env: Record<string, string> = {}, cwd = ROOT): CliProcess {
  // tsx's loader by path, so that the command may run in any folder.
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(resolve(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, resolve(ROOT, 'src/cli.ts'), ...args],
    {
      cwd,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Polls `probe` until it returns a value; fails with the process's stderr if it exits or the time runs out. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, cli?: CliProcess, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline || (cli && cli.child.exitCode !== null)) throw new Error(`timed out; stderr:\n${cli?.output().stderr ?? ''}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** The feed server's base URL, from its "feed server listening" log line. */
export const listeningUrl = (cli: CliProcess) => waitFor(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)\/"/.exec(cli.output().stderr)?.[1], cli);
