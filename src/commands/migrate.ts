import { databaseOptionsFromEnv, openMigratedDatabase } from '../db/client.js';
import { CONFIG_OPTION, defineCommand } from './command.js';

export const migrate = defineCommand({
  summary: 'apply database migrations and exit',
  usage: 'migrate [--config DIR]',
  // The config is not read (the database comes from DATABASE_URL / DATA_DIR), but every command takes --config.
  options: CONFIG_OPTION,
  async run() {
    const handle = await openMigratedDatabase(databaseOptionsFromEnv());
    await handle.close();
    console.log(`migrations applied (${handle.engine})`);
    return 0;
  },
});
