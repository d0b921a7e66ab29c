import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileQuery, matchDocument } from '../src/topics/match.js';
import { parseQuery, printQuery, QueryError } from '../src/topics/query.js';

const SEED_QUERY = 'japan AND ("united states" OR u.s. OR pentagon) AND (defense OR security OR military)';

describe('parseQuery', () => {
  it.each([
    ['japan', 'japan'],
    ['japan defense', 'japan AND defense'],
    ['japan AND defense OR security', 'japan AND defense OR security'],
    ['japan (defense OR security)', 'japan AND (defense OR security)'],
    ['"united states" -trade', '"united states" AND NOT trade'],
    ['NOT (a OR b)', 'NOT (a OR b)'],
    ['defen*', 'defen*'],
    [SEED_QUERY, 'japan AND ("united states" OR u.s. OR pentagon) AND (defense OR security OR military)'],
  ])('%s prints as %s', (query, printed) => expect(printQuery(parseQuery(query))).toBe(printed));

  it.each([
    ['', 'empty query at column 1'],
    ['japan AND', 'unexpected end of query at column 10'],
    ['(japan', 'missing ")" for "(" opened at column 1'],
    ['japan)', 'unexpected ")" at column 6'],
    ['japan OR OR defense', 'unexpected "OR" at column 10'],
    ['"open', 'unterminated phrase (missing closing ") at column 1'],
    ['a ""', 'empty phrase "" at column 3'],
    ['()', 'empty parentheses at column 1'],
    ['de*fen', '"*" is only allowed at the end of a term at column 1'],
  ])('%j fails with %s', (query, message) => {
    expect(() => parseQuery(query)).toThrow(QueryError);
    expect(() => parseQuery(query)).toThrow(message);
  });

  it('round-trips: parse -> print -> parse gives the same tree', () => {
    const word = fc.constantFrom('japan', 'u.s.', 'defen*', '"united states"', '日米', 'security', 'pentagon');
    const query = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        word,
        fc.tuple(tie('node'), tie('node')).map(([a, b]) => `(${a} OR ${b})`),
        fc.tuple(tie('node'), tie('node')).map(([a, b]) => `${a} ${b}`),
        tie('node').map((a) => `NOT (${a})`),
        tie('node').map((a) => `-(${a})`),
      ),
    })).node;
    fc.assert(
      fc.property(query, (text) => {
        const tree = parseQuery(text);
        expect(parseQuery(printQuery(tree))).toEqual(tree);
      }),
    );
  });
});

describe('compiled queries', () => {
  const matches = (query: string, text: string) => compileQuery(query)(matchDocument([text]));

  it.each([
    [SEED_QUERY, 'Japan, U.S. defense chiefs reaffirm command coordination', true],
    [SEED_QUERY, 'Japan and the United States agree to boost military ties', true],
    [SEED_QUERY, 'Japan, Philippines sign defense pact', false],
    [SEED_QUERY, 'U.S. Marines to relocate from Okinawa, Japan, says Pentagon', false],
    ['u.s.', 'Talks with the U.S. military', true],
    ['u.s.', 'Let us talk', false],
    ['us', 'The US and Japan', true],
    ['us', 'a museum trip', false],
    ['defen*', 'Defence ministers met', true],
    ['defen*', 'a strong offense', false],
    ['"command and control"', 'command  and\ncontrol coordination', true],
    ['"command and control"', 'command, control', false],
    ['japan -economy', 'Japan economy grows', false],
    ['japan -economy', 'Japan security talks', true],
    ['tokyo', 'TŌKYŌ summit', true],
    ['naïve', 'a naive plan', true],
    ['日米', '日米防衛相、指揮統制の連携強化を再確認', true],
    ['防衛', '木原稔防衛相は2日', true],
    ['日米 AND defense', '日米 defense talks', true],
    ['日米', '米国', false],
  ])('%s ~ %j -> %s', (query, text, expected) => expect(matches(query, text)).toBe(expected));
});
