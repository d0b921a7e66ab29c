import { defineConfig } from 'vitest/config';

/**
 * Tests that need neither a database, a server nor a child process: `npm run test:unit` runs them alone in seconds.
 * Everything else is `integration`, which starts one embedded PostgreSQL for the run (tests/global-setup.ts).
 * `npm test` runs both.
 */
const UNIT = [
  'architecture',
  'article',
  'chat',
  'compose',
  'config',
  'days',
  'decode',
  'digest',
  'feed-fidelity',
  'host-limit',
  'hostile-output',
  'json-schema',
  'listing',
  'log',
  'next-check',
  'normalize',
  'opml',
  'parse',
  'pass-states',
  'plan',
  'progress',
  'publish',
  'query',
  'quiet-rule',
  'reload-outcome',
  'report',
  'search-request',
  'source-alerts-rule',
  'sources-page',
  'store-rounds',
  'text',
  'turns',
  'webhook-signing',
  'xml-scan',
].map((name) => `tests/${name}.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: ['tests/**/*.test.ts'], exclude: UNIT, globalSetup: ['tests/global-setup.ts'] } },
    ],
  },
});
