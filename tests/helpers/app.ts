/** Opening and serving apps in tests: one way for every test file. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type App, openApp } from '../../src/app.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { type AppServer, createAppServer, listen, type ServerOptions } from '../../src/server/http.js';
import { ingestContext } from '../../src/worker/context.js';
import { ingestSources } from '../../src/worker/ingest.js';
import { writeConfigDir } from './config.js';

/** The offline demo the README starts with: four sources of seed files, three topics. */
export const DEMO_CONFIG = resolve(import.meta.dirname, '../../feeds/demo');

/** The demo's config in a folder of its own (its seed files named by absolute path), with `files` added to it. */
export function demoConfigWith(files: Record<string, string>): string {
  const seeds = pathToFileURL(resolve(DEMO_CONFIG, '../../seeds')).href;
  const demo = Object.fromEntries(
    readdirSync(DEMO_CONFIG)
      .filter((name) => name.endsWith('.yml'))
      .map((name) => [name, readFileSync(join(DEMO_CONFIG, name), 'utf8').replaceAll('file:../../seeds', seeds)]),
  );
  return writeConfigDir({ ...demo, ...files });
}

/** Opens an app (the demo by default) on a test database; `ingest` fetches every source once before returning. */
export async function openTestApp(database: DatabaseHandle, options: { configDir?: string; ingest?: boolean } = {}): Promise<App> {
  const app = await openApp({ configDir: options.configDir ?? DEMO_CONFIG, database });
  if (options.ingest) await ingestSources(ingestContext(app), app.config.sources);
  return app;
}

/** Opens an app for the length of `use`, and closes it whatever happens. */
export async function withTestApp<T>(database: DatabaseHandle, configDir: string, use: (app: App) => Promise<T>): Promise<T> {
  const app = await openTestApp(database, { configDir });
  try {
    return await use(app);
  } finally {
    await app.close();
  }
}

export interface ServedApp {
  server: AppServer;
  /** http://127.0.0.1:PORT, without a trailing slash. */
  base: string;
  port: number;
  /** Closes the server and its connections (the app stays open). */
  stop(): Promise<void>;
}

/** Serves an app's feed server on a free loopback port. */
export async function serveApp(app: App, options: ServerOptions = {}): Promise<ServedApp> {
  const server = createAppServer(app, options);
  const { port } = await listen(server, 0, '127.0.0.1');
  return {
    server,
    base: `http://127.0.0.1:${port}`,
    port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
