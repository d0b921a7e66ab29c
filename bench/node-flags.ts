import { readFileSync } from 'node:fs';

/**
 * The V8 flags the product runs with, read from package.json's `start` script (their one source; the Dockerfile and the
 * `wirefeed` script carry the same, which tests/compose.test.ts checks), so a benchmark's
 * child process is the process users run.
 */
export function productNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(' ').filter((word) => word.startsWith('--'));
}
