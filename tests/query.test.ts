import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { words } from '../src/dedup/fingerprint.js';
import type { Source } from '../src/model/source.js';
import type { Topic } from '../src/model/topic.js';
import { bestClause, compileQuery, type MatchableItem, matchDocument, requiredClauses } from '../src/topics/match.js';
import { parseQuery, printQuery, QueryError } from '../src/topics/query.js';
import { compileTopics, TopicMatcher, topicMatcher } from '../src/topics/topics.js';

const SEED_QUERY = 'japan AND ("united states" OR u.s. OR pentagon) AND (defense OR security OR military)';
const NOW = new Date('2024-06-02T12:00:00Z');

describe('parseQuery', () => {
  it.each([
    ['japan', 'japan'],
    ['japan defense', 'japan AND defense'],
    ['japan AND defense OR security', 'japan AND defense OR security'],
    ['japan (defense OR security)', 'japan AND (defense OR security)'],
    ['"united states" -trade', '"united states" AND NOT trade'],
    ['NOT (a OR b)', 'NOT (a OR b)'],
    ['defen*', 'defen*'],
    ['title:japan', 'title:japan'],
    ['TITLE:"u.s. forces"', 'title:"u.s. forces"'],
    ['title:(japan OR korea) author:kyodo', 'title:(japan OR korea) AND author:kyodo'],
    ['category:politics source:wire lang:ja', 'category:politics AND source:wire AND lang:ja'],
    ['since:7d japan', 'since:7d AND japan'],
    ['/osprey(s)?/i', '/osprey(s)?/i'],
    ['title:/^BOJ\\b/ -/rate (cut|hike)/i', 'title:/^BOJ\\b/ AND NOT /rate (cut|hike)/i'],
    ['text:"a/b" (x)', 'text:"a/b" AND x'],
    [SEED_QUERY, SEED_QUERY],
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
    ['titel:japan', 'unknown field "titel:"; did you mean "title:"? at column 1'],
    ['japan colour:red', 'unknown field "colour:"; fields are title: text: author: category: source: lang: since: at column 7'],
    ['title: japan', 'expected a term, "phrase", /regex/ or (…) right after title: at column 1'],
    ['japan title:', 'expected a term, "phrase", /regex/ or (…) right after title: at column 7'],
    ['since:soon', 'since: needs a duration such as 12h, 7d or 30d at column 7'],
    ['/open', 'unterminated regular expression (missing closing /) at column 1'],
    ['x /(unclosed/', 'invalid regular expression: missing closing ): `(unclosed` at column 3'],
    [
      '/(?<=kishida )fumio/',
      'invalid regular expression: lookbehind (?<= is not supported (patterns run in linear time, without lookaround or backreferences) at column 1',
    ],
    [
      'title:/(ab)\\1/',
      'invalid regular expression: backreference \\1 is not supported (patterns run in linear time, without lookaround or backreferences) at column 7',
    ],
    ['/ok/g', 'invalid regular expression flags "g" (use i, m, s, u) at column 5'],
    ['//', 'empty regular expression // at column 1'],
  ])('%j fails with %s', (query, message) => {
    expect(() => parseQuery(query)).toThrow(QueryError);
    expect(() => parseQuery(query)).toThrow(message);
  });

  it('round-trips: parse -> print -> parse gives the same tree', () => {
    const word = fc.constantFrom('japan', 'u.s.', 'defen*', '"united states"', '日米', 'security', 'pentagon', '/os(prey)?/i', 'since:7d');
    const field = fc.constantFrom('title:', 'author:', 'category:', 'source:', 'lang:', 'text:');
    const query = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        word,
        fc.tuple(field, fc.constantFrom('japan', '"u.s. forces"', '/^a/')).map(([name, operand]) => `${name}${operand}`),
        fc.tuple(field, tie('node')).map(([name, operand]) => `${name}(${operand})`),
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
      { numRuns: 500 },
    );
  });
});

const item = (overrides: Partial<MatchableItem> & { title: string }): MatchableItem => ({ publishedAt: new Date('2024-06-02T00:00:00Z'), ...overrides });

describe('compiled queries', () => {
  const matches = (query: string, text: string) => compileQuery(query)(matchDocument(item({ title: text })), NOW);

  it('runs a catastrophic-backtracking pattern in linear time (RE2): /(a+)+$/ against forty a and "!"', () => {
    // JavaScript's RegExp takes minutes here; RE2 answers at once, and for a text a thousand times longer too.
    expect(matches('/(a+)+$/', `${'a'.repeat(40)}!`)).toBe(false);
    expect(matches('/(a+)+$/', `${'a'.repeat(40_000)}!`)).toBe(false);
    expect(matches('/(a+)+$/', 'a'.repeat(40))).toBe(true);
    expect(matches('/(x+x+)+y/', 'x'.repeat(5_000))).toBe(false);
  });

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
    ['日米 OR "united states"', 'The United States and Japan', true],
    ['日米', '米国', false],
    ['/osprey(s)?/i', 'Ospreys return to flight', true],
    ['/Osprey/', 'osprey', false],
    ['/\\bM[4-9]\\.\\d\\b/', 'M5.9 quake hits Noto', true],
  ])('%s ~ %j -> %s', (query, text, expected) => expect(matches(query, text)).toBe(expected));

  it('scopes terms to fields', () => {
    const document = matchDocument(
      {
        title: 'BOJ keeps rates steady',
        summary: 'Japan central bank decision',
        author: 'Kyodo News',
        categories: ['Business & Economy'],
        language: 'en-GB',
        publishedAt: new Date('2024-06-01T00:00:00Z'),
      },
      ['kyodo', 'wire'],
    );
    const check = (query: string) => compileQuery(query)(document, NOW);
    expect(check('title:boj')).toBe(true);
    expect(check('title:japan')).toBe(false);
    expect(check('japan')).toBe(true); // text: title + summary + content
    expect(check('author:kyodo')).toBe(true);
    expect(check('author:jiji')).toBe(false);
    expect(check('category:economy')).toBe(true);
    expect(check('category:"business & economy"')).toBe(true);
    expect(check('source:wire AND source:kyodo')).toBe(true);
    expect(check('source:jiji')).toBe(false);
    expect(check('lang:en')).toBe(true);
    expect(check('lang:ja')).toBe(false);
    expect(check('since:7d')).toBe(true);
    expect(check('since:12h')).toBe(false);
    expect(check('title:(boj OR fed) -category:sports')).toBe(true);
  });
});

describe('topics', () => {
  const source = (id: string, tags: string[] = []): Source => ({
    id,
    url: `https://${id}.example/feed`,
    pollSeconds: 900,
    priority: 0,
    tags,
    shortUrlHosts: [],
    network: { kind: 'public-only' },
  });
  const SOURCES = [source('jiji', ['wire', 'japan']), source('arabnews', ['mideast']), source('nhk', ['japan'])];
  const topic = (fields: Partial<Topic> & { query: string }): Topic => ({ slug: 't', title: 'T', limit: 50, ...fields });

  it('applies sources (ids or tags), language and exclude', () => {
    const matcher = topicMatcher(
      compileTopics(
        [
          topic({ slug: 'wire-only', query: 'japan', sources: ['wire'] }),
          topic({ slug: 'by-id', query: 'japan', sources: ['arabnews'] }),
          topic({ slug: 'japanese', query: '日本 OR japan', language: ['ja'] }),
          topic({ slug: 'no-economy', query: 'japan', exclude: 'economy OR yen' }),
        ],
        SOURCES,
      ),
      SOURCES,
    );
    const english = item({ title: 'Japan security talks', language: 'en' });
    expect(matcher.match(english, 'jiji')).toEqual(['wire-only', 'no-economy']);
    expect(matcher.match(english, 'arabnews')).toEqual(['by-id', 'no-economy']);
    expect(matcher.match(item({ title: 'Japan economy and the yen', language: 'en' }), 'nhk')).toEqual([]);
    expect(matcher.match(item({ title: '日本の安全保障', language: 'ja' }), 'nhk')).toEqual(['japanese']);
  });

  it.each([
    ['japan', [['japan']]],
    ['japan defense', [['japan'], ['defense']]],
    ['"united states" OR pentagon', [['united', 'pentagon']]],
    ['"united states"', [['united'], ['states']]],
    ['japan (defense OR security) -economy', [['japan'], ['defense', 'security']]],
    ['u.s.', [['us']]],
    ['title:okinawa', [['okinawa']]],
    ['日米', [['日米']]],
    ['japan OR defen*', undefined],
    ['-japan', undefined],
    ['/japan/', undefined],
    ['author:kyodo', undefined],
    ['日', undefined],
  ])('requires of %s the word clauses %j', (query, expected) => {
    const clauses = requiredClauses(parseQuery(query), words);
    expect(clauses?.map((clause) => [...clause])).toEqual(expected);
  });

  it('looks a topic up by its most specific clause', () => {
    expect([...bestClause([new Set(['japan']), new Set(['okinawa', 'marines'])])]).toEqual(['okinawa', 'marines']);
    expect([...bestClause([new Set(['us']), new Set(['japan'])])]).toEqual(['japan']);
  });

  it('the word index never changes which topics match (against evaluating every topic)', () => {
    const vocabulary = ['japan', 'u.s.', 'US', 'defense', 'defence', 'Okinawa', '日米', '防衛', 'economy', 'Kyodo', 'naïve', 'naive', 'yen', 'talks'];
    const term = fc.constantFrom(...vocabulary, 'defen*', '"japan defense"', '/yen/i', 'title:japan', 'author:kyodo', 'lang:ja');
    const queryArb = fc
      .array(fc.tuple(term, fc.constantFrom(' ', ' OR ', ' -')), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.map(([word, joiner], index) => (index === 0 ? word : `${joiner}${word}`)).join(''));
    const itemArb = fc.record({
      title: fc.array(fc.constantFrom(...vocabulary, 'the', 'summit'), { minLength: 1, maxLength: 6 }).map((list) => list.join(' ')),
      author: fc.constantFrom('Kyodo', 'JIJI', ''),
      language: fc.constantFrom('en', 'ja'),
    });
    fc.assert(
      fc.property(fc.array(queryArb, { minLength: 24, maxLength: 40 }), fc.array(itemArb, { minLength: 1, maxLength: 8 }), (queries, items) => {
        const compiled = compileTopics(
          queries.map((query, index) => topic({ slug: `t${index}`, query })),
          SOURCES,
        );
        const indexed = topicMatcher(compiled, SOURCES);
        for (const candidate of items) {
          const full = item(candidate);
          const document = matchDocument(full, ['jiji']);
          const brute = compiled.filter((entry) => entry.matches(document, 'jiji', NOW)).map((entry) => entry.slug);
          expect(indexed.match(full, 'jiji', NOW)).toEqual(brute);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('only tests the topics whose words an item contains', () => {
    const topics = compileTopics(
      Array.from({ length: 1000 }, (_, index) => topic({ slug: `t${index}`, query: `word${index} AND japan` })),
      SOURCES,
    );
    let evaluated = 0;
    const counted = topics.map((entry) => ({
      ...entry,
      matches: (...args: Parameters<typeof entry.matches>) => {
        evaluated++;
        return entry.matches(...args);
      },
    }));
    const matcher = new TopicMatcher(counted);
    expect(matcher.match(item({ title: 'word7 and word42 near Japan' }), 'jiji')).toEqual(['t7', 't42']);
    expect(evaluated).toBe(2);
  });
});
