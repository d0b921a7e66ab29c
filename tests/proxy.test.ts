import { mkdtempSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FetchError, type FetchResult, fetchFeed, HttpClient } from '../src/fetch/index.js';
import { ProxiedNames, proxiedNameRefusal, proxyRouteOf, proxyUrlProblem, type ResolvedName } from '../src/fetch/proxy.js';
import { environmentProxies, proxyBypassOf, routeFor } from '../src/fetch/proxy-rules.js';
import { UserError } from '../src/model/errors.js';
import { DEFAULT_PUBLISH_SETTINGS } from '../src/model/settings.js';
import type { EnvironmentProxies, NetworkPolicy, ProxyRoute } from '../src/model/source.js';
import type { WebhookTopic } from '../src/publish/webhook.js';
import { postToWebhook, WebhookFailure } from '../src/worker/webhooks.js';
import { announceToHub } from '../src/worker/websub.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { seedDocument, startFixtureServer } from './helpers/fixture-server.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';
import { startHttpProxy, startSocksProxy, type TestProxy } from './helpers/proxies.js';
import { selfSignedCertificate } from './helpers/tls.js';

const ANY: NetworkPolicy = { kind: 'any' };
const PUBLIC_ONLY: NetworkPolicy = { kind: 'public-only' };
const RSS =
  '<?xml version="1.0"?><rss version="2.0"><channel><title>JIJI Press</title><item><title>Japan, U.S. defense chiefs meet in Singapore</title><link>https://jen.jiji.com/jc/eng?g=eco&amp;k=2024060200123</link></item></channel></rss>';

describe('proxy URLs', () => {
  it.each([
    ['http://proxy.example:3128', undefined],
    ['socks5://127.0.0.1:1080', undefined],
    ['socks5h://127.0.0.1:9050', undefined],
    ['http://user:p%40ss@[fd00::1]:3128/', undefined],
    ['proxy.example:3128', 'must be a URL with its scheme (http://proxy.example:3128, socks5://…, socks5h://…)'],
    ['ftp://proxy.example:21', 'must be an http://, socks5:// or socks5h:// URL, not ftp://'],
    ['https://proxy.example:443', 'must be an http://, socks5:// or socks5h:// URL, not https://'],
    ['http://proxy.example', "must give the proxy's port (http://proxy.example:3128)"],
    ['http://proxy.example:80', undefined],
    ['http://desk:3128@proxy.example', "must give the proxy's port (http://proxy.example:3128)"],
    ['http://proxy.example:3128/path', "must be the proxy's address alone, without a path or query"],
    ['http://proxy.example:3128?x=1', "must be the proxy's address alone, without a path or query"],
    [`socks5://${'u'.repeat(256)}:p@127.0.0.1:1080`, 'SOCKS5 takes a user name and a password of at most 255 bytes'],
    ['not a url', 'must be a URL with its scheme (http://proxy.example:3128, socks5://…, socks5h://…)'],
    ['http://[fd00::1:3128', 'must be a URL with its scheme (http://proxy.example:3128, socks5://…, socks5h://…)'],
  ])('%s: %s', (url, problem) => {
    expect(proxyUrlProblem(url)).toBe(problem);
  });

  it.each<[string, ProxyRoute]>([
    ['http://proxy.example:3128', { protocol: 'http', host: 'proxy.example', port: 3128, display: 'http://proxy.example:3128' }],
    [
      'http://desk:p%40ss%3Aword@[fd00::1]:3128',
      { protocol: 'http', host: 'fd00::1', port: 3128, username: 'desk', password: 'p@ss:word', display: 'http://[fd00::1]:3128' },
    ],
    ['http://proxy.example:80', { protocol: 'http', host: 'proxy.example', port: 80, display: 'http://proxy.example:80' }],
    [
      'socks5h://tor:@127.0.0.1:9050',
      { protocol: 'socks5h', host: '127.0.0.1', port: 9050, username: 'tor', password: '', display: 'socks5h://127.0.0.1:9050' },
    ],
  ])('%s is read as the fetcher uses it, its display without credentials', (url, route) => {
    expect(proxyRouteOf(url)).toEqual(route);
  });

  it.each<[string, Parameters<typeof proxiedNameRefusal>[0], NetworkPolicy, boolean]>([
    ['a name our resolver does not know: the proxy may', 'not-resolved', PUBLIC_ONLY, false],
    ['public addresses only', [{ address: '93.184.216.34', family: 4 }], PUBLIC_ONLY, false],
    [
      'one loopback address among public ones',
      [
        { address: '93.184.216.34', family: 4 },
        { address: '::1', family: 6 },
      ],
      PUBLIC_ONLY,
      true,
    ],
    ['a private address the source allows', [{ address: '10.1.2.3', family: 4 }], { kind: 'allow-list', entries: ['10.0.0.0/8'] }, false],
    ['a private address outside what it allows', [{ address: '10.1.2.3', family: 4 }], { kind: 'allow-list', entries: ['192.168.0.0/16'] }, true],
    ['a metadata address behind an IPv4-mapped IPv6 one', [{ address: '::ffff:169.254.169.254', family: 6 }], PUBLIC_ONLY, true],
  ])('a name the proxy resolves, %s: refused %s', (_case, addresses, policy, refused) => {
    expect(proxiedNameRefusal(addresses, policy) !== undefined).toBe(refused);
  });
});

describe("the environment's proxies", () => {
  const HTTP = { protocol: 'http', host: 'proxy.corp.example', port: 3128 } as const;
  const fromEnvironment = (env: Record<string, string>) => environmentProxies(env)!;
  const via = (env: Record<string, string>, url: string) => routeFor(fromEnvironment(env), new URL(url))?.display;

  it.each<[Record<string, string>, Partial<EnvironmentProxies> | undefined]>([
    [{}, undefined],
    [{ HTTPS_PROXY: '  ', NO_PROXY: 'corp.example' }, undefined],
    [{ HTTPS_PROXY: 'http://proxy.corp.example:3128' }, { https: { ...HTTP, display: 'http://proxy.corp.example:3128 (HTTPS_PROXY)' }, bypass: [] }],
    // Without a scheme an HTTP proxy, without a port its scheme's; upper case before lower.
    [
      { http_proxy: 'proxy.corp.example', HTTP_PROXY: 'proxy.corp.example:3128', https_proxy: 'socks5h://tor.corp.example' },
      {
        http: { ...HTTP, display: 'http://proxy.corp.example:3128 (HTTP_PROXY)' },
        https: { protocol: 'socks5h', host: 'tor.corp.example', port: 1080, display: 'socks5h://tor.corp.example:1080 (https_proxy)' },
      },
    ],
    [
      { ALL_PROXY: 'socks5://desk:s3cret@10.0.0.9:1080', HTTPS_PROXY: 'http://proxy.corp.example:3128' },
      {
        http: { protocol: 'socks5', host: '10.0.0.9', port: 1080, username: 'desk', password: 's3cret', display: 'socks5://10.0.0.9:1080 (ALL_PROXY)' },
        https: { ...HTTP, display: 'http://proxy.corp.example:3128 (HTTPS_PROXY)' },
      },
    ],
    [{ HTTP_PROXY: 'http://proxy.corp.example:80', NO_PROXY: 'a.example, *' }, { bypass: 'all' }],
  ])('%j is read as %j', (env, expected) => {
    const proxies = environmentProxies(env);
    if (expected === undefined) expect(proxies).toBeUndefined();
    else expect(proxies).toMatchObject({ kind: 'environment', ...expected });
  });

  it.each([
    ['HTTPS_PROXY', 'https://desk:s3cret@proxy.corp.example:443', 'must be an http://, socks5:// or socks5h:// URL, not https://'],
    ['http_proxy', 'http://proxy.corp.example:3128/pac', "must be the proxy's address alone, without a path or query"],
    ['ALL_PROXY', 'http://[proxy', 'must be a URL with its scheme'],
  ])('refuses %s=%s, naming the variable and what to do, never the password', (name, value, problem) => {
    const error = (() => {
      try {
        environmentProxies({ [name]: value });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toBeInstanceOf(UserError);
    expect(error!.message).toContain(`the environment variable ${name} (`);
    expect(error!.message).toContain(problem);
    expect(error!.message).toContain('or set fetch.proxy in the config (false to fetch without the environment');
    expect(error!.message).not.toContain('s3cret');
  });

  it.each<[string, ReturnType<typeof proxyBypassOf>]>([
    ['*', 'all'],
    ['corp.example', { kind: 'domain', name: 'corp.example', subdomainsOnly: false }],
    [' .Corp.Example ', { kind: 'domain', name: 'corp.example', subdomainsOnly: true }],
    ['*.corp.example', { kind: 'domain', name: 'corp.example', subdomainsOnly: true }],
    ['wire.example:8443', { kind: 'domain', name: 'wire.example', subdomainsOnly: false, port: 8443 }],
    ['10.0.0.0/8', { kind: 'range', address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['10.1.2.3:8080', { kind: 'range', address: '10.1.2.3', prefix: 32, family: 'ipv4', port: 8080 }],
    ['fd00::/8', { kind: 'range', address: 'fd00::', prefix: 8, family: 'ipv6' }],
    ['fd00::1', { kind: 'range', address: 'fd00::1', prefix: 128, family: 'ipv6' }],
    ['[fd00::1]:8080', { kind: 'range', address: 'fd00::1', prefix: 128, family: 'ipv6', port: 8080 }],
    ['', undefined],
    ['.', undefined],
    ['10.0.0.0/33', undefined],
  ])('NO_PROXY entry %j', (entry, bypass) => {
    expect(proxyBypassOf(entry)).toEqual(bypass);
  });

  const corp = {
    HTTP_PROXY: 'http://proxy.corp.example:3128',
    HTTPS_PROXY: 'socks5h://tor.corp.example:9050',
    NO_PROXY: 'intranet.example,.wire.example,feeds.example:8443,10.0.0.0/8,fd00::/8',
  };
  it.each([
    ['https://www3.nhk.or.jp/rss/news/cat0.xml', 'socks5h://tor.corp.example:9050 (HTTPS_PROXY)'],
    ['http://www.japantoday.com/feed', 'http://proxy.corp.example:3128 (HTTP_PROXY)'],
    ['https://intranet.example/feed', undefined],
    ['https://desk.intranet.example/feed', undefined],
    ['https://notintranet.example/feed', 'socks5h://tor.corp.example:9050 (HTTPS_PROXY)'],
    ['https://wire.example/feed', 'socks5h://tor.corp.example:9050 (HTTPS_PROXY)'],
    ['https://jiji.wire.example/feed', undefined],
    ['https://feeds.example:8443/feed', undefined],
    ['https://feeds.example/feed', 'socks5h://tor.corp.example:9050 (HTTPS_PROXY)'],
    ['http://10.1.2.3/feed', undefined],
    ['http://11.1.2.3/feed', 'http://proxy.corp.example:3128 (HTTP_PROXY)'],
    ['http://[fd00::5]/feed', undefined],
    ['http://[::ffff:10.0.0.1]/feed', undefined],
    // Loopback is never proxied, NO_PROXY or not: a proxy elsewhere would reach its own.
    ['http://localhost:8080/feed', undefined],
    ['http://127.0.0.1:8080/feed', undefined],
    ['http://[::1]:8080/feed', undefined],
  ])('%s goes through %s', (url, display) => {
    expect(via(corp, url)).toBe(display);
  });

  it('leaves a scheme without a variable straight, and a setting of one proxy as it is', () => {
    expect(via({ HTTPS_PROXY: 'proxy.corp.example:3128' }, 'http://www.japantoday.com/feed')).toBeUndefined();
    const one = proxyRouteOf('socks5h://127.0.0.1:9050');
    expect(routeFor(one, new URL('http://localhost/feed'))).toBe(one);
    expect(routeFor(undefined, new URL('https://jen.jiji.com/'))).toBeUndefined();
  });
});

describe('ProxiedNames', () => {
  const http = proxyRouteOf('http://proxy.example:3128');
  const setup = (answers: Array<ResolvedName | Error>) => {
    let clock = 0;
    const asked: string[] = [];
    const names = new ProxiedNames(
      async (host) => {
        asked.push(host);
        const answer = answers.shift()!;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      () => clock,
    );
    return { names, asked, tick: (ms: number) => (clock += ms) };
  };

  it('asks our resolver once a minute per name, and keeps a refusal as long', async () => {
    const { names, asked, tick } = setup(['not-resolved', [{ address: '127.0.0.1', family: 4 }]]);
    await names.check('wire.internal', http, PUBLIC_ONLY);
    tick(59_000);
    await names.check('wire.internal', http, PUBLIC_ONLY);
    expect(asked).toEqual(['wire.internal']);
    tick(2_000);
    await expect(names.check('wire.internal', http, PUBLIC_ONLY)).rejects.toThrow(/refused to connect to wire\.internal: address 127\.0\.0\.1 is not public/);
    await expect(names.check('wire.internal', http, PUBLIC_ONLY)).rejects.toThrow(/is not public/);
    expect(asked).toEqual(['wire.internal', 'wire.internal']);
  });

  it('keeps no failed lookup, and asks nothing where the guard has nothing to check', async () => {
    const { names, asked } = setup([Object.assign(new Error('lookup failed'), { code: 'ESERVFAIL' }), 'not-resolved']);
    await expect(names.check('wire.internal', http, PUBLIC_ONLY)).rejects.toThrow('lookup failed');
    await names.check('wire.internal', http, PUBLIC_ONLY);
    await names.check('wire.internal', http, ANY);
    await names.check('203.0.113.9', http, PUBLIC_ONLY);
    await names.check('wire.internal', proxyRouteOf('socks5://127.0.0.1:1080'), PUBLIC_ONLY);
    expect(asked).toEqual(['wire.internal', 'wire.internal']);
  });
});

describe('fetching through a proxy', () => {
  const closing: Array<{ close(): Promise<void> }> = [];
  let http = new HttpClient();
  afterEach(async () => {
    await http.close();
    http = new HttpClient();
    await Promise.all(closing.splice(0).map((server) => server.close()));
  });
  const track = <T extends { close(): Promise<void> }>(server: T): T => {
    closing.push(server);
    return server;
  };
  const site = async (): Promise<TestServer> =>
    track(await startTestServer((_request, response) => response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS)));
  const fetchThrough = (url: string, proxy: TestProxy | string, network: NetworkPolicy = ANY, extra: Partial<Parameters<typeof fetchFeed>[1]> = {}) =>
    fetchFeed(http, { url, network, proxy: proxyRouteOf(typeof proxy === 'string' ? proxy : proxy.url), ...extra });
  const failure = async (promise: Promise<FetchResult>): Promise<FetchError> => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(FetchError);
    return error as FetchError;
  };

  it('sends a plain http URL to an http proxy, which resolves the name, with its login and the source headers for the site', async () => {
    const feed = await site();
    const proxy = track(await startHttpProxy({ login: 'desk:s3cret' }));
    const credentials = { origin: `http://wire.internal:${feed.port}`, headers: { authorization: 'Bearer site-key' } };
    const url = `http://wire.internal:${feed.port}/feed.xml?desk=asia`;
    const response = await fetchThrough(url, `http://desk:s3cret@127.0.0.1:${proxy.port}`, ANY, { credentials });
    expect(response).toMatchObject({ kind: 'ok', finalUrl: url });
    expect(response.kind === 'ok' && response.text).toContain('defense chiefs');
    expect(proxy.requests).toMatchObject([{ method: 'GET', target: url, login: 'desk:s3cret' }]);
    expect(proxy.requests[0]!.headers).toMatchObject({ host: `wire.internal:${feed.port}`, authorization: 'Bearer site-key' });
    // The proxy's login went to the proxy alone.
    expect(feed.requests[0]!.headers['proxy-authorization']).toBeUndefined();
    expect(feed.requests[0]!.headers.authorization).toBe('Bearer site-key');
  });

  it('names a refused proxy login, an unreachable proxy and a failed tunnel', async () => {
    const feed = await site();
    const proxy = track(await startHttpProxy({ login: 'desk:s3cret' }));
    expect(await failure(fetchThrough(`${feed.url}/feed.xml`, proxy))).toMatchObject({
      kind: 'network',
      message: `the proxy http://127.0.0.1:${proxy.port} answered HTTP 407 (it wants a user name and password, or refused the ones given)`,
    });
    expect(await failure(fetchThrough(`https://127.0.0.1:${feed.port}/feed.xml`, proxy))).toMatchObject({
      kind: 'network',
      message: `the proxy http://127.0.0.1:${proxy.port} refused a tunnel to 127.0.0.1:${feed.port}: HTTP 407 Proxy Authentication Required (it wants a user name and password, or refused the ones given)`,
    });
    const gone = await startHttpProxy();
    await gone.close();
    expect(await failure(fetchThrough(`${feed.url}/feed.xml`, gone))).toMatchObject({
      kind: 'network',
      message: `request failed through the proxy http://127.0.0.1:${gone.port}: ECONNREFUSED (connection refused)`,
    });
    expect(await failure(fetchThrough(`https://127.0.0.1:${feed.port}/feed.xml`, gone))).toMatchObject({
      kind: 'network',
      message: `cannot reach the proxy http://127.0.0.1:${gone.port}: ECONNREFUSED (connection refused)`,
    });
    expect(feed.requests).toHaveLength(0);
  });

  it('reaches https sites through a CONNECT tunnel, TLS with the site itself under its own name', async () => {
    const certificate = selfSignedCertificate('wire.internal');
    const names: string[] = [];
    const server = createHttpsServer(
      {
        key: certificate.key,
        cert: certificate.cert,
        SNICallback: (name, done) => {
          names.push(name);
          done(null, undefined);
        },
      },
      (_request, response) => response.end(RSS),
    );
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const proxy = track(await startHttpProxy());
    try {
      expect(await failure(fetchThrough(`https://wire.internal:${(server.address() as AddressInfo).port}/feed.xml`, proxy))).toMatchObject({
        kind: 'network',
        message: `request failed through the proxy ${proxy.url}: DEPTH_ZERO_SELF_SIGNED_CERT (self-signed TLS certificate)`,
      });
      expect(proxy.requests).toMatchObject([{ method: 'CONNECT', target: `wire.internal:${(server.address() as AddressInfo).port}` }]);
      expect(names).toEqual(['wire.internal']); // the TLS handshake reached the site, under its name
    } finally {
      server.closeAllConnections();
      certificate.remove();
    }
  });

  it('keeps the address guard: a name our resolver puts on loopback is refused before the proxy is asked', async () => {
    const feed = await site();
    const proxy = track(await startHttpProxy());
    const socks = track(await startSocksProxy());
    for (const [target, through] of [
      [`http://localhost:${feed.port}/feed.xml`, proxy.url],
      [`https://localhost:${feed.port}/feed.xml`, proxy.url],
      [`http://localhost:${feed.port}/feed.xml`, `socks5h://127.0.0.1:${socks.port}`],
      [`http://localhost:${feed.port}/feed.xml`, socks.url],
      [`http://127.0.0.1:${feed.port}/feed.xml`, socks.url],
    ] as const) {
      const error = await failure(fetchThrough(target, through, PUBLIC_ONLY));
      expect(error.kind, target).toBe('refused');
      expect(error.message).toMatch(/^refused to connect to (localhost|127\.0\.0\.1(:\d+)?): address (127\.0\.0\.1|::1) is not public/);
    }
    expect(proxy.requests).toHaveLength(0);
    expect(socks.requests).toHaveLength(0);
    expect(feed.requests).toHaveLength(0);
  });

  it('speaks SOCKS5: names to socks5h, addresses resolved here to socks5, with a login', async () => {
    const feed = await site();
    const socks = track(await startSocksProxy({ login: 'tor:circuit' }));
    const port = feed.port;
    const through = (scheme: string) => `${scheme}://tor:circuit@127.0.0.1:${socks.port}`;
    for (const [url, scheme] of [
      [`http://wire.internal:${port}/feed.xml`, 'socks5h'],
      [`http://localhost:${port}/feed.xml`, 'socks5'],
      [`http://[::1]:${port}/feed.xml`, 'socks5'],
    ] as const) {
      const response = await fetchThrough(url, through(scheme));
      expect(response.kind === 'ok' && response.text, url).toContain('defense chiefs');
    }
    expect(socks.requests).toHaveLength(3);
    expect(socks.requests[0]).toEqual({ method: 'SOCKS', target: `wire.internal:${port}`, addressType: 'name', login: 'tor:circuit' });
    expect(socks.requests[1]!.addressType).not.toBe('name'); // localhost, resolved here
    expect(socks.requests[1]!.target).toMatch(new RegExp(`^(127\\.0\\.0\\.1|\\[::1\\]):${port}$`));
    expect(socks.requests[2]).toMatchObject({ target: `[::1]:${port}`, addressType: 'ipv6' });
    expect(feed.requests).toHaveLength(3);
  });

  it('names what a SOCKS5 proxy refuses: the login, the way to log in, the connection', async () => {
    const feed = await site();
    const locked = track(await startSocksProxy({ login: 'tor:circuit' }));
    const refusing = track(await startSocksProxy({ refuse: 4 }));
    const url = `http://wire.internal:${feed.port}/feed.xml`;
    expect(await failure(fetchThrough(url, `socks5h://tor:wrong@127.0.0.1:${locked.port}`))).toMatchObject({
      kind: 'network',
      message: `the proxy socks5h://127.0.0.1:${locked.port} refused its user name and password`,
    });
    expect(await failure(fetchThrough(url, `socks5h://127.0.0.1:${locked.port}`))).toMatchObject({
      message: `the proxy socks5h://127.0.0.1:${locked.port} accepts none of the ways to log in offered (it may want a user name and password)`,
    });
    expect(await failure(fetchThrough(url, `socks5h://127.0.0.1:${refusing.port}`))).toMatchObject({
      message: `the proxy socks5h://127.0.0.1:${refusing.port} could not connect to wire.internal:${feed.port}: host unreachable`,
    });
    expect(feed.requests).toHaveLength(0);
  });

  it('follows redirects through the proxy, and reuses its tunnels', async () => {
    const feed = track(
      await startTestServer((request, response) => {
        if (request.url === '/old') response.writeHead(301, { location: '/feed.xml' }).end();
        else response.end(RSS);
      }),
    );
    const socks = track(await startSocksProxy());
    const proxy = `socks5h://127.0.0.1:${socks.port}`;
    const first = await fetchThrough(`http://wire.internal:${feed.port}/old`, proxy);
    expect(first).toMatchObject({ kind: 'ok', finalUrl: `http://wire.internal:${feed.port}/feed.xml`, redirects: [{ status: 301 }] });
    const tunnels = socks.requests.length;
    await fetchThrough(`http://wire.internal:${feed.port}/feed.xml`, proxy);
    expect(feed.requests.map((request) => request.url)).toEqual(['/old', '/feed.xml', '/feed.xml']);
    expect(socks.requests).toHaveLength(tunnels); // the next fetch took a tunnel kept alive
  });
});

describe('wirefeed ingest --once through proxies', () => {
  it('fetches each source through its proxy (https over SOCKS5, http over an http proxy) or straight, with the password from the environment', async () => {
    const certificate = selfSignedCertificate('wire.internal');
    const jiji = seedDocument('jiji-press.atom.xml', 'application/atom+xml');
    const tls = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (_request, response) =>
      response.writeHead(200, { 'content-type': jiji.contentType }).end(jiji.body),
    );
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const fixtures = await startFixtureServer({
      '/arabnews/japan.rss': seedDocument('arabnews-japan.rss.xml', 'application/rss+xml; charset=utf-8'),
      '/japantoday/feed.rdf': seedDocument('japantoday.rdf.xml', 'application/rdf+xml'),
    });
    const fixturePort = new URL(fixtures.url).port;
    const socks = await startSocksProxy({ login: 'desk:tunnel-pass' });
    const proxy = await startHttpProxy();
    const configDir = writeConfigDir({
      'sources.yml': `fetch:
  proxy: socks5h://desk:\${WIREFEED_TEST_PROXY_PASSWORD}@127.0.0.1:${socks.port}
sources:
  - id: jiji-press
    url: https://wire.internal:${(tls.address() as AddressInfo).port}/feed.atom
    allowPrivateNetwork: true
  - id: arabnews-japan
    url: ${fixtures.url}/arabnews/japan.rss
    allowPrivateNetwork: true
    proxy: false
  - id: japan-today
    url: http://wire.internal:${fixturePort}/japantoday/feed.rdf
    allowPrivateNetwork: true
    proxy: ${proxy.url}
`,
    });
    try {
      const cli = runCli(['ingest', '--once', '--json', '--config', configDir], {
        DATA_DIR: mkdtempSync(join(tmpdir(), 'wirefeed-data-')),
        DATABASE_URL: '',
        LOG_LEVEL: 'silent',
        NODE_EXTRA_CA_CERTS: certificate.certPath,
        WIREFEED_TEST_PROXY_PASSWORD: 'tunnel-pass',
      });
      expect(await cli.exited, cli.output().stderr).toBe(0);
      const summary = JSON.parse(cli.output().stdout);
      expect(summary).toMatchObject({ ok: 3, failed: 0 });
      expect(summary.itemsNew).toBeGreaterThanOrEqual(3);
      expect(socks.requests).toMatchObject([
        { method: 'SOCKS', target: `wire.internal:${(tls.address() as AddressInfo).port}`, addressType: 'name', login: 'desk:tunnel-pass' },
      ]);
      expect(proxy.requests).toMatchObject([{ method: 'GET', target: `http://wire.internal:${fixturePort}/japantoday/feed.rdf` }]);
      // Arab News straight to its server; Japan Today's request came through the http proxy.
      expect(fixtures.requests.map((request) => request.url).sort()).toEqual(['/arabnews/japan.rss', '/japantoday/feed.rdf']);
      // A proxy belongs to the deployment: an OPML export says which sources had their own, and writes none.
      const exported = runCli(['opml', 'export', '--config', configDir], { LOG_LEVEL: 'silent', WIREFEED_TEST_PROXY_PASSWORD: 'tunnel-pass' });
      expect(await exported.exited).toBe(0);
      expect(exported.output().stderr).toContain(
        'the proxy settings of arabnews-japan, japan-today are not written: a proxy belongs to the deployment, not the feed',
      );
      expect(exported.output().stdout).not.toMatch(new RegExp(`proxy|tunnel-pass|127\\.0\\.0\\.1:(${socks.port}|${proxy.port})`));
    } finally {
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
      await Promise.all([fixtures.close(), socks.close(), proxy.close()]);
      certificate.remove();
    }
  });
});

describe("wirefeed through the environment's proxies", () => {
  it('fetches through HTTP_PROXY as curl and Go do, loopback straight; a value it cannot use stops it with one line', async () => {
    const fixtures = await startFixtureServer({
      '/arabnews/japan.rss': seedDocument('arabnews-japan.rss.xml', 'application/rss+xml; charset=utf-8'),
      '/japantoday/feed.rdf': seedDocument('japantoday.rdf.xml', 'application/rdf+xml'),
    });
    const proxy = await startHttpProxy();
    const configDir = writeConfigDir({
      'sources.yml': `sources:
  - id: arabnews-japan
    url: ${fixtures.url}/arabnews/japan.rss
    allowPrivateNetwork: true
  - id: japan-today
    url: http://wire.internal:${new URL(fixtures.url).port}/japantoday/feed.rdf
    allowPrivateNetwork: true
`,
    });
    try {
      const environment = { DATA_DIR: mkdtempSync(join(tmpdir(), 'wirefeed-data-')), DATABASE_URL: '', LOG_LEVEL: 'silent' };
      const cli = runCli(['ingest', '--once', '--json', '--config', configDir], { ...environment, http_proxy: `127.0.0.1:${proxy.port}` });
      expect(await cli.exited, cli.output().stderr).toBe(0);
      expect(JSON.parse(cli.output().stdout)).toMatchObject({ ok: 2, failed: 0 });
      // Japan Today's name went to the proxy; Arab News, on a loopback address, straight to its server.
      expect(proxy.requests).toMatchObject([{ method: 'GET', target: `http://wire.internal:${new URL(fixtures.url).port}/japantoday/feed.rdf` }]);
      expect(fixtures.requests.map((request) => request.url).sort()).toEqual(['/arabnews/japan.rss', '/japantoday/feed.rdf']);

      const validated = runCli(['validate', '--config', configDir], { ...environment, http_proxy: `127.0.0.1:${proxy.port}`, NO_PROXY: '.corp.example' });
      expect(await validated.exited).toBe(0);
      expect(validated.output().stdout).toContain(
        `the environment's proxies: https straight, http through http://127.0.0.1:${proxy.port} (http_proxy); straight: localhost, loopback and 1 NO_PROXY entry`,
      );
      const refused = runCli(['validate', '--config', configDir], { ...environment, HTTPS_PROXY: 'https://desk:s3cret@proxy.corp.example' });
      expect(await refused.exited).toBe(1);
      expect(refused.output().stderr.trim()).toBe(
        "wirefeed validate: the environment variable HTTPS_PROXY (https://proxy.corp.example) must be an http://, socks5:// or socks5h:// URL, not https://: mend it, or set fetch.proxy in the config (false to fetch without the environment's proxies)",
      );
    } finally {
      await Promise.all([fixtures.close(), proxy.close()]);
    }
  });
});

describe('webhooks and hub pings through the proxy', () => {
  const topic = (proxy?: string): WebhookTopic => ({
    slug: 'japan-us-security',
    title: 'Japan–US security',
    query: 'japan',
    limit: 50,
    webhook: { name: '', url: '', secret: 'whsec_dGVzdA==', ...(proxy ? { proxy: proxyRouteOf(proxy) } : {}) },
  });

  it('POSTs a delivery through the proxy (or straight, without one), and names the proxy when it fails, never the URL', async () => {
    const received: Array<{ body: string; headers: Record<string, unknown> }> = [];
    const receiver = await startTestServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push({ body, headers: request.headers });
        response.writeHead(204).end();
      });
    });
    const proxy = await startHttpProxy({ login: 'desk:s3cret' });
    const http = new HttpClient();
    try {
      const hookUrl = `${receiver.url}/hooks/T000/B000/token-in-the-path`;
      const message = { body: '{"version":"https://jsonfeed.org/version/1.1","items":[]}', contentType: 'application/feed+json', url: hookUrl };
      const through = topic(`http://desk:s3cret@127.0.0.1:${proxy.port}`);
      expect(await postToWebhook(http, through.webhook, message, { id: 'd-1' })).toMatchObject({ status: 204 });
      expect(proxy.requests).toMatchObject([{ method: 'POST', target: hookUrl, login: 'desk:s3cret' }]);
      expect(await postToWebhook(http, topic().webhook, message, { id: 'd-2' })).toMatchObject({ status: 204 });
      expect(proxy.requests).toHaveLength(1); // the second went straight
      expect(received.map((delivery) => [delivery.body, delivery.headers['webhook-id'], delivery.headers['proxy-authorization']])).toEqual([
        [message.body, 'd-1', undefined],
        [message.body, 'd-2', undefined],
      ]);
      const wrong = topic(`http://desk:wrong@127.0.0.1:${proxy.port}`);
      const failure = await postToWebhook(http, wrong.webhook, message, { id: 'd-3' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(WebhookFailure);
      expect((failure as Error).message).toBe(
        `the proxy http://127.0.0.1:${proxy.port} answered HTTP 407 (it wants a user name and password, or refused the ones given)`,
      );
      expect((failure as Error).message).not.toContain('token-in-the-path');
    } finally {
      await http.close();
      await Promise.all([receiver.close(), proxy.close()]);
    }
  });

  it('tells a WebSub hub through the proxy', async () => {
    const pings: string[] = [];
    const hub = await startTestServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        pings.push(body);
        response.writeHead(204).end();
      });
    });
    const socks = await startSocksProxy();
    const http = new HttpClient();
    try {
      const publish = { ...DEFAULT_PUBLISH_SETTINGS, publicUrl: 'https://feeds.example.org', hub: `${hub.url}/hub` };
      await announceToHub({ http, proxy: proxyRouteOf(socks.url) }, publish, ['japan-us-security']);
      expect(socks.requests).toMatchObject([{ method: 'SOCKS', target: `127.0.0.1:${hub.port}` }]);
      expect(pings).toHaveLength(1);
      expect(new URLSearchParams(pings[0]).getAll('hub.url')).toEqual([
        'https://feeds.example.org/topics/japan-us-security.rss',
        'https://feeds.example.org/topics/japan-us-security.atom',
        'https://feeds.example.org/topics/japan-us-security.json',
      ]);
    } finally {
      await http.close();
      await Promise.all([hub.close(), socks.close()]);
    }
  });
});
