import { loadConfig } from '../config/load.js';
import { describeEnvironmentProxies } from '../fetch/proxy-rules.js';
import { CONFIG_OPTION, defineCommand } from './command.js';

export const validate = defineCommand({
  summary: 'check the YAML config and print what it defines',
  usage: 'validate [--config DIR]',
  options: CONFIG_OPTION,
  async run(values) {
    const config = loadConfig(values.config);
    console.log(`${values.config}: ok (${config.sources.length} sources, ${config.topics.length} topics)`);
    const proxy = config.fetch.proxy;
    if (proxy && 'kind' in proxy) console.log(`the environment's proxies: ${describeEnvironmentProxies(proxy)}`);
    return 0;
  },
});
