import { resolve } from 'node:path';
import { backupEmbeddedStore } from '../db/backup.js';
import { databaseOptionsFromEnv } from '../db/client.js';
import { defineCommand, UsageError } from './command.js';

export const backup = defineCommand({
  summary: 'copy the embedded store into a new folder while Wirefeed runs',
  usage: 'backup FOLDER',
  options: {},
  positionals: true,
  async run(_values, positionals) {
    const [folder] = positionals;
    if (!folder || positionals.length > 1) throw new UsageError('backup needs one folder to copy the store into');
    const options = databaseOptionsFromEnv();
    if (options.url) throw new UsageError('backup copies the embedded store; for a PostgreSQL server (DATABASE_URL) use pg_dump');
    const dataDir = options.dataDir ?? './data';
    const copy = await backupEmbeddedStore(dataDir, folder);
    console.log(`backed up ${resolve(dataDir)} to ${copy}`);
    return 0;
  },
});
