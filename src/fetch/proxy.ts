import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { type ClientRequestArgs, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { NetworkPolicy, ProxyRoute } from '../model/source.js';
import { percentDecoded } from '../model/urls.js';
import { FetchError, networkErrorText } from './errors.js';
import { AddressRefusedError, guardedLookup, refusalReason } from './guard.js';

const PROXY_PROTOCOLS: ReadonlySet<string> = new Set(['http:', 'socks5:', 'socks5h:']);

/** The port of a proxy URL that gives none (the environment's may not): its scheme's, as Go and curl take it. */
const DEFAULT_PORTS: Record<ProxyRoute['protocol'], number> = { http: 80, socks5: 1080, socks5h: 1080 };

/** Whether a URL names its port (`http://proxy.example:80` does, though URL drops a scheme's own port). */
function namesPort(text: string): boolean {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1] ?? '';
  return /:\d+$/.test(authority.slice(authority.lastIndexOf('@') + 1));
}

/**
 * What is wrong with a proxy's URL (`http://user:pass@host:3128`, `socks5h://127.0.0.1:9050`), or undefined. The
 * config must name the port (80 or 1080 is a guess); the environment's variables need not, as for other programs.
 */
export function proxyUrlProblem(text: string, { portRequired = true } = {}): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || !URL.canParse(text))
    return 'must be a URL with its scheme (http://proxy.example:3128, socks5://…, socks5h://…)';
  const url = new URL(text);
  if (!PROXY_PROTOCOLS.has(url.protocol)) return `must be an http://, socks5:// or socks5h:// URL, not ${url.protocol}//`;
  if (portRequired && !namesPort(text)) return "must give the proxy's port (http://proxy.example:3128)";
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '')
    return "must be the proxy's address alone, without a path or query";
  if (url.protocol !== 'http:' && (url.username.length > 255 || url.password.length > 255))
    return 'SOCKS5 takes a user name and a password of at most 255 bytes';
  return undefined;
}

/** A checked proxy URL as the fetcher uses it (see proxyUrlProblem). */
export function proxyRouteOf(text: string): ProxyRoute {
  const url = new URL(text);
  const protocol = url.protocol.slice(0, -1) as ProxyRoute['protocol'];
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || DEFAULT_PORTS[protocol];
  return {
    protocol,
    host,
    port,
    ...(url.username || url.password ? { username: percentDecoded(url.username), password: percentDecoded(url.password) } : {}),
    display: `${protocol}://${url.hostname}:${port}`,
  };
}

/** The Proxy-Authorization an HTTP proxy is sent, when it has credentials. */
export const proxyAuthorization = (route: ProxyRoute): Record<string, string> =>
  route.username === undefined ? {} : { 'proxy-authorization': `Basic ${Buffer.from(`${route.username}:${route.password ?? ''}`).toString('base64')}` };

/** Our resolver's answer for a name: its addresses, or 'not-resolved' when it knows none. */
export type ResolvedName = readonly LookupAddress[] | 'not-resolved';

/** Answers of the resolver that mean it knows no address for the name: the proxy may (an intranet's or Tor's name). */
const NOT_RESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ENODATA', 'EAI_NODATA', 'EAI_NONAME']);

/**
 * Why a name that a proxy will resolve may not be fetched, from what our own resolver says of it: refused when any
 * address it has for the name is (the proxy may pick that one); allowed when it knows none. Undefined when allowed.
 */
export function proxiedNameRefusal(addresses: ResolvedName, policy: NetworkPolicy): string | undefined {
  if (addresses === 'not-resolved') return undefined;
  for (const { address } of addresses) {
    const reason = refusalReason(address, policy);
    if (reason) return reason;
  }
  return undefined;
}

/** Our resolver's answer for a name, 'not-resolved' when it knows none. */
const resolveName = (host: string) =>
  new Promise<ResolvedName>((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, found) => {
      if (!error) resolve(found);
      else if (NOT_RESOLVED.has(error.code ?? '')) resolve('not-resolved');
      else reject(error);
    }),
  );

/** How long an answer about a proxied name is kept, and how many names are. */
const NAME_TTL_MS = 60_000;
const MAX_NAMES = 1_000;

/**
 * Our resolver's answers for the names fetched through proxies, kept a minute: behind a proxy the local resolver often
 * knows no outside name, and may take seconds to say so (a network without its own DNS), which every fetch of every
 * source on that host would otherwise wait out. Created once with the HTTP client.
 */
export class ProxiedNames {
  private readonly answers = new Map<string, { until: number; answer: Promise<ResolvedName> }>();

  constructor(
    private readonly lookup: (host: string) => Promise<ResolvedName> = resolveName,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The address guard for a fetch through a proxy that resolves names itself (http, socks5h): the proxy connects, so
   * the name is checked here first by our own resolver (throws AddressRefusedError). A socks5 proxy is given the
   * address the guard chose instead, as a direct connection is.
   */
  async check(host: string, route: ProxyRoute, policy: NetworkPolicy): Promise<void> {
    if (route.protocol === 'socks5' || policy.kind === 'any' || isIP(host)) return;
    const reason = proxiedNameRefusal(await this.answerFor(host), policy);
    if (reason) throw new AddressRefusedError(host, reason);
  }

  private answerFor(host: string): Promise<ResolvedName> {
    const kept = this.answers.get(host);
    if (kept && kept.until > this.now()) return kept.answer;
    this.answers.delete(host);
    if (this.answers.size >= MAX_NAMES) this.answers.delete(this.answers.keys().next().value!);
    const answer = this.lookup(host);
    this.answers.set(host, { until: this.now() + NAME_TTL_MS, answer });
    // A failed lookup (not a "no such name") is not kept: the next fetch asks again.
    answer.catch(() => this.answers.delete(host));
    return answer;
  }
}

/** Reads a handshake's fixed-size answers from a socket, then hands the socket over with nothing read ahead. */
function handshakeReader(socket: Socket) {
  let buffered = Buffer.alloc(0);
  let waiting: { size: number; resolve: (bytes: Buffer) => void; reject: (error: Error) => void } | undefined;
  let failure: Error | undefined;
  const settle = () => {
    if (!waiting) return;
    if (buffered.length >= waiting.size) {
      const bytes = buffered.subarray(0, waiting.size);
      buffered = buffered.subarray(waiting.size);
      const { resolve } = waiting;
      waiting = undefined;
      resolve(bytes);
    } else if (failure) {
      const { reject } = waiting;
      waiting = undefined;
      reject(failure);
    }
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    settle();
  };
  const onEnd = () => {
    failure ??= new Error('the proxy closed the connection');
    settle();
  };
  socket.on('data', onData).on('end', onEnd).on('close', onEnd);
  return {
    read: (size: number) =>
      new Promise<Buffer>((resolve, reject) => {
        waiting = { size, resolve, reject };
        settle();
      }),
    release() {
      // Not paused: the HTTP client or TLS takes the socket as it is (nothing arrives before they send).
      socket.off('data', onData).off('end', onEnd).off('close', onEnd);
      if (buffered.length > 0) socket.unshift(buffered);
    },
  };
}

const SOCKS_REPLIES = [
  'succeeded',
  'general failure',
  'not allowed by its rules',
  'network unreachable',
  'host unreachable',
  'connection refused',
  'TTL expired',
  'command not supported',
  'address type not supported',
];

/** The SOCKS5 address of a target: IPv4, IPv6 or a name (at most 255 bytes). */
function socksAddress(host: string): Buffer {
  const family = isIP(host);
  if (family === 4) return Buffer.from([1, ...host.split('.').map(Number)]);
  if (family === 6) {
    const groups = new URL(`http://[${host}]/`).hostname.slice(1, -1);
    const [head = '', tail = ''] = groups.split('::');
    const parts = (text: string) => (text === '' ? [] : text.split(':'));
    const words = [...parts(head), ...Array(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)];
    return Buffer.concat([Buffer.from([4]), Buffer.from(words.flatMap((word) => [(Number.parseInt(word, 16) >> 8) & 255, Number.parseInt(word, 16) & 255]))]);
  }
  const name = Buffer.from(host);
  if (name.length > 255) throw new FetchError(`host name ${host.slice(0, 40)}… is too long for a SOCKS5 proxy`, 'network');
  return Buffer.concat([Buffer.from([3, name.length]), name]);
}

/** RFC 1928 (and RFC 1929's user name and password): a connection to `host:port` through a SOCKS5 proxy. */
async function socksHandshake(socket: Socket, route: ProxyRoute, host: string, port: number): Promise<void> {
  const reader = handshakeReader(socket);
  const login = route.username !== undefined;
  socket.write(Buffer.from(login ? [5, 2, 0, 2] : [5, 1, 0]));
  const [version, method] = await reader.read(2);
  if (version !== 5) throw new FetchError(`${route.display} does not answer as a SOCKS5 proxy`, 'network');
  if (method === 2 && login) {
    const user = Buffer.from(route.username!);
    const password = Buffer.from(route.password ?? '');
    socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([password.length]), password]));
    const [, status] = await reader.read(2);
    if (status !== 0) throw new FetchError(`the proxy ${route.display} refused its user name and password`, 'network');
  } else if (method !== 0) {
    throw new FetchError(
      `the proxy ${route.display} accepts none of the ways to log in offered${login ? '' : ' (it may want a user name and password)'}`,
      'network',
    );
  }
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), socksAddress(host), Buffer.from([port >> 8, port & 255])]));
  const [, reply, , type] = await reader.read(4);
  if (reply !== 0) {
    const meaning = SOCKS_REPLIES[reply ?? 1] ?? `reply ${reply}`;
    throw new FetchError(`the proxy ${route.display} could not connect to ${host}:${port}: ${meaning}`, 'network');
  }
  const addressSize = type === 1 ? 4 : type === 4 ? 16 : (await reader.read(1))[0]!;
  await reader.read(addressSize + 2);
  reader.release();
}

const proxyUnreachable = (route: ProxyRoute, error: unknown) =>
  new FetchError(`cannot reach the proxy ${route.display}: ${networkErrorText(error)}`, 'network');

/** An HTTP CONNECT tunnel to `host:port` through the proxy. */
function connectTunnel(route: ProxyRoute, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: route.host,
      port: route.port,
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(route) },
      agent: false,
    });
    const timer = setTimeout(() => request.destroy(new FetchError(`connect timeout through the proxy ${route.display}`, 'timeout')), timeoutMs);
    request.once('connect', (response, socket, head) => {
      clearTimeout(timer);
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        socket.destroy();
        const login = status === 407 ? ' (it wants a user name and password, or refused the ones given)' : '';
        reject(
          new FetchError(
            `the proxy ${route.display} refused a tunnel to ${authority}: HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd() + login,
            'network',
          ),
        );
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    request.once('error', (error) => {
      clearTimeout(timer);
      reject(error instanceof FetchError ? error : proxyUnreachable(route, error));
    });
    request.end();
  });
}

/** A TCP connection to `host:port` through a SOCKS5 proxy. */
function socksTunnel(route: ProxyRoute, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(route.port, route.host);
    const fail = (error: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error instanceof FetchError ? error : proxyUnreachable(route, error));
    };
    const timer = setTimeout(() => fail(new FetchError(`connect timeout through the proxy ${route.display}`, 'timeout')), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      socksHandshake(socket, route, host, port).then(() => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(socket);
      }, fail);
    });
  });
}

/** The address a socks5 proxy is given for a name: the guard's choice, as a direct connection makes it. */
function guardedAddress(host: string, policy: NetworkPolicy): Promise<string> {
  if (isIP(host)) return Promise.resolve(host);
  return new Promise((resolve, reject) =>
    guardedLookup(policy)(host, { all: false }, (error, address) => (error ? reject(error) : resolve(address as string))),
  );
}

/** Request options the fetcher adds for its agents: how long setting up a tunnel may take. */
export interface TunnelRequestOptions extends ClientRequestArgs {
  connectTimeoutMs?: number;
}

const DEFAULT_TUNNEL_TIMEOUT_MS = 10_000;

/** A connection to the request's host through the proxy: CONNECT for an http proxy, else SOCKS5. */
async function tunnel(route: ProxyRoute, policy: NetworkPolicy, options: TunnelRequestOptions): Promise<Socket> {
  const host = String(options.host ?? options.hostname ?? '').replace(/^\[|\]$/g, '');
  const port = Number(options.port);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_TUNNEL_TIMEOUT_MS;
  if (route.protocol === 'http') return connectTunnel(route, host, port, timeoutMs);
  const target = route.protocol === 'socks5' ? await guardedAddress(host, policy) : host;
  return socksTunnel(route, target, port, timeoutMs);
}

type Created = (error: Error | null, stream: Duplex) => void;

/** Plain http through a SOCKS5 proxy: each pooled connection is a tunnel. */
class TunnelHttpAgent extends HttpAgent {
  constructor(
    private readonly route: ProxyRoute,
    private readonly policy: NetworkPolicy,
    options: ConstructorParameters<typeof HttpAgent>[0],
  ) {
    super(options);
  }

  override createConnection(options: TunnelRequestOptions, created?: Created): undefined {
    tunnel(this.route, this.policy, options).then(
      (socket) => created?.(null, socket),
      (error: Error) => created?.(error, undefined as never),
    );
    return undefined;
  }
}

/** https through a proxy: TLS with the site itself over a tunnel, its certificate checked against its name. */
class TunnelHttpsAgent extends HttpsAgent {
  constructor(
    private readonly route: ProxyRoute,
    private readonly policy: NetworkPolicy,
    options: ConstructorParameters<typeof HttpsAgent>[0],
  ) {
    super(options);
  }

  override createConnection(options: TunnelRequestOptions & { servername?: string }, created?: Created): undefined {
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_TUNNEL_TIMEOUT_MS;
    tunnel(this.route, this.policy, options)
      .then(
        (socket) =>
          new Promise<Duplex>((resolve, reject) => {
            const host = String(options.host ?? '').replace(/^\[|\]$/g, '');
            const secure = tlsConnect({ socket, servername: options.servername || (isIP(host) ? undefined : host) });
            const timer = setTimeout(() => secure.destroy(new FetchError('TLS handshake timeout', 'timeout')), timeoutMs);
            const failed = (error: Error) => {
              clearTimeout(timer);
              reject(error);
            };
            secure.once('error', failed).once('secureConnect', () => {
              clearTimeout(timer);
              secure.off('error', failed);
              resolve(secure);
            });
          }),
      )
      .then(
        (socket) => created?.(null, socket),
        (error: Error) => created?.(error, undefined as never),
      );
    return undefined;
  }
}

/**
 * The connection pools of a policy through a proxy. Over an http proxy, plain http requests go to the proxy itself
 * (it fetches the URL they name), https ones through CONNECT tunnels; over SOCKS5 both go through tunnels.
 */
export function proxyPools(route: ProxyRoute, policy: NetworkPolicy, options: { keepAlive: boolean; timeout: number }): { http: HttpAgent; https: HttpsAgent } {
  return {
    http: route.protocol === 'http' ? new HttpAgent(options) : new TunnelHttpAgent(route, policy, options),
    https: new TunnelHttpsAgent(route, policy, options),
  };
}

/** Whether requests for `protocol` URLs go to the proxy itself, naming the whole URL (plain http over an http proxy). */
export const sentToProxy = (route: ProxyRoute | undefined, protocol: string): route is ProxyRoute => route?.protocol === 'http' && protocol === 'http:';
