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
    const proxy = config.fetch.proxy;
    if (proxy && 'kind' in proxy) console.log(`the environment's proxies: ${describeEnvironmentProxies(proxy)}`);
    const unreachable = config.fetch.websub && config.publish.publicUrl ? callbackUnreachable(config.publish.publicUrl) : undefined;
    if (unreachable) console.log(`fetch.websub: ${unreachable}`);
    return 0;
  },
});
