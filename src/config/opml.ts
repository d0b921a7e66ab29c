/** OPML 2.0 in and out: what readers such as Miniflux and FreshRSS export and import. Pure functions. */
import { Parser } from 'htmlparser2';
import type { Source } from '../model/source.js';
import { el, serializeXml } from '../model/xml.js';

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

/** One feed in an OPML document we write. */
export interface OpmlOutline {
  title: string;
  xmlUrl: string;
  htmlUrl?: string;
  description?: string;
}

/** An OPML 2.0 document listing feeds: the one writer for our sources (opml export) and our topics (/opml). */
export function renderOpml(head: { title: string; dateCreated?: Date; dateModified?: Date }, outlines: readonly OpmlOutline[]): string {
  return serializeXml(
    el(
      'opml',
      { version: '2.0' },
      el(
        'head',
        {},
        el('title', {}, head.title),
        head.dateCreated && el('dateCreated', {}, head.dateCreated.toUTCString()),
        head.dateModified && el('dateModified', {}, head.dateModified.toUTCString()),
        el('docs', {}, 'http://opml.org/spec2.opml'),
      ),
      el(
        'body',
        {},
        outlines.map((outline) =>
          el('outline', {
            type: 'rss',
            text: outline.title,
            title: outline.title,
            xmlUrl: outline.xmlUrl,
            htmlUrl: outline.htmlUrl,
            description: outline.description,
          }),
        ),
      ),
    ),
  );
}

export function renderSourcesOpml(sources: readonly Source[], dateCreated: Date): string {
  return renderOpml(
    { title: 'Wirefeed sources', dateCreated },
    sources.map((source) => ({ title: source.title ?? source.id, xmlUrl: source.url })),
  );
}
