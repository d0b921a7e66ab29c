/** Feed servers on several loopback addresses (each a "host" for the per-host limit), answering after a delay. */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Corpus } from './corpus.js';
import { feedDocument } from './documents.js';

export interface FixtureHosts {
  urls: string[];
  requests: number;
  notModified: number;
  close(): Promise<void>;
}

/** Each outlet's feed: five distinct synthetic reports (templated text would all look like one story). */
const FEED = (id: number) => {
  const corpus = new Corpus(1000 + id);
  const now = Date.now();
  return feedDocument(
    'rss',
    `Outlet ${id}`,
    Array.from({ length: 5 }, (_, item) => corpus.story(item, new Date(now - item * 3_600_000), `outlet-${id}`)),
  );
};

/**
 * Feed servers for `feedCount` feeds. The documents are built before the servers listen: a remote server's work is not
 * ours, so building them per request (about 3.5 ms each) would charge the benchmark's own CPU to the pass it times.
 */
export async function startFixtureHosts(hostCount: number, delayMs: number, feedCount: number): Promise<FixtureHosts> {
  const documents = Array.from({ length: feedCount }, (_, id) => Buffer.from(FEED(id)));
  const state = { requests: 0, notModified: 0 };
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let host = 0; host < hostCount; host++) {
    const server = createServer((request, response) => {
      state.requests++;
      const id = Number(/\/feed\/(\d+)/.exec(request.url ?? '')?.[1] ?? 0);
      setTimeout(() => {
        const etag = `"outlet-${id}"`;
        if (request.headers['if-none-match'] === etag) {
          state.notModified++;
          response.writeHead(304, { etag }).end();
        } else {
          response.writeHead(200, { 'content-type': 'application/rss+xml', etag }).end(documents[id]);
        }
      }, delayMs);
    });
    const address = `127.0.0.${host + 2}`;
    await new Promise<void>((resolve) => server.listen(0, address, resolve));
    servers.push(server);
    urls.push(`http://${address}:${(server.address() as AddressInfo).port}`);
  }
  return {
    urls,
    get requests() {
      return state.requests;
    },
    get notModified() {
      return state.notModified;
    },
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}

/** A config folder with `count` sources spread over the hosts, fetched `concurrency` at a time. */
export function sourcesConfig(hosts: FixtureHosts, count: number, concurrency: number, extraYaml = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'wirefeed-bench-'));
  const sources = Array.from(
    { length: count },
    (_, index) => `  - id: outlet-${index}\n    url: ${hosts.urls[index % hosts.urls.length]}/feed/${index}\n    allowPrivateNetwork: true\n`,
  ).join('');
  writeFileSync(join(dir, 'sources.yml'), `${extraYaml}fetch:\n  concurrency: ${concurrency}\n  perHost: 2\nsources:\n${sources}`);
  return dir;
}
