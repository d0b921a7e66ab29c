import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import type { HubLinks, NetworkPolicy, ProxyRoute, ProxySetting, SourceCredentials } from '../model/source.js';
import { type CacheHints, FetchError, networkErrorText } from './errors.js';
import { AddressRefusedError, guardedLookup, refusalReason } from './guard.js';
import { HostLimiter } from './host-limit.js';
import { hubLinksOf } from './links.js';
import { ProxiedNames, proxyAuthorization, proxyPools, sentToProxy, type TunnelRequestOptions } from './proxy.js';
import { routeFor } from './proxy-rules.js';

const DEFAULT_PER_HOST = 2;
/** How long a pooled connection may sit idle: under the 5 s servers commonly keep one open. */
const IDLE_SOCKET_MS = 4_000;
/** A body not wanted (redirect, 304, error page) is drained for the connection's sake only up to this size. */
const DRAIN_LIMIT = 64 * 1024;

export const USER_AGENT = 'Wirefeed/0.1 (+https://github.com/wirefeed/wirefeed; feed aggregator)';

export interface HttpFetchOptions {
  etag?: string | null;
  lastModified?: string | null;
  network: NetworkPolicy;
  /** Whole-fetch deadline, redirects and body included; it starts once the per-host limit lets the request go. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Abandons the fetch (shutdown); the FetchError then has kind 'aborted'. */
  signal?: AbortSignal;
  /** Cap on the body after decompression. */
  maxBytes: number;
  maxRedirects: number;
  /** Headers for the source's own site: sent on the hops that are on it (credentialHeaders), on no other. */
  credentials?: SourceCredentials | undefined;
  /** The proxy the hops go through (the environment's chosen per hop, by its URL); none: straight to the site. */
  proxy?: ProxySetting | undefined;
}

export interface Redirect {
  status: number;
  from: string;
  to: string;
}

/**
 * The source's own headers for a request to `target`: its configured origin, or the same host upgraded from http to
 * https on the default ports. None for any other site, as browsers drop Authorization on a cross-origin redirect:
 * a feed that redirects elsewhere, or an item page on another site, never sees the source's credentials.
 */
export function credentialHeaders(target: URL, credentials: SourceCredentials | undefined): Record<string, string> {
  if (!credentials) return {};
  const origin = new URL(credentials.origin);
  const upgraded =
    origin.protocol === 'http:' && target.protocol === 'https:' && origin.port === '' && target.port === '' && origin.hostname === target.hostname;
  return target.origin === origin.origin || upgraded ? credentials.headers : {};
}

export type HttpResult =
  | { kind: 'not-modified'; status: 304; finalUrl: string; redirects: Redirect[]; hints: CacheHints; push?: HubLinks }
  | {
      kind: 'ok';
      status: number;
      body: Buffer;
      contentType?: string;
      etag?: string;
      lastModified?: string;
      finalUrl: string;
      redirects: Redirect[];
      hints: CacheHints;
      /** The WebSub hub and self links of the response's Link header. */
      push?: HubLinks;
    };

/** The connection pools of one network policy: one per scheme, each connecting through the address guard. */
interface Pools {
  http: HttpAgent;
  https: HttpsAgent;
}

/**
 * The HTTP side of fetching: connection pools per network policy and the per-host limit. Created once per process by
 * the app and passed down; `close()` ends its pooled connections. Node's own http/https clients: undici's parser is a
 * WebAssembly module whose compilation alone raised a fetching process's RSS by 20-50 MB.
 */
export class HttpClient {
  private readonly pools = new Map<string, Pools>();
  private readonly hostLimiter: HostLimiter;
  /** Our resolver's answers for the names fetched through proxies (see ProxiedNames). */
  readonly proxiedNames = new ProxiedNames();

  constructor(options: { perHost?: number } = {}) {
    this.hostLimiter = new HostLimiter(options.perHost ?? DEFAULT_PER_HOST);
  }

  /** How many requests may run at once against one host; a config reload may change it, in-flight requests counted. */
  setPerHostLimit(limit: number): void {
    this.hostLimiter.setPerHost(limit);
  }

  /** Waits for a slot on `host` (see HostLimiter). */
  acquireHost(host: string, signal?: AbortSignal): Promise<() => void> {
    return this.hostLimiter.acquire(host, signal);
  }

  /** The pools of a policy, straight or through a proxy (whose own address no policy checks: the operator chose it). */
  poolsFor(policy: NetworkPolicy, proxy?: ProxyRoute): Pools {
    const key = JSON.stringify([policy, proxy ?? null]);
    let pools = this.pools.get(key);
    if (!pools) {
      const options = { keepAlive: true, timeout: IDLE_SOCKET_MS };
      const guarded = { ...options, lookup: guardedLookup(policy) as never };
      pools = proxy ? proxyPools(proxy, policy, options) : { http: new HttpAgent(guarded), https: new HttpsAgent(guarded) };
      this.pools.set(key, pools);
    }
    return pools;
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    for (const { http, https } of this.pools.values()) {
      http.destroy();
      https.destroy();
    }
    this.pools.clear();
  }
}

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function hintsOf(headers: Record<string, string | string[] | undefined>): CacheHints {
  const hints: CacheHints = {};
  for (const [key, name] of [
    ['date', 'date'],
    ['cacheControl', 'cache-control'],
    ['expires', 'expires'],
    ['retryAfter', 'retry-after'],
  ] as const) {
    const value = header(headers, name);
    if (value) hints[key] = value;
  }
  return hints;
}

/** Reads a body through its Content-Encoding, stopping as soon as the decoded size passes `maxBytes`. */
async function readBody(body: Readable, encoding: string | undefined, maxBytes: number, status: number): Promise<Buffer> {
  const coding = encoding?.trim().toLowerCase();
  const decoder = coding === 'gzip' || coding === 'x-gzip' || coding === 'deflate' ? createUnzip() : coding === 'br' ? createBrotliDecompress() : undefined;
  const stream: Readable = decoder ? body.pipe(decoder) : body;
  if (decoder) body.on('error', (error) => decoder.destroy(error));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (total > maxBytes) throw new FetchError(`body exceeds the ${maxBytes}-byte limit`, 'too-large', status);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof FetchError) throw error;
    if ((error as { code?: string }).code?.startsWith('Z_')) throw new FetchError(`cannot decode ${coding} body: ${(error as Error).message}`, 'http', status);
    throw error;
  } finally {
    body.destroy();
    decoder?.destroy();
  }
  return Buffer.concat(chunks, total);
}

function describe(error: unknown, deadline: AbortSignal, stop?: AbortSignal, proxy?: ProxyRoute): FetchError {
  if (stop?.aborted) return new FetchError('abandoned: shutting down', 'aborted');
  if (error instanceof FetchError) return error;
  if (deadline.aborted) return new FetchError('deadline exceeded', 'timeout');
  const cause = error as { code?: string; message?: string; cause?: unknown };
  if (error instanceof AddressRefusedError || cause.cause instanceof AddressRefusedError) {
    return new FetchError((cause.cause instanceof AddressRefusedError ? cause.cause : (error as Error)).message, 'refused');
  }
  return new FetchError(`request failed${proxy ? ` through the proxy ${proxy.display}` : ''}: ${networkErrorText(error)}`, 'network');
}

/** One request of a fetch or a POST: where, how, and the connections it goes over. */
interface Exchange {
  target: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  pools: Pools;
  signal: AbortSignal;
  connectTimeoutMs: number;
  proxy?: ProxyRoute | undefined;
}

/**
 * One request, answered when the response's head is in. A pooled connection the server closed as we reused it (the
 * keep-alive race: ECONNRESET before any byte of the answer) is retried once on a new connection, as GET allows (a
 * POST is not sent twice: its sender retries later).
 */
function send(exchange: Exchange): Promise<IncomingMessage> {
  const { target, method, headers, pools, signal, connectTimeoutMs, proxy } = exchange;
  const secure = target.protocol === 'https:';
  const open = () => {
    if (sentToProxy(proxy, target.protocol)) {
      // The request goes to the proxy, naming the whole URL; Host still names the site.
      const path = `${target.protocol}//${target.host}${target.pathname}${target.search}`;
      const toProxy = { ...headers, host: target.host, ...proxyAuthorization(proxy) };
      return httpRequest({ host: proxy.host, port: proxy.port, path, method, headers: toProxy, signal, agent: pools.http });
    }
    const options: TunnelRequestOptions = { method, headers, signal, agent: secure ? pools.https : pools.http, connectTimeoutMs };
    return secure ? httpsRequest(target, options) : httpRequest(target, options);
  };
  const attempt = (retried: boolean): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const request = open();
      let answered = false;
      request.once('response', (response) => {
        answered = true;
        if (response.statusCode !== 407 || !sentToProxy(proxy, target.protocol)) return resolve(response);
        discard(response);
        reject(new FetchError(`the proxy ${proxy.display} answered HTTP 407 (it wants a user name and password, or refused the ones given)`, 'network', 407));
      });
      // Listened to for the request's whole life: an error after the head (the body's reader sees it) must not crash.
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (answered) return;
        answered = true;
        const raced = request.reusedSocket && error.code === 'ECONNRESET' && method === 'GET';
        if (raced && !retried && !signal.aborted) resolve(attempt(true));
        else reject(error);
      });
      // The connect timeout runs from the socket's assignment until it is ready to carry the request: the name
      // looked up, connected, and over https the TLS handshake done.
      request.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => request.destroy(new FetchError('connect timeout', 'timeout')), connectTimeoutMs);
        const clear = () => clearTimeout(timer);
        socket.once(secure ? 'secureConnect' : 'connect', clear).once('close', clear);
      });
      request.end(exchange.body);
    });
  return attempt(false);
}

const pushOf = (response: IncomingMessage): { push?: HubLinks } => {
  const push = hubLinksOf(response.headers);
  return push ? { push } : {};
};

/** Lets go of a body we do not read: a small one is drained so its connection can be reused, a large one is cut. */
function discard(response: IncomingMessage): void {
  const length = Number(response.headers['content-length'] ?? Number.NaN);
  if (response.statusCode === 304 || length <= DRAIN_LIMIT) response.resume();
  else response.destroy();
}

/** A URL's host as a name or an address (an IPv6 one without its brackets). */
const bareHost = (target: URL) => target.hostname.replace(/^\[|\]$/g, '');

/** The address guard for a URL whose host is an address: names are checked at connect time (or before a proxy is asked). */
function refuseLiteral(target: URL, network: NetworkPolicy): void {
  const literal = bareHost(target);
  if (!isIP(literal)) return;
  const reason = refusalReason(literal, network);
  if (reason) throw new FetchError(`refused to connect to ${target.host}: ${reason}`, 'refused');
}

/**
 * One hop's request, straight or through the proxy (the name checked first where the proxy resolves it), its failure
 * described.
 */
async function sendHop(
  client: HttpClient,
  target: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  deadline: AbortSignal,
  options: HttpFetchOptions,
): Promise<IncomingMessage> {
  const { network } = options;
  const proxy = routeFor(options.proxy, target);
  try {
    if (proxy) await client.proxiedNames.check(bareHost(target), proxy, network);
    const pools = client.poolsFor(network, proxy);
    return await send({ target, method: 'GET', headers, pools, signal, connectTimeoutMs: options.connectTimeoutMs, proxy });
  } catch (error) {
    throw describe(error, deadline, options.signal, proxy);
  }
}

/**
 * GETs a URL the careful way: conditional headers, the address guard on every hop (literal IPs here, names at
 * connect time, or before the proxy is asked), redirects followed by hand and counted, a deadline over the whole exchange, the per-host limit, and
 * a cap on the decoded body. Why it is long: one loop over the redirect hops, each with its checks in order.
 */
export async function httpFetch(client: HttpClient, startUrl: string, options: HttpFetchOptions): Promise<HttpResult> {
  // Started at the first slot: a small feed queued behind heavy ones on its host is not charged for their time.
  let deadline: AbortSignal | undefined;
  let signal: AbortSignal | undefined;
  const redirects: Redirect[] = [];
  let url = startUrl;
  for (;;) {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new FetchError(`refused to fetch ${target.protocol} URL ${url}`, 'refused');
    }
    refuseLiteral(target, options.network);
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      accept: 'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8',
      'accept-encoding': 'gzip, deflate, br',
    };
    Object.assign(headers, credentialHeaders(target, options.credentials));
    if (options.etag) headers['if-none-match'] = options.etag;
    if (options.lastModified) headers['if-modified-since'] = options.lastModified;

    const release = await client.acquireHost(target.host, options.signal).catch(() => {
      throw new FetchError('abandoned: shutting down', 'aborted');
    });
    deadline ??= AbortSignal.timeout(options.timeoutMs);
    signal ??= options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
    const hopDeadline = deadline;
    try {
      const response = await sendHop(client, target, headers, signal, hopDeadline, options);
      const status = response.statusCode ?? 0;
      const hints = hintsOf(response.headers);
      const location = header(response.headers, 'location');
      if (status >= 300 && status < 400 && status !== 304 && location) {
        discard(response);
        const next = new URL(location, url).href;
        redirects.push({ status, from: url, to: next });
        if (redirects.length > options.maxRedirects) {
          throw new FetchError(`more than ${options.maxRedirects} redirects (last to ${next})`, 'redirects', status);
        }
        if (redirects.some((hop) => hop.from === next)) throw new FetchError(`redirect loop at ${next}`, 'redirects', status);
        url = next;
        continue;
      }
      if (status === 304) {
        discard(response);
        return { kind: 'not-modified', status: 304, finalUrl: url, redirects, hints, ...pushOf(response) };
      }
      if (status < 200 || status >= 300) {
        discard(response);
        const kind = status === 410 ? 'gone' : 'http';
        throw new FetchError(`HTTP ${status}${status === 410 ? ' Gone' : ''}`, kind, status, hints);
      }
      const body = await readBody(response, header(response.headers, 'content-encoding'), options.maxBytes, status).catch((error: unknown) => {
        throw describe(error, hopDeadline, options.signal);
      });
      return {
        kind: 'ok',
        status,
        body,
        contentType: header(response.headers, 'content-type'),
        etag: header(response.headers, 'etag'),
        lastModified: header(response.headers, 'last-modified'),
        finalUrl: url,
        redirects,
        hints,
        ...pushOf(response),
      };
    } finally {
      release();
    }
  }
}

/** A POST to a URL the operator gave: what it carries, how long it may take, and the way it goes. */
export interface PostRequest {
  body: string;
  headers: Record<string, string>;
  /** The whole exchange, connecting included, up to the response's head. */
  timeoutMs: number;
  proxy?: ProxySetting | undefined;
  /** The addresses it may reach: any for the operator's own URLs (webhooks, the publishing hub); a feed's hub, its source's. */
  network?: NetworkPolicy;
  /** Abandons the POST (shutdown); the FetchError then has kind 'aborted'. */
  signal?: AbortSignal | undefined;
}

/** Operators' own URLs (webhooks, hubs) may be on any address: they are theirs, not a feed's. */
const OPERATOR_ADDRESS: NetworkPolicy = { kind: 'any' };

/**
 * POSTs to a URL the operator gave (a webhook, a WebSub hub), over the pooled connections, through the proxy when
 * given; no redirect is followed (its status is the answer). Answers the status once the head is in, letting the
 * body go. Throws FetchError.
 */
export async function httpPost(client: HttpClient, url: string, request: PostRequest): Promise<number> {
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
  const headers = { 'user-agent': USER_AGENT, ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
  const target = new URL(url);
  const proxy = routeFor(request.proxy, target);
  const network = request.network ?? OPERATOR_ADDRESS;
  try {
    refuseLiteral(target, network);
    if (proxy) await client.proxiedNames.check(bareHost(target), proxy, network);
    const response = await send({
      target,
      method: 'POST',
      headers,
      body: request.body,
      pools: client.poolsFor(network, proxy),
      signal,
      connectTimeoutMs: request.timeoutMs,
      proxy,
    });
    discard(response);
    return response.statusCode ?? 0;
  } catch (error) {
    throw describe(error, deadline, request.signal, proxy);
  }
}
