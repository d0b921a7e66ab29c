/**
 * The feed server's access token (publish.token) through the real server: every feed, page, OPML list and /metrics
 * asks for it, in the URL, as a Bearer token or as Basic's password; health checks do not; what is answered with
 * credentials is never offered to shared caches; the OPML list carries the token to the reader it subscribes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { accessOf, offeredTokens, splitTokenPath } from '../src/server/access.js';
import { demoConfigWith, openTestApp, type ServedApp, serveApp } from './helpers/app.js';
import { useTestDatabase } from './helpers/database.js';

const TOKEN = 'f3b1c0de-wire-7a9e-tokyo-desk';
/** A second reader's own token. */
const SECOND_READER = 'osaka-desk-reader-5d1e';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The answers to `path` with `token` in each form a client may give it: path, query, Basic's password, Bearer. */
const answersWith = async (base: string, path: string, token: string) => [
  await fetch(`${base}/t/${token}${path}`),
  await fetch(`${base}${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`),
  await fetch(`${base}${path}`, { headers: { authorization: basic('me', token) } }),
  await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } }),
];

/**
 * The demo with `files` added to its config, ingested and served for the tests of the describe block that calls this,
 * with `env` set meanwhile (tokens the config names as ${NAME}).
 */
function servedDemo(files: Record<string, string>, env: Record<string, string>): () => ServedApp {
  const testDatabase = useTestDatabase();
  let app: App | undefined;
  let served: ServedApp | undefined;
  beforeAll(async () => {
    Object.assign(process.env, env);
    app = await openTestApp(testDatabase().handle, { configDir: demoConfigWith(files), ingest: true });
    served = await serveApp(app);
  });
  afterAll(async () => {
    await served?.stop();
    await app?.close();
    for (const name of Object.keys(env)) delete process.env[name];
  });
  return () => served!;
}

describe('offeredTokens and accessOf', () => {
  const url = (query = '') => new URL(`http://127.0.0.1/topics/japan-us-security.rss${query}`);
  it.each([
    ['no credentials', {}, '', [], false],
    ['the token in the URL', {}, `?token=${TOKEN}`, [TOKEN], true],
    ['a wrong token in the URL', {}, '?token=guess', ['guess'], false],
    ['a Bearer token', { authorization: `Bearer ${TOKEN}` }, '', [TOKEN], true],
    ['a bearer token, any case and spacing', { authorization: `  bearer   ${TOKEN}` }, '', [TOKEN], true],
    ['Basic with any user name', { authorization: basic('reader', TOKEN) }, '', [TOKEN], true],
    ['Basic with a password holding ":"', { authorization: basic('reader', `${TOKEN}:x`) }, '', [`${TOKEN}:x`], false],
    ['Basic with the token as the user name', { authorization: basic(TOKEN, '') }, '', [''], false],
    ['Basic without a colon', { authorization: `Basic ${Buffer.from(TOKEN).toString('base64')}` }, '', [], false],
    ['a wrong header beside the right query', { authorization: 'Bearer guess' }, `?token=${TOKEN}`, [TOKEN, 'guess'], true],
    ['another scheme', { authorization: `Digest ${TOKEN}` }, '', [], false],
  ])('%s', (_case, headers, query, offered, granted) => {
    expect(offeredTokens({ headers }, url(query))).toEqual(offered);
    expect(accessOf({ headers }, url(query), [TOKEN])).toEqual(granted ? { granted, token: TOKEN } : { granted });
    // One reader's token among others'.
    expect(accessOf({ headers }, url(query), ['another-reader-0123456', TOKEN]).granted).toBe(granted);
    expect(accessOf({ headers }, url(query), [])).toEqual({ granted: true });
  });
});

describe('splitTokenPath', () => {
  it.each([
    ['/topics/x.rss', { pathname: '/topics/x.rss' }],
    [`/t/${TOKEN}/topics/x.rss`, { pathname: '/topics/x.rss', token: TOKEN }],
    [`/t/${TOKEN}`, { pathname: '/', token: TOKEN }],
    ['/t/a%2Fb%20c/opml', { pathname: '/opml', token: 'a/b c' }],
    ['/t/%E0%A4%A/opml', { pathname: '/opml', token: '%E0%A4%A' }],
    ['/t//opml', { pathname: '/t//opml' }],
    ['/topics/t/x', { pathname: '/topics/t/x' }],
  ])('%s', (path, split) => {
    expect(splitTokenPath(path)).toEqual(split);
  });
});

describe('a Wirefeed with an access token', () => {
  const server = servedDemo(
    // No search or showSources: with a token they are on by default, even on Postgres (only readers reach them).
    { 'publish.yml': `publish:\n  token:\n    - \${WIREFEED_TEST_FEED_TOKEN}\n    - ${SECOND_READER}\n  maxAge: 2m\n` },
    { WIREFEED_TEST_FEED_TOKEN: TOKEN },
  );
  let served: ServedApp;
  beforeAll(() => {
    served = server();
  });

  const PATHS = [
    '/',
    '/topics/japan-us-security.rss',
    '/topics/japan-us-security.html',
    '/topics/japan-us-security/digest.atom',
    '/search.json?q=japan',
    '/opml',
    '/sources',
    '/metrics',
  ];

  it.each(PATHS)('asks for the token at %s, and answers with it', async (path) => {
    const refused = await fetch(`${served.base}${path}`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="Wirefeed", charset="UTF-8"');
    expect(await refused.text()).toContain('asks for its access token');
    expect((await fetch(`${served.base}${path}`, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
    for (const answer of await answersWith(served.base, path, TOKEN)) {
      expect(answer.status, path).toBe(200);
      // Never "public": a shared cache would hand it to whoever asks next, token or not.
      expect(answer.headers.get('cache-control') ?? '').not.toMatch(/public/);
    }
  });

  it('keeps the health checks open, and the feeds private to the reader that asked', async () => {
    expect((await fetch(`${served.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${served.base}/readyz`)).status).toBe(200);
    const feed = await fetch(`${served.base}/topics/japan-us-security.atom?token=${TOKEN}`);
    expect(feed.headers.get('cache-control')).toBe('private, max-age=120');
    const again = await fetch(`${served.base}/topics/japan-us-security.atom?token=${TOKEN}`, { headers: { 'if-none-match': feed.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('lists the feeds in the OPML with the token in their URLs, ready to subscribe to', async () => {
    const opml = await (await fetch(`${served.base}/opml`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const urls = [...opml.matchAll(/xmlUrl="([^"]+)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&'));
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).toMatch(new RegExp(`^${served.base}/t/${TOKEN}/topics/[a-z0-9-]+\\.atom$`));
      expect((await fetch(url)).status).toBe(200);
    }
  });

  it('writes every link to its own feeds and pages with the token in the path, so that what a reader copies works', async () => {
    const index = await (await fetch(`${served.base}/?token=${TOKEN}`)).text();
    const ownLinks = [...index.matchAll(/href="([^"]+)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&')).filter((href) => href.startsWith(served.base));
    expect(ownLinks.length).toBeGreaterThan(5);
    for (const href of ownLinks) expect(href.startsWith(`${served.base}/t/${TOKEN}/`), href).toBe(true);
    const feed = await (await fetch(ownLinks.find((href) => href.endsWith('.atom'))!)).text();
    expect(feed).toContain(`href="${served.base}/t/${TOKEN}/topics/`);
    // Another reader's pages carry their own token.
    const theirs = await (await fetch(`${served.base}/`, { headers: { authorization: basic('osaka', SECOND_READER) } })).text();
    expect(theirs).toContain(`href="${served.base}/t/${SECOND_READER}/topics/`);
    expect(theirs).not.toContain(TOKEN);
    // A wrong token in the path is no token.
    expect((await fetch(`${served.base}/t/guess/topics/japan-us-security.rss`)).status).toBe(401);
  });
});

/** A token given to one partner desk: it opens that topic alone. */
const PARTNER = 'partner-desk-osaka-0b7c2f';
const BOARD = 'editorial-board-token-91d3';
const PRIVATE_TOPICS = `topics:
  - slug: partner-desk
    title: Partner desk
    query: 'japan AND (defense OR security)'
    token: \${WIREFEED_TEST_PARTNER_TOKEN}
  - slug: board
    title: Board
    query: 'japan'
    token: [${BOARD}]
`;
const linksOf = (page: string, base: string) =>
  [...page.matchAll(/href="([^"]+)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&')).filter((href) => href.startsWith(base));

describe('topics with tokens of their own, on a server open to all', () => {
  const server = servedDemo({ 'private.yml': PRIVATE_TOPICS }, { WIREFEED_TEST_PARTNER_TOKEN: PARTNER });
  let served: ServedApp;
  beforeAll(() => {
    served = server();
  });

  it.each(['/topics/partner-desk.rss', '/topics/partner-desk.html', '/topics/partner-desk', '/topics/partner-desk/digest.json'])(
    'asks for the topic’s token at %s, answers with it, and never for another topic’s',
    async (path) => {
      const refused = await fetch(`${served.base}${path}`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('Basic');
      expect((await fetch(`${served.base}/t/${BOARD}${path}`)).status).toBe(401);
      for (const answer of await answersWith(served.base, path, PARTNER)) {
        expect(answer.status, path).toBe(200);
        expect(answer.headers.get('cache-control') ?? '').not.toMatch(/public/);
      }
    },
  );

  it('keeps the other topics open, and lists a topic with a token only to a reader with it', async () => {
    const open = await fetch(`${served.base}/topics/japan-us-security.rss`);
    expect(open.status).toBe(200);
    expect(open.headers.get('cache-control')).toMatch(/^public/);
    const index = await (await fetch(`${served.base}/`)).text();
    expect(index).toContain('/topics/japan-us-security.rss');
    expect(index).not.toMatch(/partner-desk|Partner desk|board/);
    for (const list of ['/opml', '/opml/digests']) {
      const opml = await (await fetch(`${served.base}${list}`)).text();
      expect(opml).toContain('japan-us-security');
      expect(opml).not.toMatch(/partner-desk|board/);
    }

    // The partner's index lists their topic beside the open ones, every link with their token, each of which works.
    const theirs = await (await fetch(`${served.base}/t/${PARTNER}/`)).text();
    expect(theirs).toContain('Partner desk');
    expect(theirs).not.toContain('Board');
    const links = linksOf(theirs, served.base);
    expect(links.some((href) => href.endsWith('/topics/partner-desk.atom'))).toBe(true);
    for (const href of links) {
      expect(href.startsWith(`${served.base}/t/${PARTNER}/`), href).toBe(true);
      if (/\.(rss|atom|json|html)$/.test(href)) expect((await fetch(href)).status, href).toBe(200);
    }
    const opml = await (await fetch(`${served.base}/opml`, { headers: { authorization: `Bearer ${PARTNER}` } })).text();
    expect(opml).toContain(`${served.base}/t/${PARTNER}/topics/partner-desk.atom`);
    expect(opml).not.toContain('board');
  });
});

describe('topics with tokens of their own, beside publish.token', () => {
  const server = servedDemo({ 'private.yml': PRIVATE_TOPICS, 'publish.yml': `publish:\n  token: ${TOKEN}\n` }, { WIREFEED_TEST_PARTNER_TOKEN: PARTNER });
  let served: ServedApp;
  beforeAll(() => {
    served = server();
  });

  it("opens the partner's topic alone to its token, and every topic to publish.token's", async () => {
    for (const path of ['/topics/partner-desk.atom', '/topics/partner-desk/digest.rss'])
      expect((await fetch(`${served.base}/t/${PARTNER}${path}`)).status).toBe(200);
    for (const path of ['/', '/opml', '/topics/japan-us-security.atom', '/topics/board.atom', '/search.json?q=japan', '/sources', '/metrics']) {
      expect((await fetch(`${served.base}/t/${PARTNER}${path}`)).status, path).toBe(401);
    }
    for (const path of ['/topics/partner-desk.atom', '/topics/board.atom', '/topics/japan-us-security.atom']) {
      expect((await fetch(`${served.base}/t/${TOKEN}${path}`)).status, path).toBe(200);
    }
    const index = await (await fetch(`${served.base}/t/${TOKEN}/`)).text();
    expect(index).toContain('Partner desk');
    expect(index).toContain('Board');
    // The partner's page does not lead to the index their token does not open; the same page read with the server's token does.
    const linksToIndex = (page: string) => linksOf(page, served.base).filter((href) => /\/t\/[^/]+\/$/.test(href));
    expect(linksToIndex(await (await fetch(`${served.base}/t/${PARTNER}/topics/partner-desk.html`)).text())).toEqual([]);
    expect(linksToIndex(await (await fetch(`${served.base}/t/${TOKEN}/topics/partner-desk.html`)).text())).toEqual([`${served.base}/t/${TOKEN}/`]);
  });
});
