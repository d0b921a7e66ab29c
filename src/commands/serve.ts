import { CONFIG_OPTION, defineCommand } from './command.js';
import { startService } from './service.js';

export const serve = defineCommand({
  summary: 'run only the feed server',
  usage: 'serve [--config DIR]',
  options: CONFIG_OPTION,
  service: true,
  run: (values) => startService(values.config, { worker: false, server: true }),
});
