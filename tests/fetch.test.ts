import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect as connectSocket, createServer as createNetServer, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isPublicAddress, nonPublicRangeOf, nonPublicRangesFor, unmapIpv4 } from '../src/fetch/guard.js';
import { credentialHeaders, FetchError, fetchFeed, HttpClient } from '../src/fetch/index.js';
import type { NetworkPolicy, SourceCredentials } from '../src/model/source.js';
import { startTestServer, type TestServer } from './helpers/http-server.js';
import { selfSignedCertificate } from './helpers/tls.js';

const ANY: NetworkPolicy = { kind: 'any' };
const PUBLIC_ONLY: NetworkPolicy = { kind: 'public-only' };
const RSS =
  '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Japan, U.S. defense chiefs meet</title><link>https://w.example/1</link></item></channel></rss>';

const servers: TestServer[] = [];
async function serve(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const server = await startTestServer(...args);
  servers.push(server);
  return server;
}
/** A fresh client per test: its pooled connections and per-host limit are the test's own. */
let http = new HttpClient();
afterEach(async () => {
  await http.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  http = new HttpClient();
});
afterAll(() => http.close());

/** Fetches `url` with a 300 ms connect timeout and a 20 s deadline: it must fail at the connect timeout. */
async function expectConnectTimeout(url: string): Promise<void> {
  const started = Date.now();
  expect(await fetchError(fetchFeed(http, { url, network: ANY, limits: { connectTimeoutMs: 300, timeoutMs: 20_000 } }))).toMatchObject({
    kind: 'timeout',
    message: 'connect timeout',
  });
  expect(Date.now() - started).toBeLessThan(5_000); // not the 20 s deadline
}

async function fetchError(promise: Promise<unknown>): Promise<FetchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FetchError);
    return error as FetchError;
  }
  throw new Error('expected the fetch to fail');
}

describe('address guard', () => {
  it.each([
    ['8.8.8.8', true],
    ['2001:4860:4860::8888', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.31.255.255', false],
    ['192.168.0.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['100.128.0.1', true],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['::1', false],
    ['::', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::ffff:0:7f00:1', false],
    ['::ffff:0:10.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['fd00::1', false],
    ['fe80::1', false],
    ['ff02::1', false],
    ['64:ff9b::a00:1', false],
    ['not an ip', false],
  ])('isPublicAddress(%s) = %s', (address, expected) => expect(isPublicAddress(address)).toBe(expected));

  it.each([
    ['127.0.0.1', '127.0.0.0/8'],
    ['192.168.1.20', '192.168.0.0/16'],
    ['172.20.0.5', '172.16.0.0/12'],
    ['::ffff:10.1.2.3', '10.0.0.0/8'],
    ['::1', '::1/128'],
    ['fd12::1', 'fc00::/7'],
    ['8.8.8.8', undefined],
  ])('nonPublicRangeOf(%s) = %s: the narrowest range to allow', (address, range) => expect(nonPublicRangeOf(address)).toBe(range));

  it('finds the ranges a URL needs, by literal or by name', async () => {
    expect(await nonPublicRangesFor('http://127.0.0.2:8080/feed')).toEqual(['127.0.0.0/8']);
    expect(await nonPublicRangesFor('http://[::1]/feed')).toEqual(['::1/128']);
    expect((await nonPublicRangesFor('http://localhost/feed')).every((range) => ['127.0.0.0/8', '::1/128'].includes(range))).toBe(true);
  });

  it('unmaps IPv4-mapped IPv6 in both spellings', () => {
    expect(unmapIpv4('[::ffff:7f00:1]')).toBe('127.0.0.1');
    expect(unmapIpv4('::FFFF:10.0.0.1')).toBe('10.0.0.1');
  });

  it('refuses loopback, private and tricky spellings without the listener seeing a connection', async () => {
    const listener = await serve((_request, response) => response.end(RSS));
    const port = listener.port;
    const targets = [
      `http://127.0.0.1:${port}/feed`,
      `http://[::ffff:127.0.0.1]:${port}/feed`,
      `http://2130706433:${port}/feed`,
      `http://0x7f000001:${port}/feed`,
      `http://0177.0.0.1:${port}/feed`,
      `http://localhost:${port}/feed`,
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/feed',
      'http://[fd00::1]/feed',
      'http://[::1]/feed',
      'http://0.0.0.0/feed',
    ];
    for (const url of targets) {
      const error = await fetchError(fetchFeed(http, { url, network: PUBLIC_ONLY }));
      expect(error.kind, url).toBe('refused');
      expect(error.message, url).toMatch(/refused to connect to .*not public/);
    }
    expect(listener.connections).toBe(0);
  });

  it('re-checks every redirect hop: a public-looking first hop cannot bounce us to localhost', async () => {
    const inside = await serve((_request, response) => response.end(RSS));
    // 127.0.0.2 stands for "a host this source may reach"; 127.0.0.1 is still off limits.
    const bouncer = await serve((request, response) => {
      const to = request.url === '/by-name' ? `http://localhost:${inside.port}/` : `http://127.0.0.1:${inside.port}/`;
      response.writeHead(302, { location: to }).end();
    }, '127.0.0.2');
    const policy: NetworkPolicy = { kind: 'allow-list', entries: ['127.0.0.2'] };
    for (const path of ['/by-ip', '/by-name']) {
      const error = await fetchError(fetchFeed(http, { url: `${bouncer.url}${path}`, network: policy }));
      expect(error.kind).toBe('refused');
    }
    expect(bouncer.requests).toHaveLength(2);
    expect(inside.connections).toBe(0);
  });

  it('fetches https through the same guard: a name for loopback is refused, a self-signed certificate named', async () => {
    const certificate = selfSignedCertificate('localhost');
    let connections = 0;
    const server = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (_request, response) => response.end(RSS));
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://localhost:${(server.address() as AddressInfo).port}/feed`;
    try {
      expect(await fetchError(fetchFeed(http, { url, network: PUBLIC_ONLY }))).toMatchObject({ kind: 'refused' });
      expect(connections).toBe(0);
      expect(await fetchError(fetchFeed(http, { url, network: ANY }))).toMatchObject({
        kind: 'network',
        message: 'request failed: DEPTH_ZERO_SELF_SIGNED_CERT (self-signed TLS certificate)',
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      certificate.remove();
    }
  });

  it('times out a connection whose TLS handshake never comes, at the connect timeout', async () => {
    // Accepts the TCP connection and then says nothing.
    const silent = createNetServer(() => {});
    const sockets = new Set<Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/feed`;
    try {
      await expectConnectTimeout(url);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('times out a plain connection the server never accepts, at the connect timeout', async () => {
    // A listener in a stopped process: the kernel completes handshakes until its backlog is full, then leaves new
    // connections waiting for good, as a host dropping packets does.
    const listener = spawn(
      process.execPath,
      ['-e', "const s = require('net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port))"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const fillers: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) => listener.stdout.once('data', (data) => resolve(Number(String(data)))));
      listener.kill('SIGSTOP');
      for (let filled = false; !filled && fillers.length < 16; ) {
        const filler = connectSocket(port, '127.0.0.1');
        fillers.push(filler);
        filled = await new Promise<boolean>((resolve) => {
          filler.once('connect', () => resolve(false)).once('error', () => resolve(false));
          setTimeout(() => resolve(true), 200);
        });
      }
      await expectConnectTimeout(`http://127.0.0.1:${port}/feed`);
    } finally {
      for (const filler of fillers) filler.destroy();
      listener.kill('SIGKILL');
    }
  });

  it('refuses schemes other than http and https on redirects', async () => {
    const server = await serve((_request, response) => response.writeHead(301, { location: 'file:///etc/passwd' }).end());
    const error = await fetchError(fetchFeed(http, { url: server.url, network: ANY }));
    expect(error).toMatchObject({ kind: 'refused', message: 'refused to fetch file: URL file:///etc/passwd' });
  });
});

describe('limits', () => {
  it('stops a 20 MiB body at the cap', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/xml' });
      for (let i = 0; i < 20; i++) response.write(chunk);
      response.end();
    });
    const error = await fetchError(fetchFeed(http, { url: server.url, network: ANY, limits: { maxBytes: 15 * 1024 * 1024 } }));
    expect(error).toMatchObject({ kind: 'too-large', message: `body exceeds the ${15 * 1024 * 1024}-byte limit` });
  });

  it('stops a gzip bomb at the cap counted after decompression', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024)); // 200 MiB of zeros, about 200 KiB on the wire
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    const server = await serve((_request, response) => response.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb));
    const before = process.memoryUsage().rss;
    const error = await fetchError(fetchFeed(http, { url: server.url, network: ANY, limits: { maxBytes: 15 * 1024 * 1024 } }));
    expect(error.kind).toBe('too-large');
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('decodes gzip, deflate and br bodies', async () => {
    const { brotliCompressSync, deflateSync } = await import('node:zlib');
    const encoders = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };
    const server = await serve((request, response) => {
      const coding = request.url!.slice(1) as keyof typeof encoders;
      response.writeHead(200, { 'content-encoding': coding, 'content-type': 'application/rss+xml' }).end(encoders[coding](Buffer.from(RSS)));
    });
    for (const coding of Object.keys(encoders)) {
      const result = await fetchFeed(http, { url: `${server.url}/${coding}`, network: ANY });
      expect(result.kind === 'ok' && result.text).toBe(RSS);
    }
    expect(server.requests[0]!.headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('stops a server that trickles one byte a second at the deadline and leaves no socket open', async () => {
    const timers = new Set<NodeJS.Timeout>();
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/xml' });
      const timer = setInterval(() => response.write('<'), 1000);
      timers.add(timer);
      response.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const error = await fetchError(fetchFeed(http, { url: server.url, network: ANY, limits: { timeoutMs: 2_500 } }));
    expect(error).toMatchObject({ kind: 'timeout', message: 'deadline exceeded' });
    expect(Date.now() - started).toBeLessThan(10_000); // generous: a hang would be minutes
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.openSockets.size).toBe(0); // our side closed the connection
    timers.forEach(clearInterval);
  });

  it('follows at most 5 redirects and detects loops', async () => {
    const server = await serve((request, response) => {
      const step = Number(request.url!.slice(1));
      if (request.url === '/loop-a') return response.writeHead(302, { location: '/loop-b' }).end();
      if (request.url === '/loop-b') return response.writeHead(302, { location: '/loop-a' }).end();
      if (step < 10) return response.writeHead(301, { location: `/${step + 1}` }).end();
      response.end(RSS);
    });
    expect(await fetchError(fetchFeed(http, { url: `${server.url}/0`, network: ANY }))).toMatchObject({
      kind: 'redirects',
      message: expect.stringMatching(/^more than 5 redirects/),
    });
    const ok = await fetchFeed(http, { url: `${server.url}/6`, network: ANY });
    expect(ok).toMatchObject({ kind: 'ok', finalUrl: `${server.url}/10` });
    expect(await fetchError(fetchFeed(http, { url: `${server.url}/loop-a`, network: ANY }))).toMatchObject({
      kind: 'redirects',
      message: expect.stringMatching(/^redirect loop/),
    });
  });

  it('keeps to the per-host limit however many sources share a host', async () => {
    http.setPerHostLimit(2);
    let active = 0;
    let peak = 0;
    const server = await serve((_request, response) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        response.end(RSS);
      }, 150);
    });
    await Promise.all(Array.from({ length: 12 }, (_, index) => fetchFeed(http, { url: `${server.url}/feed-${index}`, network: ANY })));
    expect(server.requests).toHaveLength(12);
    expect(peak).toBe(2);
  });

  it('starts the deadline when the request goes, not while it waits behind others on its host', async () => {
    http.setPerHostLimit(1);
    // Four slow feeds ahead on the same host hold the only slot for about 2.4 s; each takes 0.6 s of a 2 s deadline.
    const server = await serve((request, response) => setTimeout(() => response.end(RSS), request.url === '/small' ? 0 : 600));
    const slow = Array.from({ length: 4 }, (_, index) => fetchFeed(http, { url: `${server.url}/slow-${index}`, network: ANY, limits: { timeoutMs: 2_000 } }));
    const small = fetchFeed(http, { url: `${server.url}/small`, network: ANY, limits: { timeoutMs: 2_000 } });
    const results = await Promise.allSettled([...slow, small]);
    expect(results.map((result) => result.status)).toEqual(Array(5).fill('fulfilled'));
    expect(server.requests.at(-1)!.url).toBe('/small');
  });

  it('a fetch waiting for its host is abandoned at once by shutdown', async () => {
    http.setPerHostLimit(1);
    const server = await serve((_request, response) => setTimeout(() => response.end(RSS), 300));
    const stop = new AbortController();
    const first = fetchFeed(http, { url: `${server.url}/a`, network: ANY });
    const queued = fetchError(fetchFeed(http, { url: `${server.url}/b`, network: ANY, signal: stop.signal }));
    stop.abort();
    expect(await queued).toMatchObject({ kind: 'aborted' });
    await first;
    expect(server.requests.map((request) => request.url)).toEqual(['/a']);
  });

  it('reuses a connection, and retries once on a new one when the server closed the reused one as it was sent', async () => {
    // The keep-alive race made certain: the second request on any connection is met by a closed socket.
    const served = new WeakMap<object, number>();
    const server = await serve((request, response) => {
      const count = (served.get(request.socket) ?? 0) + 1;
      served.set(request.socket, count);
      if (count === 2) request.socket.destroy();
      else response.end(RSS);
    });
    for (const path of ['/a', '/b', '/c']) expect(await fetchFeed(http, { url: `${server.url}${path}`, network: ANY })).toMatchObject({ kind: 'ok' });
    // /a on the first connection; /b there (cut), then on a second; /c reused the second (cut), then on a third.
    expect(server.requests.map((request) => request.url)).toEqual(['/a', '/b', '/b', '/c', '/c']);
    expect(server.connections).toBe(3);
  });

  it('fails a fetch whose connection is cut mid-body, and goes on', async () => {
    const server = await serve((request, response) => {
      if (request.url === '/ok') return response.end(RSS);
      response.writeHead(200, { 'content-type': 'application/rss+xml', 'content-length': '100000' });
      response.write(RSS.slice(0, 40), () => setTimeout(() => request.socket.destroy(), 20));
    });
    expect(await fetchError(fetchFeed(http, { url: `${server.url}/cut`, network: ANY }))).toMatchObject({
      kind: 'network',
      message: 'request failed: ECONNRESET (connection reset by the server)',
    });
    expect(await fetchFeed(http, { url: `${server.url}/ok`, network: ANY })).toMatchObject({ kind: 'ok' });
  });

  it('does not retry a request cut on a fresh connection', async () => {
    const server = await serve((request) => request.socket.destroy());
    expect(await fetchError(fetchFeed(http, { url: server.url, network: ANY }))).toMatchObject({
      kind: 'network',
      message: expect.stringMatching(/ECONNRESET/),
    });
    expect(server.requests).toHaveLength(1);
  });

  it('names Wirefeed in the User-Agent and sends validators', async () => {
    const server = await serve((_request, response) => response.writeHead(304).end());
    const result = await fetchFeed(http, { url: server.url, network: ANY, etag: '"v1"', lastModified: 'Sun, 02 Jun 2024 00:00:00 GMT' });
    expect(result.kind).toBe('not-modified');
    expect(server.requests[0]!.headers).toMatchObject({
      'user-agent': expect.stringMatching(/^Wirefeed\/\S+ \(\+https?:\/\/\S+/),
      'if-none-match': '"v1"',
      'if-modified-since': 'Sun, 02 Jun 2024 00:00:00 GMT',
    });
  });
});

describe('charsets over HTTP', () => {
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/encodings/${name}`, import.meta.url));
  it.each([
    ['shift_jis-declared.xml', 'application/rss+xml'],
    ['shift_jis-undeclared.xml', 'application/rss+xml; charset=Shift_JIS'],
    ['shift_jis-undeclared.xml', 'text/xml'],
    ['euc-jp-declared.xml', 'application/xml'],
    ['euc-jp-undeclared.xml', 'application/xml; charset=EUC-JP'],
    ['euc-jp-undeclared.xml', 'application/xml'],
  ])('%s served as %s', async (file, contentType) => {
    const server = await serve((_request, response) => response.writeHead(200, { 'content-type': contentType }).end(fixture(file)));
    const result = await fetchFeed(http, { url: server.url, network: ANY });
    expect(result.kind === 'ok' && result.text).toContain('<title>日米防衛相が会談　指揮統制の連携強化で一致</title>');
  });
});

describe('source credentials', () => {
  const credentials = (origin: string): SourceCredentials => ({ origin, headers: { authorization: 'Basic d2lyZTpodW50ZXIy', 'x-api-key': 'k-123' } });

  it.each([
    ['https://wire.example/feed.xml', 'https://wire.example', true],
    ['https://wire.example/news/1?x=1', 'https://wire.example', true],
    ['http://wire.example/feed.xml', 'https://wire.example', false], // never downgraded to plain http
    ['https://wire.example/feed.xml', 'http://wire.example', true], // upgraded on the default ports
    ['https://wire.example:8443/feed.xml', 'http://wire.example', false],
    ['http://wire.example:8080/feed.xml', 'http://wire.example:8080', true],
    ['http://wire.example:8081/feed.xml', 'http://wire.example:8080', false],
    ['https://cdn.wire.example/feed.xml', 'https://wire.example', false], // not even a subdomain
    ['https://wire.example.evil.test/feed.xml', 'https://wire.example', false],
    ['https://evil.test/?https://wire.example', 'https://wire.example', false],
  ])('%s with credentials for %s: sent %s', (target, origin, sent) => {
    const headers = credentialHeaders(new URL(target), credentials(origin));
    expect(Object.keys(headers).length > 0).toBe(sent);
  });

  it('sends them on every hop on the source own site, and on none elsewhere', async () => {
    const seen = (server: TestServer) =>
      server.requests.map((request) => [request.url, request.headers.authorization ?? null, request.headers['x-api-key'] ?? null]);
    const elsewhere = await serve((_request, response) => response.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS));
    const own = await serve((request, response) => {
      if (request.url === '/old') return response.writeHead(301, { location: '/feed.xml' }).end();
      if (request.url === '/feed.xml') return response.writeHead(302, { location: `${elsewhere.url}/mirror.xml` }).end();
      response.writeHead(404).end();
    });
    const result = await fetchFeed(http, { url: `${own.url}/old`, network: ANY, credentials: credentials(own.url) });
    expect(result.kind === 'ok' && result.finalUrl).toBe(`${elsewhere.url}/mirror.xml`);
    expect(seen(own)).toEqual([
      ['/old', 'Basic d2lyZTpodW50ZXIy', 'k-123'],
      ['/feed.xml', 'Basic d2lyZTpodW50ZXIy', 'k-123'],
    ]);
    // Another port of the same address is another site.
    expect(seen(elsewhere)).toEqual([['/mirror.xml', null, null]]);
  });
});
