/**
 * A backup of the embedded store while Wirefeed runs: Postgres's own base-backup protocol through one session
 * (pg_backup_start, a copy of the cluster's files, pg_backup_stop), then the write-ahead log written meanwhile.
 * The copy is a cluster folder that starts as it was at the end of the backup, however much was written during it.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { connectUrl, otherClients } from './client.js';
import { EmbeddedStoreError, embeddedServer } from './embedded.js';

/** Files and folders a base backup leaves out (the server recreates them); pg_wal is copied after the stop. */
const SKIPPED = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);

/** Copies the running (or stopped: it is started, then stopped again) embedded store of `dataDir` into `target`/postgres. */
export async function backupEmbeddedStore(dataDir: string, target: string): Promise<string> {
  const destination = join(resolve(target), 'postgres');
  if (existsSync(destination)) throw new EmbeddedStoreError(`${destination} exists already: back up into a new folder`);
  const server = embeddedServer(dataDir);
  const release = server.claim();
  const cluster = join(server.dataDir, 'postgres');
  const sql = await connectUrl(`postgres://postgres@localhost/postgres?host=${encodeURIComponent(server.socketDir)}`, { max: 1 });
  try {
    (await server.connect()).destroy(); // starts the server if no process runs it
    const session = await sql.reserve(); // start and stop must run in one session
    try {
      await session`select pg_backup_start('wirefeed backup', true)`;
      try {
        mkdirSync(destination, { recursive: true, mode: 0o700 });
        for (const entry of readdirSync(cluster)) {
          const from = join(cluster, entry);
          if (SKIPPED.has(entry)) {
            if (statSync(from).isDirectory()) mkdirSync(join(destination, entry), { mode: 0o700 }); // kept, empty
          } else
            cpSync(from, join(destination, entry), { recursive: true, preserveTimestamps: true, filter: (path) => !basename(path).startsWith('pgsql_tmp') });
        }
      } finally {
        const [stop] = await session<Array<{ labelfile: string; spcmapfile: string | null }>>`select labelfile, spcmapfile from pg_backup_stop(false)`;
        writeFileSync(join(destination, 'backup_label'), stop!.labelfile, { mode: 0o600 });
        if (stop!.spcmapfile) writeFileSync(join(destination, 'tablespace_map'), stop!.spcmapfile, { mode: 0o600 });
      }
      // The log from the backup's start to its end: what replays the copy to a consistent state.
      cpSync(join(cluster, 'pg_wal'), join(destination, 'pg_wal'), { recursive: true });
      return destination;
    } finally {
      session.release();
    }
  } finally {
    await sql.end({ timeout: 5 });
    release();
    await server.stopIfUnused(() => otherClients(server));
  }
}
