import type { App } from '../../src/app.js';
import { createAppServer, listen, type AppServer, type ServerOptions } from '../../src/server/http.js';

export interface ServedApp {
  server: AppServer;
  /** http://127.0.0.1:PORT, without a trailing slash. */
  base: string;
  port: number;
  /** Closes the server and its connections (the app stays open). */
  stop(): Promise<void>;
}

/** Serves an open app's feed server on a free loopback port. */
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
