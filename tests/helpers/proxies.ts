import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { type AddressInfo, connect, createServer, isIP, type Server, type Socket } from 'node:net';

/** What a test proxy was asked for. */
export interface ProxiedRequest {
  /** The method of an http URL sent to the proxy (`GET`, `POST`), `CONNECT` (a tunnel) or `SOCKS` (a SOCKS5 connection). */
  method: string;
  /** The URL of a request sent to the proxy, the `host:port` of a CONNECT or SOCKS5 connection. */
  target: string;
  /** How a SOCKS5 client gave the host: as a name, or as an address it resolved itself. */
  addressType?: 'name' | 'ipv4' | 'ipv6';
  /** The Proxy-Authorization a GET or CONNECT carried, or the SOCKS5 user:password. */
  login?: string;
  /** The headers of a GET, as the proxy received them. */
  headers?: Record<string, string | string[] | undefined>;
}

export interface TestProxy {
  url: string;
  port: number;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/** Where a test proxy connects for `host:port`: every name it is given is on this machine (`wire.internal` included). */
export type ProxyRoutes = (host: string, port: number) => { host: string; port: number };
const LOOPBACK: ProxyRoutes = (_host, port) => ({ host: '127.0.0.1', port });

function closer(server: Server, sockets: Set<Socket>) {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/** Relays two sockets both ways; either closing closes the other. */
const pipeBoth = (a: Socket, b: Socket) => {
  for (const [one, other] of [
    [a, b],
    [b, a],
  ] as const) {
    one.on('error', () => other.destroy());
    one.on('close', () => other.destroy());
  }
  a.pipe(b).pipe(a);
};

/**
 * A real HTTP proxy on 127.0.0.1, as Squid serves: http URLs requested of it (passed on with their bodies, and the
 * answers passed back) and CONNECT tunnels. With `login` ("user:password") it answers 407 to requests without it.
 */
export async function startHttpProxy(options: { login?: string; routes?: ProxyRoutes } = {}): Promise<TestProxy> {
  const routes = options.routes ?? LOOPBACK;
  const requests: ProxiedRequest[] = [];
  const loginOf = (header: string | undefined) => (header?.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString() : undefined);
  const server = createHttpServer((request, response) => {
    const login = loginOf(request.headers['proxy-authorization']);
    requests.push({ method: request.method ?? 'GET', target: request.url ?? '', ...(login ? { login } : {}), headers: request.headers });
    if (options.login && login !== options.login) {
      response.writeHead(407, { 'proxy-authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    const url = new URL(request.url ?? '');
    const to = routes(url.hostname, Number(url.port || 80));
    const { 'proxy-authorization': _, ...headers } = request.headers;
    const upstream = httpRequest(
      { host: to.host, port: to.port, method: request.method, path: `${url.pathname}${url.search}`, headers, agent: false },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.writeHead(502).end());
    request.pipe(upstream);
  });
  server.on('connect', (request, client: Socket, head: Buffer) => {
    const login = loginOf(request.headers['proxy-authorization']);
    requests.push({ method: 'CONNECT', target: request.url ?? '', ...(login ? { login } : {}) });
    if (options.login && login !== options.login) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const authority = request.url ?? '';
    const split = authority.lastIndexOf(':');
    const to = routes(authority.slice(0, split).replace(/^\[|\]$/g, ''), Number(authority.slice(split + 1)));
    const upstream = connect(to.port, to.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      pipeBoth(client, upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
  });
  const close = closer(server as unknown as Server, new Set());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, requests, close };
}

/** Reads exactly `size` bytes of a SOCKS5 client's handshake. */
function reader(socket: Socket) {
  let buffered = Buffer.alloc(0);
  let wanted: { size: number; resolve: (bytes: Buffer) => void } | undefined;
  const settle = () => {
    if (wanted && buffered.length >= wanted.size) {
      const bytes = buffered.subarray(0, wanted.size);
      buffered = buffered.subarray(wanted.size);
      const { resolve } = wanted;
      wanted = undefined;
      resolve(bytes);
    }
  };
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    settle();
  };
  socket.on('data', onData);
  return {
    read: (size: number) =>
      new Promise<Buffer>((resolve) => {
        wanted = { size, resolve };
        settle();
      }),
    done: () => socket.off('data', onData),
  };
}

/** The host of a SOCKS5 CONNECT request, by its address type. */
async function socksHost(read: (size: number) => Promise<Buffer>, type: number): Promise<{ host: string; addressType: 'name' | 'ipv4' | 'ipv6' }> {
  if (type === 1) return { host: [...(await read(4))].join('.'), addressType: 'ipv4' };
  if (type === 4) {
    const bytes = await read(16);
    const words = Array.from({ length: 8 }, (_, index) => bytes.readUInt16BE(index * 2).toString(16));
    return { host: new URL(`http://[${words.join(':')}]/`).hostname.slice(1, -1), addressType: 'ipv6' };
  }
  const [length] = await read(1);
  return { host: (await read(length!)).toString(), addressType: 'name' };
}

/**
 * A real SOCKS5 proxy on 127.0.0.1 (RFC 1928, CONNECT only), as Tor's or ssh -D's: with `login` ("user:password",
 * RFC 1929) it accepts no client without it. `refuse` answers every CONNECT with that reply code.
 */
export async function startSocksProxy(options: { login?: string; routes?: ProxyRoutes; refuse?: number } = {}): Promise<TestProxy> {
  const routes = options.routes ?? LOOPBACK;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    client.on('error', () => {});
    const { read, done } = reader(client);
    void (async () => {
      const [, count] = await read(2);
      const methods = [...(await read(count!))];
      let login: string | undefined;
      if (options.login) {
        if (!methods.includes(2)) return client.end(Buffer.from([5, 0xff]));
        client.write(Buffer.from([5, 2]));
        const [, userLength] = await read(2);
        const user = (await read(userLength!)).toString();
        const [passwordLength] = await read(1);
        login = `${user}:${(await read(passwordLength!)).toString()}`;
        if (login !== options.login) return client.end(Buffer.from([1, 1]));
        client.write(Buffer.from([1, 0]));
      } else client.write(Buffer.from([5, 0]));
      const [, , , type] = await read(4);
      const { host, addressType } = await socksHost(read, type!);
      const port = (await read(2)).readUInt16BE(0);
      requests.push({ method: 'SOCKS', target: `${isIP(host) === 6 ? `[${host}]` : host}:${port}`, addressType, ...(login ? { login } : {}) });
      done();
      const reply = (code: number) => Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
      if (options.refuse) return client.end(reply(options.refuse));
      const to = routes(host, port);
      const upstream = connect(to.port, to.host, () => {
        client.write(reply(0));
        pipeBoth(client, upstream);
      });
      upstream.on('error', () => client.end(reply(5)));
    })();
  });
  const close = closer(server, sockets);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `socks5://127.0.0.1:${port}`, port, requests, close };
}
