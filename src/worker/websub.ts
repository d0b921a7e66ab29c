import { type HttpClient, httpPost } from '../fetch/index.js';
import { log } from '../log.js';
import type { PublishSettings } from '../model/settings.js';
import type { ProxySetting } from '../model/source.js';
import { feedUrl } from '../model/urls.js';

/**
 * Tells a WebSub hub that topic feeds changed (POST hub.mode=publish, one hub.url per feed), so subscribers hear of
 * new stories at once instead of at their next poll. Failures are logged and never stop ingestion.
 */
export async function announceToHub(
  transport: { http: HttpClient; proxy?: ProxySetting | undefined },
  publish: PublishSettings,
  slugs: readonly string[],
  timeoutMs = 10_000,
): Promise<void> {
  if (!publish.hub || slugs.length === 0) return;
  if (!publish.publicUrl) {
    log.warn({ hub: publish.hub }, 'publish.hub is set but publish.publicUrl is not: the hub cannot be told which feeds changed');
    return;
  }
  const body = new URLSearchParams({ 'hub.mode': 'publish' });
  for (const slug of slugs) {
    for (const format of ['rss', 'atom', 'json'] as const) body.append('hub.url', feedUrl(publish.publicUrl, slug, format));
  }
  try {
    const status = await httpPost(transport.http, publish.hub, {
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      timeoutMs,
      proxy: transport.proxy,
    });
    if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
    log.info({ hub: publish.hub, topics: slugs }, 'hub notified');
  } catch (error) {
    log.warn({ hub: publish.hub, topics: slugs, error: (error as Error).message }, 'hub notification failed');
  }
}
