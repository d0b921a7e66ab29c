import { initConfig } from '../config/init.js';
import { CONFIG_OPTION, defineCommand } from './command.js';

export const init = defineCommand({
  summary: 'write a starter config folder with commented examples',
  usage: 'init [--config DIR]',
  options: CONFIG_OPTION,
  async run(values) {
    for (const file of initConfig(values.config)) console.log(`wrote ${file}`);
    console.log(`next: edit them, then "wirefeed validate --config ${values.config}" and "wirefeed run --config ${values.config}"`);
    return 0;
  },
});
