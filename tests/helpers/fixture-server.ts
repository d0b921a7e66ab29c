import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureServer {
  url: string;
  requests: IncomingMessage[];
  /** Replaces or adds a document at a path. */
  set(path: string, body: string, contentType?: string): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 serving fixture feeds with strong ETags and 304s, recording every request. */
export async function startFixtureServer(documents: Record<string, { body: string; contentType: string }> = {}): Promise<FixtureServer> {
  const files = new Map(Object.entries(documents));
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request);
    const file = files.get(new URL(request.url ?? '/', 'http://x').pathname);
    if (!file) {
      response.writeHead(404).end('not found');
      return;
    }
    const etag = `"${createHash('sha1').update(file.body).digest('hex')}"`;
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag }).end();
      return;
    }
    response.writeHead(200, { 'content-type': file.contentType, etag }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    set: (path, body, contentType = 'application/xml; charset=utf-8') => files.set(path, { body, contentType }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function seedDocument(path: string, contentType: string) {
  return { body: readFileSync(new URL(`../../seeds/${path}`, import.meta.url), 'utf8'), contentType };
}
