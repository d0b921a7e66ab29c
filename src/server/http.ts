import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../app.js';
import { log } from '../log.js';
import { topicEntries } from '../store/topics.js';
import { renderIndexPage, renderTopicPage } from './page.js';
import { CONTENT_TYPES, renderFeed, type FeedFormat } from './render.js';

export interface ServerOptions {
  port?: number;
  host?: string;
  /** Public base URL (https://feeds.example.org); when unset it is taken from the request's Host header. */
  publicUrl?: string;
}

const HEADLINES_ON_INDEX = 5;
const FEED_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
};
const PAGE_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src https: http:",
};

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function baseUrlOf(request: IncomingMessage, options: ServerOptions): string {
  if (options.publicUrl) return options.publicUrl.replace(/\/+$/, '');
  const host = request.headers.host ?? `localhost:${options.port ?? 8080}`;
  return `http://${host}`;
}

export function createAppServer(app: App, options: ServerOptions = {}): Server {
  const topicsBySlug = new Map(app.config.topics.map((topic) => [topic.slug, topic]));
  const { db } = app.database;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', { allow: 'GET, HEAD' });
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    const baseUrl = baseUrlOf(request, options);
    if (url.pathname === '/healthz') return send(response, 200, 'text/plain; charset=utf-8', 'ok\n');
    if (url.pathname === '/') {
      const topics = await Promise.all(
        app.config.topics.map(async (topic) => ({ topic, latest: await topicEntries(db, topic.slug, HEADLINES_ON_INDEX) })),
      );
      return send(response, 200, 'text/html; charset=utf-8', renderIndexPage(baseUrl, topics), PAGE_SECURITY_HEADERS);
    }
    const match = /^\/topics\/([a-z0-9-]+)\.(rss|atom|json|html)$/.exec(url.pathname);
    const topic = match ? topicsBySlug.get(match[1]!) : undefined;
    if (!match || !topic) return send(response, 404, 'text/plain; charset=utf-8', 'Not found\n');
    const entries = await topicEntries(db, topic.slug, topic.limit);
    if (match[2] === 'html') {
      return send(response, 200, 'text/html; charset=utf-8', renderTopicPage(baseUrl, topic, entries), PAGE_SECURITY_HEADERS);
    }
    const format = match[2] as FeedFormat;
    return send(response, 200, CONTENT_TYPES[format], renderFeed(format, { topic, entries, baseUrl }), FEED_SECURITY_HEADERS);
  };

  return createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      log.error({ url: request.url, error: error.message }, 'request failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'Internal server error\n');
      else response.destroy();
    });
  });
}

/** Starts listening and resolves with the bound address (port 0 picks a free port). */
export async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
