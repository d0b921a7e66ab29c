/** OPML 2.0 in and out for sources: what readers such as Miniflux and FreshRSS export and import. Pure functions. */
import { Parser } from 'htmlparser2';
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import type { Source } from './load.js';

export interface OpmlFeed {
  title?: string;
  xmlUrl: string;
  htmlUrl?: string;
}

const escapeXml = (text: string) => text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[char]!);

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
    .map((source) => `    <outline type="rss" text="${escapeXml(source.title ?? source.id)}" title="${escapeXml(source.title ?? source.id)}" xmlUrl="${escapeXml(source.url)}"/>`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n  <head>\n    <title>Wirefeed sources</title>\n    <dateCreated>${dateCreated.toUTCString()}</dateCreated>\n  </head>\n  <body>\n${outlines}\n  </body>\n</opml>\n`;
}

/** A source id from a feed's title or host: lower-case letters, digits and "-". */
export function sourceIdFor(feed: OpmlFeed): string {
  const base = (feed.title ?? new URL(feed.xmlUrl).hostname.replace(/^www\./, ''))
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return base || 'feed';
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

export interface ImportResult {
  text: string;
  added: Array<{ id: string; url: string }>;
  skipped: Array<{ url: string; reason: string }>;
}

/**
 * Appends feeds as sources to a YAML file's `sources:` list, keeping its comments and layout. Feeds whose URL is
 * already configured (in any file: `existing`) are skipped, as are feeds that are not http(s).
 */
export function addSourcesToYaml(yamlText: string, feeds: readonly OpmlFeed[], existing: readonly Source[]): ImportResult {
  const text = yamlText.trim() ? yamlText : 'sources: []\n';
  const document = parseDocument(text);
  if (document.errors.length) throw new Error(`cannot edit the YAML file: ${document.errors[0]!.message.split('\n')[0]}`);
  if (document.contents !== null && !isMap(document.contents)) throw new Error('cannot edit the YAML file: its top level is not a mapping');
  let list = document.get('sources', true);
  if (!isSeq(list)) {
    list = new YAMLSeq();
    document.set('sources', list);
  }
  const sequence = list as YAMLSeq;
  const ids = new Set(existing.map((source) => source.id));
  const urls = existing.map((source) => source.url);
  const result: ImportResult = { text: '', added: [], skipped: [] };
  for (const feed of feeds) {
    if (!/^https?:\/\//i.test(feed.xmlUrl)) {
      result.skipped.push({ url: feed.xmlUrl, reason: 'not an http(s) URL' });
      continue;
    }
    if (urls.some((url) => sameUrl(url, feed.xmlUrl))) {
      result.skipped.push({ url: feed.xmlUrl, reason: 'already a source' });
      continue;
    }
    let id = sourceIdFor(feed);
    for (let n = 2; ids.has(id); n++) id = `${sourceIdFor(feed).slice(0, 36)}-${n}`;
    ids.add(id);
    urls.push(feed.xmlUrl);
    sequence.add(document.createNode({ id, url: feed.xmlUrl, ...(feed.title ? { title: feed.title } : {}) }));
    result.added.push({ id, url: feed.xmlUrl });
  }
  // Block style for the list even when the file started as "sources: []".
  sequence.flow = false;
  result.text = document.toString({ lineWidth: 0 });
  return result;
}
