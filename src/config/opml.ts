/** OPML 2.0 in and out for sources: what readers such as Miniflux and FreshRSS export and import. Pure functions. */
import { Parser } from 'htmlparser2';
import { escapeXmlAttribute } from '../model/escape.js';
import type { Source } from './load.js';

export interface OpmlFeed {
  title?: string;
  xmlUrl: string;
  htmlUrl?: string;
}

/** Every outline with an xmlUrl, at any depth (readers nest feeds in category outlines). */
export function parseOpml(text: string): OpmlFeed[] {
  const feeds: OpmlFeed[] = [];
  let sawOpml = false;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name.toLowerCase() === 'opml') sawOpml = true;
        if (name.toLowerCase() !== 'outline') return;
        const lower = Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key.toLowerCase(), value]));
        if (!lower.xmlurl) return;
        feeds.push({ xmlUrl: lower.xmlurl.trim(), title: (lower.title || lower.text)?.trim() || undefined, htmlUrl: lower.htmlurl?.trim() || undefined });
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(text);
  parser.end();
  if (!sawOpml) throw new Error('not an OPML document (no <opml> element)');
  return feeds;
}

export function renderSourcesOpml(sources: readonly Source[], dateCreated: Date): string {
  const outlines = sources
    .map((source) => `    <outline type="rss" text="${escapeXmlAttribute(source.title ?? source.id)}" title="${escapeXmlAttribute(source.title ?? source.id)}" xmlUrl="${escapeXmlAttribute(source.url)}"/>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n  <head>\n    <title>Wirefeed sources</title>\n    <dateCreated>${dateCreated.toUTCString()}</dateCreated>\n  </head>\n  <body>\n${outlines}\n  </body>\n</opml>\n`;
}
