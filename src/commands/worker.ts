import { CONFIG_OPTION, defineCommand } from './command.js';
import { startService } from './service.js';

export const worker = defineCommand({
  summary: 'run only the scheduled fetch worker',
  usage: 'worker [--config DIR]',
  options: CONFIG_OPTION,
  service: true,
  run: (values) => startService(values.config, { worker: true, server: false }),
});
