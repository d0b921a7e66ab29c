import { loadConfig } from '../config/load.js';
import { describeEnvironmentProxies } from '../fetch/proxy-rules.js';
import { callbackUnreachable } from '../worker/subscriptions.js';
import { CONFIG_OPTION, defineCommand } from './command.js';

export const validate = defineCommand({
  summary: 'check the YAML config and print what it defines',
  usage: 'validate [--config DIR]',
  options: CONFIG_OPTION,
  async run(values) {
    const config = loadConfig(values.config);
    console.log(`${values.config}: ok (${config.sources.length} sources, ${config.topics.length} topics)`);
    const proxies = describeEnvironmentProxies(config.fetch.proxy);
    if (proxies) console.log(`the environment's proxies: ${proxies}`);
    const unreachable = callbackUnreachable(config);
    if (unreachable) console.log(`fetch.websub: ${unreachable}`);
    return 0;
  },
});
