import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, openMigratedDatabase } from '../src/db/client.js';
import { createThrowawayDatabase } from './helpers/database.js';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED'), true],
    ['a reset connection', withCode('ECONNRESET'), true],
    ['postgres.js losing its connection', withCode('CONNECTION_CLOSED'), true],
    ['postgres.js timing out a connect', withCode('CONNECT_TIMEOUT'), true],
    ['a connection exception (class 08)', withCode('08006'), true],
    ['an administrator shutting the server down', withCode('57P01'), true],
    ['a server still starting up', withCode('57P03'), true],
    ['too many connections', withCode('53300'), true],
    ['drizzle wrapping a lost connection', new Error('Failed query: select 1', { cause: withCode('CONNECTION_CLOSED') }), true],
    ['a unique violation', withCode('23505'), false],
    ['a syntax error', withCode('42601'), false],
    ['a query cancelled by statement_timeout', withCode('57014'), false],
    ['drizzle wrapping a bad value', new Error('Failed query: insert', { cause: withCode('22001') }), false],
    ['an error without a code', new Error('boom'), false],
    ['not an error at all', 'boom', false],
  ])('%s: %s', (_name, error, expected) => {
    expect(isDatabaseUnavailable(error)).toBe(expected);
  });
});

describe.skipIf(!process.env.WIREFEED_TEST_POSTGRES)('migrations on Postgres', () => {
  it('let processes that start together on a new database take turns instead of racing', async () => {
    const target = await createThrowawayDatabase(process.env.WIREFEED_TEST_POSTGRES!, 'wirefeed_migrate');
    try {
      const opened = await Promise.allSettled(Array.from({ length: 4 }, () => openMigratedDatabase({ url: target.url })));
      await Promise.all(opened.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)));
      expect(opened.map((result) => (result.status === 'rejected' ? String(result.reason) : 'opened'))).toEqual(['opened', 'opened', 'opened', 'opened']);
    } finally {
      await target.drop();
    }
  });
});
