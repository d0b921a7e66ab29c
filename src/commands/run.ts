import { CONFIG_OPTION, defineCommand } from './command.js';
import { startService } from './service.js';

export const run = defineCommand({
  summary: 'run the worker and the feed server in one process (what npm start does)',
  usage: 'run [--config DIR]',
  options: CONFIG_OPTION,
  service: true,
  run: (values) => startService(values.config, { worker: true, server: true }),
});
