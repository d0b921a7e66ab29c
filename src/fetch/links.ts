import type { IncomingHttpHeaders } from 'node:http';
import { type HubLinks, noteHubLink } from '../model/source.js';

/** One link of a Link header: `<URL>` and its parameters up to the next one. One pass, linear in the header's size. */
const LINK = /<([^>]*)>([^<]*)/g;
const REL = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i;

/**
 * The WebSub links of an HTTP Link header (`<https://hub.example/>; rel="hub", <https://wire.example/feed>;
 * rel="self"`), which WebSub reads before the document's own: the first hub and self, as written.
 */
export function hubLinksOf(headers: IncomingHttpHeaders): HubLinks | undefined {
  const header = headers.link;
  if (!header) return undefined;
  const found: HubLinks = {};
  for (const [, url, parameters] of (Array.isArray(header) ? header.join(', ') : header).matchAll(LINK)) {
    const rel = REL.exec(parameters!);
    noteHubLink(found, rel?.[1] ?? rel?.[2] ?? '', url!.trim());
  }
  return found.hub ? found : undefined;
}
