import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { arrayLiteral, isDatabaseUnavailable, openMigratedDatabase, pipelinedRows, withinDeadline } from '../src/db/client.js';
import { createThrowawayDatabase, testServerUrl, useTestDatabase } from './helpers/database.js';

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

describe('withinDeadline', () => {
  it('passes on what finishes in time, and fails as an outage what does not', async () => {
    expect(await withinDeadline(Promise.resolve(7), 50, 'quick work')).toBe(7);
    await expect(withinDeadline(Promise.reject(withCode('23505')), 50, 'failing work')).rejects.toMatchObject({ code: '23505' });
    const wedged = withinDeadline(new Promise(() => {}), 20, 'storing the items');
    await expect(wedged).rejects.toThrow('storing the items did not finish within 0.02s');
    expect(isDatabaseUnavailable(await wedged.catch((error: unknown) => error))).toBe(true);
  });

  it('swallows a failure that comes after the deadline', async () => {
    let fail: (error: Error) => void = () => {};
    const late = new Promise((_, reject) => (fail = reject));
    await expect(withinDeadline(late, 10, 'slow work')).rejects.toThrow('did not finish');
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listener);
    fail(new Error('too late'));
    await new Promise((done) => setTimeout(done, 20));
    process.off('unhandledRejection', listener);
    expect(unhandled).toEqual([]);
  });
});

describe('migrations', () => {
  it('let processes that start together on a new database take turns instead of racing', async () => {
    const target = await createThrowawayDatabase(testServerUrl(), 'wirefeed_migrate');
    try {
      const opened = await Promise.allSettled(Array.from({ length: 4 }, () => openMigratedDatabase({ url: target.url })));
      await Promise.all(opened.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)));
      expect(opened.map((result) => (result.status === 'rejected' ? String(result.reason) : 'opened'))).toEqual(['opened', 'opened', 'opened', 'opened']);
    } finally {
      await target.drop();
    }
  });
});

describe('arrayLiteral', () => {
  const database = useTestDatabase();
  it.each([
    ['plain values', ['url:https://jiji.example/a', 'title:jiji:9f2c', 'b7:-12,34']],
    ['quotes, backslashes, braces and commas', ['say "hi"', 'C:\\path', '{a,b}', 'x,y', '"', '\\']],
    ['one value with a quote among plain ones', ['a', 'b"c', 'd']],
    ['empty strings, spaces and NULL as text', ['', ' ', 'NULL', 'null']],
    ['non-ASCII', ['日米防衛相', 'Éric', 'emoji 🗞']],
    ['no values', []],
  ])('%s reach the server as they are', async (_name, values) => {
    const [row] = await database().handle.rows<{ values: string[] }>(sql`select ${arrayLiteral(values)}::text[] as values`);
    expect(row!.values).toEqual(values);
  });

  it('passes numbers unquoted into any array type', async () => {
    const [row] = await database().handle.rows<{ values: string[] }>(sql`select ${arrayLiteral([1, -2, 30])}::bigint[] as values`);
    expect(row!.values.map(Number)).toEqual([1, -2, 30]);
  });
});

describe('pipelinedRows', () => {
  const database = useTestDatabase();
  const STATEMENTS = 40;

  it('runs the statements in their order, each seeing what the earlier ones wrote, and answers each', async () => {
    const { db } = database().handle;
    const answers = await db.transaction(async (tx) => {
      await tx.execute(sql`create temporary table steps (n int) on commit drop`);
      // Each statement records how many rows it found before adding its own: any reordering shows.
      return pipelinedRows(
        tx,
        Array.from({ length: STATEMENTS }, (_, index) => sql`insert into steps select count(*) from steps returning n, ${index}::int as index`),
      );
    });
    expect(answers.map((rows) => rows.map(({ n, index }) => [Number(n), index]))).toEqual(Array.from({ length: STATEMENTS }, (_, index) => [[index, index]]));
  });

  it('fails with the first statement that fails, and the transaction with it', async () => {
    const { db, rows } = database().handle;
    await db.execute(sql`create table pipelined_probe (n int)`);
    const attempt = db.transaction((tx) =>
      pipelinedRows(tx, [sql`insert into pipelined_probe values (1)`, sql`select 1 / ${0}::int`, sql`insert into pipelined_probe values (2)`]),
    );
    await expect(attempt).rejects.toThrow(/division by zero/);
    expect(await rows(sql`select n from pipelined_probe`)).toEqual([]);
    // The connection is fine afterwards.
    expect(await db.transaction((tx) => pipelinedRows(tx, [sql`select 7 as seven`]))).toEqual([[{ seven: 7 }]]);
  });
});
