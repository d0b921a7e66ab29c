import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestServer {
  url: string;
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  /** Sockets currently open. */
  openSockets: Set<Socket>;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** A real HTTP server on a loopback address that counts connections and requests. */
export async function startTestServer(handler: (request: IncomingMessage, response: ServerResponse) => void, host = '127.0.0.1'): Promise<TestServer> {
  const server: Server = createServer((request, response) => {
    state.requests.push(request);
    handler(request, response);
  });
  const state: TestServer = {
    url: '',
    port: 0,
    connections: 0,
    openSockets: new Set(),
    requests: [],
    close: async () => {
      for (const socket of state.openSockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket) => {
    state.connections++;
    state.openSockets.add(socket);
    socket.on('close', () => state.openSockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://${host}:${state.port}`;
  return state;
}
